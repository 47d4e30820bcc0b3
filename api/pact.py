"""The PACT host: authentication, footprint listing (v2.3 at /2, v3.0 at /3), events, iLEAP TAD.

- ``GET /.well-known/openid-configuration``, ``POST /auth/token`` (client credentials, Basic auth).
- ``GET /2/footprints`` (``limit``, ``$filter``: the PACT 2.x OData subset, else 400
  ``NotImplemented``), ``GET /2/footprints/{id}``, ``POST /2/events``, ``GET /2/ileap/tad``.
- ``GET /3/footprints`` (``limit`` and the v3 filters: productId, companyId, geography,
  classification (repeatable, OR within, AND across, case-insensitive), validOn, validAfter,
  validBefore, status), ``GET /3/footprints/{id}``, ``POST /3/events``.
- Pagination: ``Link: <absolute URL>; rel="next"``; the link carries the position and the snapshot
  the listing started from, so it gives the same page every time it is followed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .auth import DUMMY_HASH, basic_credentials, check_secret
from .documents import parse_time, to_us
from .errors import ApiError, ErrorBody
from .odata import TooComplex, Unsupported, compile_filter
from .security import pact_client, tad_client
from .storage import Client, now_us
from .urls import same_host

router = APIRouter()
log = logging.getLogger("logistics_api.pact")

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_TAD_FILTERS = 20  # TAD properties filtered on at once (each is a condition of the query)
MAX_EVENT_DEPTH = 32  # nesting of a received event's JSON (PACT events nest 5 or 6 levels)
RESPONSE_DEADLINE_SECONDS = 3 * 24 * 3600  # PACT: retry a response event for at most 3 days

EVENT_TYPES = {
    2: {
        "created": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "published": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
        "fulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
        "rejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
    },
    3: {
        "created": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "published": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "fulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "rejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
    },
}
NOT_FOUND_CODE = {2: "NoSuchFootprint", 3: "NotFound"}

ERRORS = {
    400: {"model": ErrorBody, "description": "BadRequest (also: invalid access token) or NotImplemented"},
    401: {"model": ErrorBody, "description": "TokenExpired"},
    403: {"model": ErrorBody, "description": "AccessDenied"},
    500: {"model": ErrorBody, "description": "InternalError"},
}


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class DocumentList(BaseModel):
    data: list[dict[str, Any]]


class DocumentOne(BaseModel):
    data: dict[str, Any]


def _base(request: Request) -> str:
    """The service's public base URL: configured, never taken from the request's Host header."""
    return request.app.state.settings.base_url()


# ------------------------------------------------------------------------------------------------
# Authentication

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1: token responses


@router.get("/.well-known/openid-configuration", tags=["auth"])
async def openid_configuration(request: Request) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 / RFC 8414 metadata. The service grants client credentials
    only; it issues no ID tokens, but the fields Discovery makes REQUIRED are present (with the
    values it prescribes, RS256 among the ID token algorithms, and an empty key set) so that strict
    OpenID client libraries accept the document and find the token endpoint."""
    base = _base(request)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "jwks_uri": f"{base}/auth/jwks",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["footprint:list", "footprint:read"],
        "claims_supported": ["sub", "iat", "exp"],
        "service_documentation": f"{base}/docs",
    }


@router.get("/auth/jwks", tags=["auth"])
async def jwks() -> dict[str, Any]:
    """The key set of the discovery document: empty, as access tokens are opaque to clients (HMAC,
    checked only by this service) and no ID tokens are issued."""
    return {"keys": []}


