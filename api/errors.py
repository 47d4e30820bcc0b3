"""One error shape for every endpoint: ``{"code": ..., "message": ..., "errors"?: [{path, reason, in}]}``.

``code`` uses the PACT error vocabulary (``BadRequest``, ``AccessDenied``, ``TokenExpired``,
``NoSuchFootprint``, ``NotFound``, ``NotImplemented``, ``InternalError``) plus ``ValidationError``
(422, with ``errors``), ``PayloadTooLarge`` (413) and ``Conflict`` (409) for the /v1 API.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("logistics_api")

PACT_PREFIXES = ("/2/", "/3/", "/auth/")


class FieldError(BaseModel):
    path: str
    reason: str
    location: str = "body"


class ErrorBody(BaseModel):
    code: str
    message: str
    errors: list[FieldError] | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.headers = status, code, message, errors, headers


def error_response(status: int, code: str, message: str, errors: list[FieldError] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=code, message=message, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def field_path(loc: tuple | list) -> tuple[str, str]:
    """("shipments[0].legs[1].mode", "body") from pydantic's ("body", "shipments", 0, "legs", 1, "mode")."""
    location, *rest = loc or ("body",)
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(whole)", str(location)


def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "BadRequest", "the request body is not valid JSON")
    details = []
    for e in errors:
        path, location = field_path(e.get("loc", ()))
        details.append(FieldError(path=path, reason=e.get("msg", "invalid"), location=location))
    summary = "; ".join(f"{d.path}: {d.reason}" for d in details[:5])
    if request.url.path.startswith(PACT_PREFIXES):  # PACT knows no 422
        return error_response(400, "BadRequest", f"invalid request: {summary}")
    return error_response(422, "ValidationError", f"{len(details)} invalid field(s): {summary}", details)


def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {404: "NotFound", 405: "BadRequest", 413: "PayloadTooLarge"}
    code = codes.get(exc.status_code, "BadRequest" if exc.status_code < 500 else "InternalError")
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "InternalError", "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, lambda r, e: error_response(e.status, e.code, e.message, e.errors, e.headers))
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unhandled)


# Declared on every route so the OpenAPI document lists what the service really answers.
COMMON_RESPONSES = {
    400: {"model": ErrorBody, "description": "malformed request (e.g. body not JSON)"},
    500: {"model": ErrorBody, "description": "internal error"},
}
