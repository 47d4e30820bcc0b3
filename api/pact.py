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
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .auth import DUMMY_HASH, basic_credentials, check_secret
from .documents import parse_time, to_us
from .errors import ApiError, ErrorBody
from .odata import Unsupported, compile_filter
from .security import pact_client, tad_client
from .storage import Client

router = APIRouter()

DEFAULT_PAGE = 100
MAX_PAGE = 1000
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
    return str(request.base_url).rstrip("/")


# ------------------------------------------------------------------------------------------------
# Authentication


@router.get("/.well-known/openid-configuration", tags=["auth"])
async def openid_configuration(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "response_types_supported": ["token"],
        "scopes_supported": ["footprint:list", "footprint:read"],
    }


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="logistics-co2"'} if error == "invalid_client" else None
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


@router.post(
    "/auth/token", tags=["auth"], response_model=TokenResponse,
    responses={400: {"description": "RFC 6749 §5.2 error: invalid_request, invalid_client, unsupported_grant_type"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"], "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]}},
    }}}}},
)
async def token(request: Request) -> Any:
    """OAuth 2.0 client credentials (RFC 6749 §4.4) with HTTP Basic client authentication."""
    try:
        form = await request.form()
    except Exception:
        return _oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded")
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is None:
        return _oauth_error("invalid_client", "client authentication with HTTP Basic is required")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
    state = request.app.state
    client_id, secret = credentials
    client = state.store.client(client_id)
    # scrypt takes tens of milliseconds: keep it off the event loop; same work for unknown clients
    ok = await asyncio.to_thread(check_secret, secret, client.secret_hash if client else DUMMY_HASH)
    if not (ok and client and client.active):
        return _oauth_error("invalid_client", "authentication failed")
    return TokenResponse(access_token=state.tokens.issue(client.client_id), expires_in=state.tokens.lifetime)


# ------------------------------------------------------------------------------------------------
# Listing


def _page(request: Request, family: str, client: Client, where: list[tuple[str, list]], limit: int | None,
          after: int, until: int | None) -> Response:
    size = min(limit or DEFAULT_PAGE, MAX_PAGE)
    rows, snapshot = request.app.state.store.list_documents(family, client.client_id, where, after, until, size)
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
        except Unsupported as exc:
            raise ApiError(400, "NotImplemented", f"$filter: {exc}") from exc
    return _page(request, "pact2", client, where, limit, after, until)


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
        values = criteria.get(name)
        if values:
            values = [str(v).lower() for v in (values if isinstance(values, list) else [values])]
            marks = ", ".join("?" * len(values))
            where.append((f"EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value IN ({marks}))",
                          [term, *values]))
    valid_on = _time_param("validOn", criteria.get("validOn"))
    if valid_on is not None:
        where.append(("d.valid_from_us <= ? AND d.valid_until_us >= ?", [valid_on, valid_on]))
    valid_after = _time_param("validAfter", criteria.get("validAfter"))
    if valid_after is not None:
        where.append(("d.valid_from_us > ?", [valid_after]))
    valid_before = _time_param("validBefore", criteria.get("validBefore"))
    if valid_before is not None:
        where.append(("d.valid_until_us < ?", [valid_before]))
    if criteria.get("status") is not None:
        where.append(("d.status = ?", [criteria["status"]]))
    return where


@router.get("/3/footprints", tags=["PACT v3"], response_model=DocumentList, responses=ERRORS)
async def list_footprints_v3(
    request: Request,
    client: Client = Depends(pact_client),
    limit: int | None = PAGING["limit"],
    productId: list[str] | None = Query(None, max_length=100),  # noqa: N803 (PACT's parameter names)
    companyId: list[str] | None = Query(None, max_length=100),  # noqa: N803
    geography: list[str] | None = Query(None, max_length=100),
    classification: list[str] | None = Query(None, max_length=100),
    validOn: str | None = Query(None, max_length=64),  # noqa: N803
    validAfter: str | None = Query(None, max_length=64),  # noqa: N803
    validBefore: str | None = Query(None, max_length=64),  # noqa: N803
    status: str | None = Query(None, max_length=64),
    after: int = PAGING["after"],
    until: int | None = PAGING["until"],
) -> Response:
    criteria = dict(productId=productId, companyId=companyId, geography=geography, classification=classification,
                    validOn=validOn, validAfter=validAfter, validBefore=validBefore, status=status)
    return _page(request, "pact3", client, v3_filters(criteria), limit, after, until)


async def _get(request: Request, family: str, api: int, footprint_id: str, client: Client) -> Response:
    body = request.app.state.store.get_document(family, footprint_id, client.client_id)
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
    case-insensitively; several are combined with AND."""
    where = []
    for name, value in request.query_params.multi_items():
        if name in ("limit", "after", "until"):
            continue
        where.append(("EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value = ?)",
                      [name, value.lower()]))
    return _page(request, "tad", client, where, limit, after, until)


# ------------------------------------------------------------------------------------------------
# Events


def _event(request: Request, api: int, kind: str, data: dict) -> dict:
    return {
        "type": EVENT_TYPES[api][kind],
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": _base(request),
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": data,
    }


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


async def _read_event(request: Request, api: int) -> dict:
    try:
        event = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", "the event is not valid JSON") from exc
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


def _target(client: Client, api: int, source: str) -> tuple[str | None, str | None]:
    """(events URL to answer to, or None with the reason): the source must be the client's
    registered host (PACT: validate the source before answering)."""
    if not client.callback_url:
        return None, "the client has no registered event endpoint (admin: --callback-url)"
    registered = client.callback_url.rstrip("/")
    if source.rstrip("/") != registered and not source.startswith(registered + "/"):
        return None, f"source {source!r} is not the client's registered host {registered!r}"
    return f"{registered}/{api}/events", None


async def _events(request: Request, api: int, client: Client) -> Response:
    event = await _read_event(request, api)
    store = request.app.state.store
    family = f"pact{api}"
    with store.tx(write=True) as tx:
        if not store.record_event(tx, client.client_id, api, event):
            return Response(status_code=200)  # a retry of an event already accepted
        if event["type"] == EVENT_TYPES[api]["created"]:
            criteria = _request_criteria(api, event["data"])
            where = v3_filters(criteria) if criteria else [("1 = 0", [])]
            footprints = _matching(store, tx, family, client, where)
            if footprints:
                answer = _event(request, api, "fulfilled", {"requestEventId": event["id"], "pfs": footprints})
            else:
                answer = _event(request, api, "rejected", {"requestEventId": event["id"], "error": {
                    "code": NOT_FOUND_CODE[api], "message": "no footprint shared with you matches the request"}})
            target, problem = _target(client, api, event["source"])
            store.queue_outgoing(tx, client.client_id, api, target, answer, RESPONSE_DEADLINE_SECONDS, error=problem)
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