def _oauth_error(error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = {**NO_STORE, **(headers or {})}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="logistics-co2"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _client_credentials(request: Request, form) -> tuple[str, str] | JSONResponse | None:
    """(client_id, secret) by HTTP Basic (client_secret_basic) or in the form (client_secret_post,
    RFC 6749 §2.3.1); an error response when both or a malformed one are used; None when neither."""
    header = request.headers.get("authorization")
    posted = form.get("client_id"), form.get("client_secret")
    if header is not None and any(posted):
        return _oauth_error("invalid_request", "use one client authentication method: HTTP Basic or client_secret_post")
    if header is not None:
        return basic_credentials(header) or _oauth_error("invalid_client", "malformed HTTP Basic credentials")
    if any(posted):
        if not all(isinstance(v, str) and v for v in posted):
            return _oauth_error("invalid_request", "client_secret_post needs both client_id and client_secret")
        return posted
    return None


def _failure_keys(request: Request, client_id: str) -> list[str]:
    address = request.client.host if request.client else "unknown"
    return [f"client:{client_id[:200]}", f"address:{address}"]


def _throttled(store, settings, keys: list[str]) -> bool:
    """True when the client id or the address had too many failed token requests in the window."""
    since = now_us() - int(settings.auth_failure_window_seconds * 1e6)
    counts = store.recent_failures(keys, since)
    return (counts.get(keys[0], 0) >= settings.auth_failures_per_client
            or counts.get(keys[1], 0) >= settings.auth_failures_per_address)


async def authenticate(request: Request, client_id: str, secret: str) -> tuple[Client | None, str | None]:
    """The active client with these credentials, or (None, "failed" | "throttled"). Failed attempts
    are recorded and limited per client id and per address (LOGISTICS_AUTH_FAILURES_*): beyond the
    limit the secret is not even checked. Used by the token endpoint and the pages' sign-in."""
    state, settings = request.app.state, request.app.state.settings
    keys = _failure_keys(request, client_id)
    if await state.store.call(_throttled, state.store, settings, keys):
        log.warning("sign-in of %r from %s refused: too many failed attempts", client_id, keys[1])
        return None, "throttled"
    client = await state.store.call(state.store.client, client_id)
    # scrypt takes tens of milliseconds: keep it off the event loop; same work for unknown clients
    ok = await asyncio.to_thread(check_secret, secret, client.secret_hash if client else DUMMY_HASH)
    if not (ok and client and client.active):
        forget = now_us() - int(settings.auth_failure_window_seconds * 1e6)
        await state.store.call(state.store.record_failure, keys, forget)
        return None, "failed"
    return client, None


@router.post(
    "/auth/token", tags=["auth"], response_model=TokenResponse,
    responses={400: {"description": "RFC 6749 §5.2 error: invalid_request, invalid_client, unsupported_grant_type"},
               429: {"description": "too many failed attempts for this client or from this address; see Retry-After"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_id": {"type": "string", "description": "client_secret_post (else HTTP Basic)"},
            "client_secret": {"type": "string", "description": "client_secret_post (else HTTP Basic)"},
        },
    }}}}},
)
async def token(request: Request) -> Any:
    """OAuth 2.0 client credentials (RFC 6749 §4.4); the client authenticates with HTTP Basic or
    with ``client_id`` / ``client_secret`` in the form. Failed attempts are limited per client id
    and per address (LOGISTICS_AUTH_FAILURES_*): beyond the limit, 429 until the window passes,
    without checking the secret."""
    try:
        form = await request.form()
    except Exception:
        return _oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded")
    credentials = _client_credentials(request, form)
    if isinstance(credentials, JSONResponse):
        return credentials
    if credentials is None:
        return _oauth_error("invalid_client", "client authentication is required (HTTP Basic or client_secret_post)")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
    state, settings = request.app.state, request.app.state.settings
    client, problem = await authenticate(request, *credentials)
    if problem == "throttled":
        wait = str(int(settings.auth_failure_window_seconds))
        return _oauth_error("invalid_client", f"too many failed attempts; try again in {wait} s", 429,
                            {"Retry-After": wait})
    if client is None:
        return _oauth_error("invalid_client", "authentication failed")
    issued = TokenResponse(access_token=state.tokens.issue(client.client_id), expires_in=state.tokens.lifetime)
    return JSONResponse(issued.model_dump(), headers=NO_STORE)


# ------------------------------------------------------------------------------------------------
# Listing


async def _page(request: Request, family: str, client: Client, where: list[tuple[str, list]], limit: int | None,
                after: int, until: int | None) -> Response:
    size = min(limit or DEFAULT_PAGE, MAX_PAGE)
    store = request.app.state.store
    rows, snapshot = await store.call(store.list_documents, family, client.client_id, where, after, until, size)
    headers = {}
    if len(rows) > size:
        rows = rows[:size]
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "until")]
        params += [("after", str(rows[-1][0])), ("until", str(snapshot))]
        headers["Link"] = f'<{_base(request)}{request.url.path}?{urlencode(params)}>; rel="next"'
    body = '{"data":[' + ",".join(r[1] for r in rows) + "]}"
    return Response(body, media_type="application/json", headers=headers)


