"""Service settings, read from ``LOGISTICS_*`` environment variables (never from the repository).

| variable | default | meaning |
|---|---|---|
| LOGISTICS_DATABASE_URL | ``sqlite:///./logistics.sqlite`` | ``sqlite:///PATH`` (embedded) or ``postgresql://user:pw@host/db`` |
| LOGISTICS_DATA_DIR | ``./logistics-data`` | uploaded files and job outputs |
| LOGISTICS_TOKEN_KEY | (required unless demo) | secret that signs access tokens; at least 32 characters |
| LOGISTICS_TOKEN_SECONDS | ``3600`` | access-token lifetime |
| LOGISTICS_PACK | ``glec-v3.0`` | factor pack name or directory |
| LOGISTICS_TOCS / LOGISTICS_HOCS | none | the carrier's own TOC / HOC tables (CSV or Parquet) |
| LOGISTICS_EXCHANGE_CONFIG | none | PACT/iLEAP publisher settings (TOML/JSON, ``logistics.exchange.load_config``) |
| LOGISTICS_MAX_BODY_BYTES | ``4194304`` | JSON request body limit (413 above) |
| LOGISTICS_MAX_BATCH_SHIPMENTS | ``1000`` | shipments per batch request (413 above) |
| LOGISTICS_MAX_UPLOAD_BYTES | ``2147483648`` | upload file limit (413 above) |
| LOGISTICS_JOB_LEASE_SECONDS | ``30`` | a running job not heard from for this long is taken over (crashed worker) |
| LOGISTICS_JOB_ATTEMPTS | ``3`` | attempts before a job is marked failed |
| LOGISTICS_PUBLIC_URL | (required; ``python -m logistics_api`` derives it from a loopback ``--host``) | the base URL clients use, ``https://pact.example.com``: the token issuer, pagination and job links and event sources (never taken from a request's ``Host``) |
| LOGISTICS_AUTH_FAILURES_PER_CLIENT | ``10`` | failed token requests per client id within the window; more → 429 |
| LOGISTICS_AUTH_FAILURES_PER_ADDRESS | ``20`` | failed token requests per remote address within the window; more → 429 |
| LOGISTICS_AUTH_FAILURE_WINDOW_SECONDS | ``60`` | the window of those two limits |
| LOGISTICS_HEADER_TIMEOUT_SECONDS | ``10`` | a request's line and headers must arrive within this time of the connection (or the previous response); else 408 and closed |
| LOGISTICS_BODY_TIMEOUT_SECONDS | ``30`` | longest wait for the next piece of a request body; else 408 and closed |
| LOGISTICS_MAX_HEADER_BYTES | ``16384`` | request line and headers (431 above) |
| LOGISTICS_MAX_HEADERS | ``100`` | header fields per request (431 above) |
| LOGISTICS_MAX_QUERY_BYTES | ``8192`` | query string (414 above) |
| LOGISTICS_MAX_QUERY_PARAMS | ``100`` | query parameters per request (400 above) |
| LOGISTICS_MAX_CONNECTIONS | ``1000`` | open connections and requests per process (503 above) |
| LOGISTICS_DB_THREADS | ``8`` | threads (and database connections) serving requests' database work, per process |
| LOGISTICS_DEMO | off | ``1``: random token key if none is set, demo data and a demo client |
"""  # noqa: E501 - a table row cannot wrap

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///./logistics.sqlite"
MIN_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A setting is missing or unusable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = Path("./logistics-data")
    token_key: str = field(default="", repr=False)
    token_seconds: int = 3600
    pack: str = "glec-v3.0"
    tocs: str | None = None
    hocs: str | None = None
    exchange_config: str | None = None
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_shipments: int = 1000
    max_upload_bytes: int = 2 * 1024**3
    job_lease_seconds: float = 30.0
    job_attempts: int = 3
    public_url: str | None = None
    auth_failures_per_client: int = 10
    auth_failures_per_address: int = 20
    auth_failure_window_seconds: float = 60.0
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_query_bytes: int = 8 * 1024
    max_query_params: int = 100
    max_connections: int = 1000
    db_threads: int = 8
    demo: bool = False
    run_workers: bool = True  # job and event-delivery workers; off in tests that drive them by hand

    def __post_init__(self) -> None:
        if len(self.token_key) < MIN_KEY_LENGTH:
            raise SettingsError(f"LOGISTICS_TOKEN_KEY must be set to a secret of at least {MIN_KEY_LENGTH} characters "
                                "(or run in demo mode: LOGISTICS_DEMO=1)")
        limits = (self.token_seconds, self.max_body_bytes, self.max_batch_shipments, self.job_attempts,
                  self.auth_failures_per_client, self.auth_failures_per_address, self.auth_failure_window_seconds,
                  self.header_timeout_seconds, self.body_timeout_seconds, self.max_header_bytes, self.max_headers,
                  self.max_query_bytes, self.max_query_params, self.max_connections, self.db_threads)
        if min(limits) <= 0:
            raise SettingsError("token lifetime, limits, timeouts and job attempts must be positive")
        if self.public_url is not None:
            object.__setattr__(self, "public_url", public_url(self.public_url))

    def base_url(self) -> str:
        """The public base URL (no trailing slash); SettingsError when it was not configured."""
        if not self.public_url:
            raise SettingsError("LOGISTICS_PUBLIC_URL must be set to the base URL clients use (https://host[:port]); "
                                "links and the token issuer are never taken from a request's Host header")
        return self.public_url

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def public_url(url: str) -> str:
    """``url`` checked as a base URL (http or https, a host, no query or fragment), without a
    trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"LOGISTICS_PUBLIC_URL must be an http(s) URL with a host and no query, got {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path}".rstrip("/")


def env_int(env, name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {env[name]!r}") from exc


def env_float(env, name: str, default: float) -> float:
    try:
        return float(env.get(name, default))
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {env[name]!r}") from exc


def from_env(env: dict | None = None, **overrides) -> Settings:
    env = dict(os.environ if env is None else env)
    demo = overrides.pop("demo", env.get("LOGISTICS_DEMO", "").lower() in ("1", "true", "yes"))
    key = env.get("LOGISTICS_TOKEN_KEY", "")
    if not key and demo:
        key = secrets.token_urlsafe(48)  # tokens then last as long as the process
    values = dict(
        database_url=env.get("LOGISTICS_DATABASE_URL", DEFAULT_DATABASE_URL),
        data_dir=Path(env.get("LOGISTICS_DATA_DIR", "./logistics-data")),
        token_key=key,
        token_seconds=env_int(env, "LOGISTICS_TOKEN_SECONDS", 3600),
        pack=env.get("LOGISTICS_PACK", "glec-v3.0"),
        tocs=env.get("LOGISTICS_TOCS") or None,
        hocs=env.get("LOGISTICS_HOCS") or None,
        exchange_config=env.get("LOGISTICS_EXCHANGE_CONFIG") or None,
        max_body_bytes=env_int(env, "LOGISTICS_MAX_BODY_BYTES", 4 * 1024 * 1024),
        max_batch_shipments=env_int(env, "LOGISTICS_MAX_BATCH_SHIPMENTS", 1000),
        max_upload_bytes=env_int(env, "LOGISTICS_MAX_UPLOAD_BYTES", 2 * 1024**3),
        job_lease_seconds=env_float(env, "LOGISTICS_JOB_LEASE_SECONDS", 30),
        job_attempts=env_int(env, "LOGISTICS_JOB_ATTEMPTS", 3),
        public_url=env.get("LOGISTICS_PUBLIC_URL") or None,
        auth_failures_per_client=env_int(env, "LOGISTICS_AUTH_FAILURES_PER_CLIENT", 10),
        auth_failures_per_address=env_int(env, "LOGISTICS_AUTH_FAILURES_PER_ADDRESS", 20),
        auth_failure_window_seconds=env_float(env, "LOGISTICS_AUTH_FAILURE_WINDOW_SECONDS", 60),
        header_timeout_seconds=env_float(env, "LOGISTICS_HEADER_TIMEOUT_SECONDS", 10),
        body_timeout_seconds=env_float(env, "LOGISTICS_BODY_TIMEOUT_SECONDS", 30),
        max_header_bytes=env_int(env, "LOGISTICS_MAX_HEADER_BYTES", 16 * 1024),
        max_headers=env_int(env, "LOGISTICS_MAX_HEADERS", 100),
        max_query_bytes=env_int(env, "LOGISTICS_MAX_QUERY_BYTES", 8 * 1024),
        max_query_params=env_int(env, "LOGISTICS_MAX_QUERY_PARAMS", 100),
        max_connections=env_int(env, "LOGISTICS_MAX_CONNECTIONS", 1000),
        db_threads=env_int(env, "LOGISTICS_DB_THREADS", 8),
        demo=demo,
    )
    values.update(overrides)
    return Settings(**values)
