"""Delivery of the events this host owes (answers to footprint requests), from the ``outbox`` table.

An answer is queued in the same transaction that accepts the request, so an acknowledged request
is answered even if the process dies in between. Delivery follows PACT: authenticate at the
requester's host (OpenID discovery, else ``/auth/token``) with the credentials the admin registered
for that client (the secret unsealed with the service's key), POST the event to its
``/{2|3}/events``; on failure retry with exponential backoff until the deadline (3 days).
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from .auth import unseal
from .storage import Store, now_us

log = logging.getLogger("logistics_api.outbox")

MAX_BACKOFF_SECONDS = 3600
POLL_SECONDS = 1.0


async def _token(http: httpx.AsyncClient, base: str, client_id: str, secret: str) -> str:
    token_url = f"{base}/auth/token"
    try:
        discovery = await http.get(f"{base}/.well-known/openid-configuration")
        if discovery.status_code == 200:
            token_url = discovery.json().get("token_endpoint") or token_url
    except (httpx.HTTPError, ValueError):
        pass
    answer = await http.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    answer.raise_for_status()
    return answer.json()["access_token"]


async def deliver(store: Store, http: httpx.AsyncClient, item: dict, key: str) -> None:
    client = await store.call(store.client, item["client_id"])
    attempts = item["attempts"] + 1
    try:
        if client is None or not (client.callback_client_id and client.callback_secret):
            raise RuntimeError("no credentials registered for the client's host (admin: --callback-client-id/-secret)")
        base = item["target"].rsplit(f"/{item['api']}/events", 1)[0]
        token = await _token(http, base, client.callback_client_id, unseal(client.callback_secret, key, client.client_id))
        answer = await http.post(item["target"], content=item["body"], headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json; charset=UTF-8"})
        answer.raise_for_status()
    except Exception as exc:
        retry_at = now_us() + min(2 ** attempts, MAX_BACKOFF_SECONDS) * 1_000_000
        status = "failed" if retry_at > item["deadline_us"] else "pending"
        log.warning("event %s to %s: attempt %d failed: %s", item["seq"], item["target"], attempts, exc)
        await store.call(store.outgoing_result, item["seq"], status, attempts, retry_at, str(exc)[:500])
        return
    await store.call(store.outgoing_result, item["seq"], "sent", attempts, now_us(), None)


async def run(store: Store, wakeup: asyncio.Event, key: str, http: httpx.AsyncClient | None = None) -> None:
    """Deliver due events until cancelled; ``key`` unseals the stored callback secrets."""
    own = http is None
    http = http or httpx.AsyncClient(timeout=10.0)
    try:
        while True:
            for item in await store.call(store.due_outgoing):
                await deliver(store, http, item, key)
            try:
                await asyncio.wait_for(wakeup.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            wakeup.clear()
    finally:
        if own:
            await http.aclose()