PAGING = dict(
    limit=Query(None, ge=1, le=2**31 - 1, description=f"at most this many items (the host sends at most {MAX_PAGE})"),
    after=Query(0, ge=0, le=2**62, description="paging position (from the Link header)"),
    until=Query(None, ge=0, le=2**62, description="paging snapshot (from the Link header)"),
)


@router.get("/2/footprints", tags=["PACT v2"], response_model=DocumentList, responses=ERRORS)
async def list_footprints_v2(
    request: Request,
    client: Client = Depends(pact_client),
    limit: int | None = PAGING["limit"],
    filter_: str | None = Query(None, alias="$filter", max_length=2000, description="PACT 2.x OData subset"),
    after: int = PAGING["after"],
    until: int | None = PAGING["until"],
) -> Response:
    where = []
    if filter_:
        try:
            where.append(compile_filter(filter_))
        except TooComplex as exc:
            raise ApiError(400, "BadRequest", f"$filter: {exc}") from exc
        except Unsupported as exc:
            raise ApiError(400, "NotImplemented", f"$filter: {exc}") from exc
    return await _page(request, "pact2", client, where, limit, after, until)


def _time_param(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return to_us(parse_time(value))
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"{name}: {value!r} is not an ISO 8601 date-time") from exc


def v3_filters(criteria: dict[str, Any]) -> list[tuple[str, list]]:
    """SQL conditions for the PACT v3 ListFootprints filters (also the criteria of a v3 request event)."""
    where: list[tuple[str, list]] = []
    for name, term in (("productId", "productid"), ("companyId", "companyid"), ("geography", "geography"),
                       ("classification", "classification")):
        values = _given(criteria.get(name))
        if values:
            values = [v.lower() for v in values]
            marks = ", ".join("?" * len(values))
            where.append((f"EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value IN ({marks}))",
                          [term, *values]))
    valid_on = _time_param("validOn", _one(criteria.get("validOn")))
    if valid_on is not None:
        where.append(("d.valid_from_us <= ? AND d.valid_until_us >= ?", [valid_on, valid_on]))
    valid_after = _time_param("validAfter", _one(criteria.get("validAfter")))
    if valid_after is not None:
        where.append(("d.valid_from_us > ?", [valid_after]))
    valid_before = _time_param("validBefore", _one(criteria.get("validBefore")))
    if valid_before is not None:
        where.append(("d.valid_until_us < ?", [valid_before]))
    status = _one(criteria.get("status"))
    if status is not None:  # case-insensitive, like the other filters; an unknown status matches nothing
        where.append(("LOWER(d.status) = ?", [status.lower()]))
    return where


def _given(value: Any) -> list[str]:
    """The non-empty values of a filter (one or a list): ``geography=`` filters nothing (PACT v3
    conformance test case 22 sends an empty value and expects every footprint)."""
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _one(value: Any) -> str | None:
    """A single-valued filter (the last one given); None when absent or empty."""
    values = _given(value)
    return values[-1] if values else None


@router.get("/3/footprints", tags=["PACT v3"], response_model=DocumentList, responses=ERRORS)
async def list_footprints_v3(
    request: Request,
    client: Client = Depends(pact_client),
    limit: int | None = PAGING["limit"],
    productId: list[str] | None = Query(None, max_length=100),  # PACT's parameter names
    companyId: list[str] | None = Query(None, max_length=100),
    geography: list[str] | None = Query(None, max_length=100),
    classification: list[str] | None = Query(None, max_length=100),
    validOn: str | None = Query(None, max_length=64),
    validAfter: str | None = Query(None, max_length=64),
    validBefore: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=64),
    after: int = PAGING["after"],
    until: int | None = PAGING["until"],
) -> Response:
    criteria = dict(productId=productId, companyId=companyId, geography=geography, classification=classification,
                    validOn=validOn, validAfter=validAfter, validBefore=validBefore, status=status)
    return await _page(request, "pact3", client, v3_filters(criteria), limit, after, until)


async def _get(request: Request, family: str, api: int, footprint_id: str, client: Client) -> Response:
    store = request.app.state.store
    body = await store.call(store.get_document, family, footprint_id, client.client_id)
    if body is None:
        raise ApiError(404, NOT_FOUND_CODE[api], f"no footprint {footprint_id!r}")
    return Response('{"data":' + body + "}", media_type="application/json")


NOT_FOUND = {404: {"model": ErrorBody, "description": "no such footprint (or not shared with this client)"}}


