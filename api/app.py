"""The FastAPI application: ``create_app(settings)``; ``uvicorn logistics_api.app:create_app --factory`` reads
the settings from the environment (see ``logistics_api.settings``)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

import logistics

from . import errors, outbox, pact, v1
from .auth import Tokens
from .calc import Calculator
from .jobs import JobWorker
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


class BodyLimit:
    """Refuses JSON bodies over ``limit`` bytes with 413 (by Content-Length, or while streaming);
    uploads have their own, larger limit and are left to their endpoint."""

    def __init__(self, app, limit: int, exempt: tuple[str, ...] = ("/v1/uploads",)):
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send):
        response = errors.error_response(413, "PayloadTooLarge", f"the request body exceeds the limit of {self.limit} bytes")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(response.body)).encode())]})
        await send({"type": "http.response.body", "body": response.body})


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state = app.state
        state.store.migrate()
        await state.calculator.start()
        tasks = []
        if settings.run_workers:
            state.worker = JobWorker(state.store, state.calculator, settings.data_dir, settings.job_lease_seconds,
                                     settings.job_attempts)
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
            state.store.close()

    app = FastAPI(
        title="logistics-co2",
        version=logistics.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=errors.COMMON_RESPONSES,
    )
    app.state.settings = settings
    app.state.store = Store(settings.database_url)
    app.state.tokens = Tokens(settings.token_key, settings.token_seconds)
    app.state.calculator = Calculator(settings.pack, settings.tocs, settings.hocs, settings.exchange_config)
    app.state.worker = None
    app.state.outbox_wakeup = asyncio.Event()
    errors.install(app)
    app.include_router(v1.router)
    app.include_router(pact.router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
