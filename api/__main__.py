"""``python -m logistics_api``: run the service with uvicorn.

    python -m logistics_api --demo                    # embedded SQLite, demo data, prints demo credentials;
                                                      # then sign in at http://127.0.0.1:8000/pages
    python -m logistics_api --host 0.0.0.0 --port 8443 --ssl-certfile cert.pem --ssl-keyfile key.pem

Settings come from ``LOGISTICS_*`` environment variables (``logistics_api.settings``). PACT requires HTTPS:
give ``--ssl-certfile``/``--ssl-keyfile`` (uvicorn's TLS), or terminate TLS in a reverse proxy. Serve
TLS only: the conformance tests check that plain HTTP fails. ``LOGISTICS_PUBLIC_URL`` (the URL
clients use) defaults to the listening address, which must then not be a wildcard.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from .auth import hash_secret, new_secret
from .limits import protocol_for
from .settings import Settings, from_env
from .storage import Client, Store

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_CLIENTS = (
    ("demo-shipper", "recipient", "Demo Shipper (PACT data recipient)"),
    ("demo-carrier", "operator", "Demo Carrier operations (uploads)"),
)


def seed_demo(settings: Settings) -> dict[str, str]:
    """Demo clients with fresh secrets (returned, as only hashes are stored) and the demo legs file
    queued as a job shared with the demo shipper (once: same idempotency key on every start)."""
    store = Store(settings.database_url)
    try:
        store.migrate()
        secrets_by_client = {}
        for client_id, role, name in DEMO_CLIENTS:
            secret = new_secret()
            if store.client(client_id) is None:
                store.add_client(Client(client_id, name, role, hash_secret(secret), True))
            else:
                store.update_client(client_id, secret_hash=hash_secret(secret), active=True)
            secrets_by_client[client_id] = secret
        uploads = settings.data_dir / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        ident = uuid.uuid4().hex
        copy = uploads / f"{ident}.csv"
        shutil.copyfile(DEMO_DIR / "legs.csv", copy)
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
        _, created = store.create_job({"id": ident, "owner": "demo-carrier", "idempotency_key": "demo-data",
                                       "sha256": digest, "filename": "legs.csv", "path": str(copy),
                                       "share_with": ["demo-shipper"]})
        if not created:
            copy.unlink()
    finally:
        store.close()
    return secrets_by_client


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="logistics-co2-serve", description="Run the logistics-co2 HTTP service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="demo data and clients; a random token key if none is set")
    parser.add_argument("--ssl-certfile")
    parser.add_argument("--ssl-keyfile")
    parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a "
                        "TLS-terminating proxy: the client's address for the token limits, https for HSTS)")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    import uvicorn

    from .app import create_app

    overrides = {}
    if args.demo and not os.environ.get("LOGISTICS_EXCHANGE_CONFIG"):
        overrides["exchange_config"] = str(DEMO_DIR / "exchange.toml")
    if args.demo:
        overrides["demo"] = True
    scheme = "https" if args.ssl_certfile else "http"
    if not os.environ.get("LOGISTICS_PUBLIC_URL"):
        overrides["public_url"] = listen_url(scheme, args.host, args.port)
    settings = from_env(**overrides)
    if args.demo:
        credentials = seed_demo(settings)
        print(f"logistics-co2 demo on {scheme}://{args.host}:{args.port} (OpenAPI docs: /docs), "
              f"database {settings.database_url}")
        for client_id, _role, name in DEMO_CLIENTS:
            print(f"  {name}: client_id={client_id} client_secret={credentials[client_id]}")
        print(f"  token: curl -s -u demo-shipper:{credentials['demo-shipper']} -d grant_type=client_credentials "
              f"{scheme}://{args.host}:{args.port}/auth/token")
        print(f"  pages: open {scheme}://{args.host}:{args.port}/pages and sign in as demo-carrier (its upload, "
              "report and sheets) or demo-shipper (the footprints shared with it), with the secret above", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, ssl_certfile=args.ssl_certfile,
                ssl_keyfile=args.ssl_keyfile, proxy_headers=args.proxy_headers,
                forwarded_allow_ips=args.forwarded_allow_ips, log_level=args.log_level, access_log=False,
                http=protocol_for(settings), limit_concurrency=settings.max_connections)


def listen_url(scheme: str, host: str, port: int) -> str:
    """The public base URL when LOGISTICS_PUBLIC_URL is not set: the listening address itself,
    which only makes sense when it is the one clients use. A wildcard address is not one."""
    if host in ("0.0.0.0", "::", ""):
        raise SystemExit(f"listening on {host or 'every address'}: set LOGISTICS_PUBLIC_URL to the URL clients use "
                         "(e.g. https://pact.example.com); links and the token issuer never come from a request")
    return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


if __name__ == "__main__":
    main()