@router.get("/2/footprints/{footprint_id}", tags=["PACT v2"], response_model=DocumentOne, responses={**ERRORS, **NOT_FOUND})
async def get_footprint_v2(request: Request, footprint_id: str, client: Client = Depends(pact_client)) -> Response:
    return await _get(request, "pact2", 2, footprint_id, client)


@router.get("/3/footprints/{footprint_id}", tags=["PACT v3"], response_model=DocumentOne, responses={**ERRORS, **NOT_FOUND})
async def get_footprint_v3(request: Request, footprint_id: str, client: Client = Depends(pact_client)) -> Response:
    return await _get(request, "pact3", 3, footprint_id, client)


# ------------------------------------------------------------------------------------------------
# iLEAP TAD


@router.get(
    "/2/ileap/tad", tags=["iLEAP"], response_model=DocumentList,
    responses={**ERRORS, 403: {"model": ErrorBody, "description": "AccessDenied (also: invalid access token)"}},
)
async def list_tad(
    request: Request,
    client: Client = Depends(tad_client),
    limit: int | None = PAGING["limit"],
    after: int = PAGING["after"],
    until: int | None = PAGING["until"],
) -> Response:
    """Transport activity data. Any other query parameter ``name=value`` filters on a TAD property
    (``mode=Road``; nested ones by name, ``city=Berlin``, or path, ``origin.city=Berlin``),
    case-insensitively; several are combined with AND (at most {MAX_TAD_FILTERS})."""
    filters = dict.fromkeys((name, value.lower()) for name, value in request.query_params.multi_items()
                            if name not in ("limit", "after", "until"))
    if len(filters) > MAX_TAD_FILTERS:
        raise ApiError(400, "BadRequest", f"{len(filters)} filters: at most {MAX_TAD_FILTERS} TAD properties per request")
    where = [("EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value = ?)", [name, value])
             for name, value in filters]
    return await _page(request, "tad", client, where, limit, after, until)


# ------------------------------------------------------------------------------------------------
# Events


