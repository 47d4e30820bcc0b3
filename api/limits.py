"""What a client may send, how long it may take, and the headers every answer carries.

- ``HttpProtocol`` (the HTTP/1.1 server protocol, uvicorn's httptools one with two guards): a
  request's line and headers must arrive within ``header_timeout_seconds`` of the connection
  opening (or of the previous response on a kept-alive connection), else 408 and the connection is
  closed; and they must fit in ``max_header_bytes``, else 431 and closed. uvicorn alone holds an
  idle or slowly-sent connection open indefinitely. ``python -m logistics_api`` uses it; with
  uvicorn's own command line: ``--http logistics_api.limits:HttpProtocol`` (limits from the
  ``LOGISTICS_*`` environment).
- ``RequestLimits`` (ASGI middleware, any server): header count (431), query string length (414)
  and parameter count (400), JSON body size (413, uploads excepted), the wait for each piece of a
  request body (408, and the connection closed); one trailing slash is ignored (``/2/footprints/``
  is ``/2/footprints``, never a redirect that clients follow without their credentials); and the
  security headers: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``, a content security policy (``default-src 'none'`` for data,
  same-origin assets only for the documentation pages) and, on HTTPS, ``Strict-Transport-Security``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings, env_float, env_int

log = logging.getLogger("logistics_api.limits")

UPLOAD_PATHS = ("/v1/uploads", "/v1/own-tables", "/pages/uploads")  # multipart files: their own, larger limits
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc (served by the service itself): scripts and styles from this origin only;
# inline styles, data: images and blob: workers are what these two use.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'none'")
HSTS_SECONDS = 365 * 24 * 3600


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"code": code, "message": message}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus a deadline and a size bound for each request head."""

    header_timeout = Settings.header_timeout_seconds
    max_header_bytes = Settings.max_header_bytes

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_size = 0  # bytes of the current request's line and headers, as parsed
        self._refused = False
        self._arm()

    def _arm(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._disarm()
        self._refused = True
        if not self.transport.is_closing():
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
            log.info("%s: %d %s", client, status, message)
            self.transport.write(_raw_response(status, reason, "BadRequest", message))
            self.transport.close()

    def _head_late(self) -> None:
        self._head_timer = None
        self._refuse(408, "Request Timeout", f"the request line and headers did not arrive within {self.header_timeout:g} s")

    def _too_large(self) -> None:
        self._refuse(431, "Request Header Fields Too Large",
                     f"the request line and headers exceed {self.max_header_bytes} bytes")

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        awaiting_head = self._head_timer is not None
        super().data_received(data)
        if awaiting_head and self._head_timer is not None:  # still no complete head after this data
            self._head_bytes += len(data)  # a head sent in pieces is bounded before it is complete
            if self._head_bytes > self.max_header_bytes:
                self._too_large()

    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        if self._head_size > self.max_header_bytes:  # a whole head that arrived at once
            self._too_large()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()  # the next request on this kept-alive connection has the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[HttpProtocol]:
    """``HttpProtocol`` with the settings' limits."""
    return type("HttpProtocol", (HttpProtocol,), {"header_timeout": settings.header_timeout_seconds,
                                                  "max_header_bytes": settings.max_header_bytes})


# ``--http logistics_api.limits:HttpProtocol`` on uvicorn's command line: limits from the environment.
HttpProtocol.header_timeout = env_float(os.environ, "LOGISTICS_HEADER_TIMEOUT_SECONDS", HttpProtocol.header_timeout)
HttpProtocol.max_header_bytes = env_int(os.environ, "LOGISTICS_MAX_HEADER_BYTES", HttpProtocol.max_header_bytes)


class RequestLimits:
    """ASGI middleware: the limits and headers of the module docstring."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        s = self.settings
        secure = scope.get("scheme") == "https"
        headers = scope.get("headers") or []
        if len(headers) > s.max_headers:
            return await _answer(send, 431, f"{len(headers)} header fields: at most {s.max_headers}", secure)
        query = scope.get("query_string") or b""
        if len(query) > s.max_query_bytes:
            return await _answer(send, 414, f"the query string exceeds {s.max_query_bytes} bytes", secure)
        params = sum(1 for pair in query.split(b"&") if pair)
        if params > s.max_query_params:
            return await _answer(send, 400, f"{params} query parameters: at most {s.max_query_params}", secure)
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/",
                     "raw_path": (scope.get("raw_path") or path.encode()).rstrip(b"/") or b"/"}
        body_limit = None if scope["path"].startswith(UPLOAD_PATHS) else s.max_body_bytes
        declared = dict(headers).get(b"content-length")
        if body_limit is not None and declared is not None and declared.isdigit() and int(declared) > body_limit:
            return await _answer(send, 413, f"the request body exceeds the limit of {body_limit} bytes", secure)

        body_done, seen, started = False, 0, False
        refusal: tuple[int, str] | None = None  # once set, the app sees a disconnect and the client this

        async def limited_receive():
            nonlocal body_done, seen, refusal
            if refusal is not None:
                return {"type": "http.disconnect"}
            if body_done:  # waiting for a disconnect only: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), s.body_timeout_seconds)
            except TimeoutError:
                refusal = (408, f"no part of the request body arrived for {s.body_timeout_seconds:g} s")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if body_limit is not None and seen > body_limit:
                    refusal = (413, f"the request body exceeds the limit of {body_limit} bytes")
                    return {"type": "http.disconnect"}
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def guarded_send(message):
            nonlocal started
            if refusal is not None:  # the app's answer to the disconnect it was shown is not sent
                if not started:
                    started = True
                    await _answer(send, *refusal, secure)
                return
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _with_security(message.get("headers") or [], secure)}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not started:
            await _answer(send, *refusal, secure)


def _with_security(headers: list[tuple[bytes, bytes]], secure: bool) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)
    extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
             (b"referrer-policy", b"no-referrer"),
             (b"content-security-policy", (PAGE_CSP if html else DATA_CSP).encode())]
    if secure:
        extra.append((b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode()))
    return list(headers) + [(name, value) for name, value in extra if name not in present]


REASONS = {400: "BadRequest", 408: "BadRequest", 413: "PayloadTooLarge", 414: "BadRequest", 431: "BadRequest"}


async def _answer(send, status: int, message: str, secure: bool) -> None:
    body = json.dumps({"code": REASONS[status], "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (408, 413):  # the rest of the body will not be read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": _with_security(headers, secure)})
    await send({"type": "http.response.body", "body": body})
