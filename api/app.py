"""The FastAPI application: ``create_app(settings)``; ``uvicorn logistics_api.app:create_app --factory`` reads
the settings from the environment (see ``logistics_api.settings``)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

import logistics

from . import docs, errors, outbox, pact, pages, v1
from .auth import Tokens
from .calc import Calculator
from .jobs import JobWorker
from .limits import RequestLimits
from .settings import Settings, from_env
from .storage import Store

log = logging.getLogger("logistics_api")

DESCRIPTION = """GLEC Framework v3.0 / ISO 14083 logistics emissions as a service.

* **/v1**: calculate shipments (per-leg and total TTW/WTT/WTW with provenance, or iLEAP / PACT
  documents with `?format=`), upload legs files (CSV or Parquet) as jobs.
* **PACT host**: `/auth/token` (OAuth2 client credentials), `/2/footprints`, `/2/events`,
  `/2/ileap/tad` (PACT v2.3 + iLEAP v1.0.0) and `/3/footprints`, `/3/events` (PACT v3.0).
  Each client sees only the footprints shared with it.

Errors have one shape: `{"code", "message", "errors"?: [{"path", "reason", "location"}]}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or from_env()
    settings.base_url()  # required: links and the token issuer never come from a request's Host

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state = app.state
        await state.store.call(state.store.migrate)
        await state.calculator.start()
        tasks = []
        if settings.run_workers:
            state.worker = JobWorker(state.store, state.calculator, settings.data_dir, settings.job_lease_seconds,
                                     settings.job_attempts, public_url=settings.base_url())
            state.worker.start()
            tasks.append(asyncio.create_task(outbox.run(state.store, state.outbox_wakeup, settings.token_key), name="outbox"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if state.worker is not None:
                await asyncio.to_thread(state.worker.stop)
            await state.calculator.stop()
            await asyncio.to_thread(state.store.close)

    app = FastAPI(
        title="logistics-co2",
        version=logistics.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=errors.COMMON_RESPONSES,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # a trailing slash is ignored instead (limits.RequestLimits)
    )
    app.state.settings = settings
    app.state.store = Store(settings.database_url, settings.db_threads)
    app.state.tokens = Tokens(settings.token_key, settings.token_seconds)
    app.state.calculator = Calculator(settings.pack, settings.tocs, settings.hocs, settings.exchange_config)
    app.state.worker = None
    app.state.outbox_wakeup = asyncio.Event()
    errors.install(app)
    app.include_router(v1.router)
    app.include_router(pact.router)
    docs.install(app)
    pages.install(app)
    app.add_middleware(RequestLimits, settings=settings)
    return app
