"""Who is calling: bearer-token checks with the status codes PACT and iLEAP expect.

A wrong or expired token is refused before anything is looked up, so the answer never depends on
whether a footprint exists; a footprint not shared with the caller is answered exactly like one
that does not exist.
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .auth import TokenCheck
from .errors import ApiError
from .storage import Client

bearer = HTTPBearer(auto_error=False, description="access token from POST /auth/token (OAuth2 client credentials)")
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="logistics-co2"'}


async def _check(request: Request, credentials: HTTPAuthorizationCredentials | None) -> tuple[TokenCheck, Client | None]:
    state = request.app.state
    if credentials is None:
        return TokenCheck(None, "invalid"), None
    check = state.tokens.check(credentials.credentials)
    if check.problem:
        return check, None
    client = await state.store.call(state.store.client, check.client_id)  # off the event loop
    if client is None or not client.active:  # removed or disabled since the token was issued
        return TokenCheck(None, "invalid"), None
    return check, client


async def token_client(request: Request, token: str | None) -> Client | None:
    """The active client an access token (e.g. the pages' session cookie) was issued to, if it is
    valid and not expired."""
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None
    return (await _check(request, credentials))[1]


def _refuse(check: TokenCheck, invalid_status: int, invalid_code: str) -> ApiError:
    if check.problem == "expired":
        return ApiError(401, "TokenExpired", "the access token has expired; request a new one", headers=BEARER_CHALLENGE)
    return ApiError(invalid_status, invalid_code, "missing or invalid access token", headers=BEARER_CHALLENGE)


def _recipient(client: Client) -> Client:
    """The PACT host serves data recipients: an operator's token is refused, not shown an empty list."""
    if client.role != "recipient":
        raise ApiError(403, "AccessDenied", f"the PACT API serves data recipients; client {client.client_id!r} "
                                            f"is an {client.role}")
    return client


async def pact_client(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Client:
    """PACT footprints and events: invalid token → 400 BadRequest (PACT 2.x; accepted by the
    conformance tool for v2 and v3), expired → 401 TokenExpired, not a recipient → 403 AccessDenied."""
    check, client = await _check(request, credentials)
    if client is None:
        raise _refuse(check, 400, "BadRequest")
    return _recipient(client)


async def tad_client(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Client:
    """iLEAP TAD: invalid token → 403 AccessDenied (iLEAP TC007), expired → 401 TokenExpired (TC008)."""
    check, client = await _check(request, credentials)
    if client is None:
        raise _refuse(check, 403, "AccessDenied")
    return _recipient(client)


async def api_client(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Client:
    """The /v1 API: invalid token → 401 BadRequest, expired → 401 TokenExpired."""
    check, client = await _check(request, credentials)
    if client is None:
        raise _refuse(check, 401, "BadRequest")
    return client


async def operator_client(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Client:
    """Uploads and jobs: the carrier's own systems (role ``operator``) only."""
    client = await api_client(request, credentials)
    if client.role != "operator":
        raise ApiError(403, "AccessDenied", "uploads need an operator client")
    return client
