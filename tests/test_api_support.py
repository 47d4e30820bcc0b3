"""Shared helpers for the API tests (imported by the other ``test_api_*`` modules): settings on a
temp directory, an in-process client, a real server process on loopback, both storage backends."""

from __future__ import annotations

import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from logistics_api.admin import add_client
from logistics_api.app import create_app
from logistics_api.settings import Settings
from logistics_api.storage import Store

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "api" / "demo" / "exchange.toml"
DEMO_LEGS = REPO / "api" / "demo" / "legs.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "api"
TOKEN_KEY = "test-token-key-" + "x" * 40
POSTGRES_URL = os.environ.get("LOGISTICS_TEST_POSTGRES_URL")
SERVER_START_SECONDS = 60


def settings_for(tmp: Path, **changes) -> Settings:
    values = dict(database_url=f"sqlite:///{tmp / 'db.sqlite'}", data_dir=tmp / "data", token_key=TOKEN_KEY,
                  exchange_config=str(DEMO_CONFIG), run_workers=False, public_url="http://testserver")
    values.update(changes)
    return Settings(**values)


@contextmanager
def app_client(settings: Settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def register(settings: Settings, name: str, role: str = "recipient", **extra) -> tuple[str, str]:
    store = Store(settings.database_url)
    try:
        store.migrate()
        return add_client(store, name, role, sealing_key=settings.token_key, **extra)
    finally:
        store.close()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def bearer(http, client_id: str, secret: str) -> dict[str, str]:
    answer = http.post("/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def upload(http, headers: dict, path: Path, share_with: str = "", key: str | None = None, name: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    with open(path, "rb") as f:
        return http.post("/v1/uploads", headers={**headers, **extra},
                         files={"file": (name or path.name, f, "text/csv")}, data={"share_with": share_with})


def trust(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python -m api`` on a free loopback port, with LOGISTICS_* env (and TLS: (cert, key))."""

    def __init__(self, tmp: Path, tls: tuple[Path, Path] | None = None, **env: str):
        self.tmp, self.port, self.tls = tmp, free_port(), tls
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LOGISTICS_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite'}",
                    "LOGISTICS_DATA_DIR": str(tmp / "data"), "LOGISTICS_TOKEN_KEY": TOKEN_KEY,
                    "LOGISTICS_EXCHANGE_CONFIG": str(DEMO_CONFIG), **env}
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        self.log = open(self.tmp / f"server-{self.port}.log", "ab")
        tls = ["--ssl-certfile", str(self.tls[0]), "--ssl-keyfile", str(self.tls[1])] if self.tls else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logistics_api", "--port", str(self.port), "--log-level", "warning", *tls],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.tmp / f'server-{self.port}.log').read_text()[-2000:]}")
            try:
                probe = httpx.get(f"{self.base}/.well-known/openid-configuration", timeout=1,
                                  verify=trust(self.tls[0]) if self.tls else True)
                if probe.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """The same storage tests on the embedded default and on PostgreSQL (when CI provides one)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("LOGISTICS_TEST_POSTGRES_URL not set (CI starts one with .ci/postgres.sh)")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


def wait_for(predicate, seconds: float, step: float = 0.1):
    """Poll until ``predicate()`` returns something truthy; returns it, or fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {seconds} s")