def _event(source: str, api: int, kind: str, data: dict) -> dict:
    return {
        "type": EVENT_TYPES[api][kind],
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": data,
    }


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _depth(value: Any) -> int:
    """How deeply JSON containers nest in ``value`` (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_EVENT_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


async def _read_event(request: Request, api: int) -> dict:
    try:
        event = json.loads(await request.body())
    except RecursionError as exc:  # the parser's own depth limit (about 1000 levels)
        raise ApiError(400, "BadRequest", f"the event nests deeper than {MAX_EVENT_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", "the event is not valid JSON") from exc
    if _depth(event) > MAX_EVENT_DEPTH:
        raise ApiError(400, "BadRequest", f"the event nests deeper than {MAX_EVENT_DEPTH} levels")
    if not isinstance(event, dict):
        raise ApiError(400, "BadRequest", "the event must be a CloudEvents JSON object")
    problems = []
    if event.get("specversion") != "1.0":
        problems.append("specversion must be \"1.0\"")
    for name in ("id", "type", "source"):
        if not isinstance(event.get(name), str) or not event[name]:
            problems.append(f"{name} must be a non-empty string")
    if not isinstance(event.get("data"), dict):
        problems.append("data must be an object")
    if problems:
        raise ApiError(400, "BadRequest", "invalid event: " + "; ".join(problems))
    if event["type"] not in (EVENT_TYPES[api]["created"], EVENT_TYPES[api]["published"]):
        raise ApiError(400, "NotImplemented", f"event type {event['type']!r} is not handled on /{api}/events")
    if event["type"] == EVENT_TYPES[api]["published"]:
        ids = event["data"].get("pfIds")
        if not isinstance(ids, list) or not ids or not all(_is_uuid(i) for i in ids):
            raise ApiError(400, "BadRequest", "data.pfIds must be a non-empty list of footprint UUIDs")
    return event


def _request_criteria(api: int, data: dict) -> dict[str, Any]:
    """What a request event asks for, as ListFootprints filters (v2: a footprint fragment, whose
    productIds are matched; v3: the ListFootprints criteria; older v3 tools send ``pf`` too)."""
    fragment = data.get("pf") if isinstance(data.get("pf"), dict) else {}
    criteria = {} if api == 2 else {k: data.get(k) for k in ("productId", "companyId", "geography", "classification",
                                                             "validOn", "validAfter", "validBefore", "status")}
    if fragment.get("productIds"):
        criteria["productId"] = fragment["productIds"]
    if fragment.get("companyIds"):
        criteria["companyId"] = fragment["companyIds"]
    return {k: v for k, v in criteria.items() if v}


def _target(client: Client, api: int, source: str) -> str:
    """The events URL a request's answer goes to: the client's registered host, which the event's
    ``source`` must name (PACT: validate the source before answering). A request that could never
    be answered is refused now with 400 and the reason (and logged), not accepted and left unanswered."""
    if not client.callback_url:
        problem = "no event endpoint is registered for you, so no answer could be sent; ask this host's operator " \
                  "to register yours (admin set-callback)"
    elif not (client.callback_client_id and client.callback_secret):
        problem = "no credentials for your event endpoint are registered here, so no answer could be sent; ask " \
                  "this host's operator to register them (admin set-callback)"
    else:
        try:
            matches = same_host(source, client.callback_url)
        except ValueError as exc:
            matches, reason = False, str(exc)
        else:
            reason = "another host"
        if matches:
            return f"{client.callback_url.rstrip('/')}/{api}/events"
        problem = (f"source {source!r} is not your registered host {client.callback_url!r} ({reason}); the answer "
                   "goes to the registered host only")
    log.warning("request event from %s refused: %s", client.client_id, problem)
    raise ApiError(400, "BadRequest", problem)


def _accept(store, client: Client, api: int, event: dict, target: str | None, source: str) -> bool:
    """Record the event and, for a request, queue its answer to ``target`` (from ``source``, this
    host) in the same transaction; False when the client sent this event before (a retry: nothing
    is done twice)."""
    family = f"pact{api}"
    with store.tx(write=True) as tx:
        if not store.record_event(tx, client.client_id, api, event):
            return False
        if event["type"] == EVENT_TYPES[api]["created"]:
            where = v3_filters(_request_criteria(api, event["data"])) or [("1 = 0", [])]  # no criteria: nothing
            footprints = _matching(store, tx, family, client, where)
            if footprints:
                reply = _event(source, api, "fulfilled", {"requestEventId": event["id"], "pfs": footprints})
            else:
                reply = _event(source, api, "rejected", {"requestEventId": event["id"], "error": {
                    "code": NOT_FOUND_CODE[api], "message": "no footprint shared with you matches the request"}})
            store.queue_outgoing(tx, client.client_id, api, target, reply, RESPONSE_DEADLINE_SECONDS)
    return True


async def _events(request: Request, api: int, client: Client) -> Response:
    event = await _read_event(request, api)
    target = None
    if event["type"] == EVENT_TYPES[api]["created"]:
        v3_filters(_request_criteria(api, event["data"]))  # malformed dates: 400 now
        target = _target(client, api, event["source"])
    store = request.app.state.store
    if await store.call(_accept, store, client, api, event, target, _base(request)):
        request.app.state.outbox_wakeup.set()
    return Response(status_code=200)


def _matching(store, tx, family: str, client: Client, where: list[tuple[str, list]]) -> list[dict]:
    clauses = ["s.client_id = ?", "d.family = ?"] + [c for c, _ in where]
    params = [client.client_id, family] + [p for _, values in where for p in values]
    rows = tx.all("SELECT d.body FROM shares s JOIN documents d ON d.seq = s.seq WHERE " + " AND ".join(clauses)
                  + " ORDER BY s.seq LIMIT ?", (*params, MAX_PAGE))
    return [json.loads(r[0]) for r in rows]


EVENT_BODY = {"requestBody": {"required": True, "content": {"application/cloudevents+json": {"schema": {
    "type": "object", "required": ["specversion", "id", "type", "source", "data"],
    "properties": {"specversion": {"type": "string"}, "id": {"type": "string"}, "type": {"type": "string"},
                   "source": {"type": "string"}, "time": {"type": "string"}, "data": {"type": "object"}},
}}}}}


@router.post("/2/events", tags=["PACT v2"], status_code=200, responses=ERRORS, openapi_extra=EVENT_BODY)
async def events_v2(request: Request, client: Client = Depends(pact_client)) -> Response:
    """CloudEvents: a footprint request (answered later with a Fulfilled or Rejected event sent to
    the requester's registered host) or a Published notification. 200 with an empty body."""
    return await _events(request, 2, client)


@router.post("/3/events", tags=["PACT v3"], status_code=200, responses=ERRORS, openapi_extra=EVENT_BODY)
async def events_v3(request: Request, client: Client = Depends(pact_client)) -> Response:
    return await _events(request, 3, client)
