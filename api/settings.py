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
| LOGISTICS_DEMO | off | ``1``: random token key if none is set, demo data and a demo client |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

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
    demo: bool = False
    run_workers: bool = True  # job and event-delivery workers; off in tests that drive them by hand

    def __post_init__(self) -> None:
        if len(self.token_key) < MIN_KEY_LENGTH:
            raise SettingsError(f"LOGISTICS_TOKEN_KEY must be set to a secret of at least {MIN_KEY_LENGTH} characters "
                                "(or run in demo mode: LOGISTICS_DEMO=1)")
        if self.token_seconds <= 0 or self.max_body_bytes <= 0 or self.max_batch_shipments <= 0 or self.job_attempts <= 0:
            raise SettingsError("token lifetime, limits and job attempts must be positive")

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _int(env: dict, name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {env[name]!r}") from exc


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
        token_seconds=_int(env, "LOGISTICS_TOKEN_SECONDS", 3600),
        pack=env.get("LOGISTICS_PACK", "glec-v3.0"),
        tocs=env.get("LOGISTICS_TOCS") or None,
        hocs=env.get("LOGISTICS_HOCS") or None,
        exchange_config=env.get("LOGISTICS_EXCHANGE_CONFIG") or None,
        max_body_bytes=_int(env, "LOGISTICS_MAX_BODY_BYTES", 4 * 1024 * 1024),
        max_batch_shipments=_int(env, "LOGISTICS_MAX_BATCH_SHIPMENTS", 1000),
        max_upload_bytes=_int(env, "LOGISTICS_MAX_UPLOAD_BYTES", 2 * 1024**3),
        job_lease_seconds=float(env.get("LOGISTICS_JOB_LEASE_SECONDS", 30)),
        job_attempts=_int(env, "LOGISTICS_JOB_ATTEMPTS", 3),
        demo=demo,
    )
    values.update(overrides)
    return Settings(**values)
