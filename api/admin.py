"""Administration of the service's database: ``python -m logistics_api.admin COMMAND``.

    python -m logistics_api.admin add-client "Shipper Co" --role recipient     # prints client id and secret
    python -m logistics_api.admin add-client "Our TMS" --role operator
    python -m logistics_api.admin add-client "PACT conformance" --callback-url https://host/ \\
        --callback-client-id ID --callback-client-secret SECRET     # where its request answers go
    python -m logistics_api.admin set-callback ID --callback-url ... --callback-client-id ... --callback-client-secret ...
    python -m logistics_api.admin list-clients | rotate-secret ID | disable-client ID | enable-client ID | migrate

The database is ``LOGISTICS_DATABASE_URL`` (or ``--database-url``). Client secrets are printed once
and stored only as scrypt hashes. Our own secret at a client's host is sealed with the service's
``LOGISTICS_TOKEN_KEY`` (which must then be set here too), since the service has to present it.
"""

from __future__ import annotations

import os
import re
import secrets

import typer

from .auth import hash_secret, new_secret, seal
from .settings import DEFAULT_DATABASE_URL
from .storage import Client, Store, StoreError
from .urls import callback_base

app = typer.Typer(name="logistics-co2-admin", help="Clients and schema of the logistics-co2 service.", no_args_is_help=True,
                  add_completion=False)

DatabaseUrl = typer.Option(None, "--database-url", help="default: $LOGISTICS_DATABASE_URL or " + DEFAULT_DATABASE_URL)


def open_store(url: str | None) -> Store:
    store = Store(url or os.environ.get("LOGISTICS_DATABASE_URL", DEFAULT_DATABASE_URL))
    store.migrate()
    return store


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"


def add_client(store: Store, name: str, role: str = "recipient", client_id: str | None = None,
               secret: str | None = None, callback_url: str | None = None, callback_client_id: str | None = None,
               callback_client_secret: str | None = None, sealing_key: str | None = None) -> tuple[str, str]:
    """Register a client; returns (client_id, secret). The function behind ``add-client``.
    ``sealing_key`` (the service's token key) seals ``callback_client_secret``."""
    if role not in ("recipient", "operator"):
        raise StoreError("role must be recipient or operator")
    client_id = client_id or f"{_slug(name)}-{secrets.token_hex(4)}"
    secret = secret or new_secret()
    store.add_client(Client(client_id, name, role, hash_secret(secret), True, _callback(callback_url), callback_client_id,
                            _sealed(callback_client_secret, sealing_key, client_id)))
    return client_id, secret


def _callback(url: str | None) -> str | None:
    """The client's event host, normalised (``urls.callback_base``); StoreError when unusable."""
    if url is None:
        return None
    try:
        return callback_base(url)
    except ValueError as exc:
        raise StoreError(str(exc)) from exc


def _sealed(secret: str | None, key: str | None, client_id: str) -> str | None:
    if secret is None:
        return None
    try:
        return seal(secret, key or "", client_id)
    except ValueError as exc:
        raise StoreError(f"a callback client secret is stored sealed with the service's key: {exc}") from exc


def _env_key() -> str | None:
    return os.environ.get("LOGISTICS_TOKEN_KEY") or None


@app.command("add-client")
def add_client_command(
    name: str = typer.Argument(..., help="who the client is, e.g. the shipper's company"),
    role: str = typer.Option("recipient", help="recipient (PACT data recipient) or operator (uploads, jobs)"),
    client_id: str | None = typer.Option(None, help="default: derived from the name"),
    secret: str | None = typer.Option(None, help="default: a random secret (recommended)"),
    callback_url: str | None = typer.Option(None, help="the client's PACT host, where answers to its requests go"),
    callback_client_id: str | None = typer.Option(None, help="our client id at that host"),
    callback_client_secret: str | None = typer.Option(None, help="our secret at that host"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Register a client and print its credentials (shown only this once)."""
    try:
        ident, value = add_client(open_store(database_url), name, role, client_id, secret, callback_url,
                                  callback_client_id, callback_client_secret, sealing_key=_env_key())
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"client_id={ident}\nclient_secret={value}")


@app.command("set-callback")
def set_callback(
    client_id: str,
    callback_url: str = typer.Option(..., help="the client's PACT host, where answers to its requests go"),
    callback_client_id: str = typer.Option(..., help="our client id at that host"),
    callback_client_secret: str = typer.Option(..., help="our secret at that host (stored sealed)"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Set or replace where a client's request answers go and our credentials there."""
    try:
        sealed = _sealed(callback_client_secret, _env_key(), client_id)
        callback_url = _callback(callback_url)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not open_store(database_url).update_client(client_id, callback_url=callback_url,
                                                  callback_client_id=callback_client_id, callback_secret=sealed):
        typer.echo(f"error: no client {client_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{client_id}: callback {callback_url}")


@app.command("list-clients")
def list_clients(database_url: str | None = DatabaseUrl) -> None:
    for c in open_store(database_url).clients():
        typer.echo(f"{c.client_id}\t{c.role}\t{'active' if c.active else 'disabled'}\t{c.name}\t{c.callback_url or ''}")


@app.command("rotate-secret")
def rotate_secret(client_id: str, database_url: str | None = DatabaseUrl) -> None:
    """A new secret for the client (the old one stops working; tokens already issued run out)."""
    value = new_secret()
    if not open_store(database_url).update_client(client_id, secret_hash=hash_secret(value)):
        typer.echo(f"error: no client {client_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"client_id={client_id}\nclient_secret={value}")


def _set_active(client_id: str, active: bool, database_url: str | None) -> None:
    if not open_store(database_url).update_client(client_id, active=active):
        typer.echo(f"error: no client {client_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{client_id}: {'enabled' if active else 'disabled'}")


@app.command("disable-client")
def disable_client(client_id: str, database_url: str | None = DatabaseUrl) -> None:
    """Refuse the client's credentials and tokens from now on."""
    _set_active(client_id, False, database_url)


@app.command("enable-client")
def enable_client(client_id: str, database_url: str | None = DatabaseUrl) -> None:
    _set_active(client_id, True, database_url)


@app.command("migrate")
def migrate(database_url: str | None = DatabaseUrl) -> None:
    """Create or upgrade the schema (the service also does this when it starts)."""
    store = open_store(database_url)
    typer.echo(f"schema version {store.schema_version()}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
