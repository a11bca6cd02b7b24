"""Every 4xx answer is JSON: a machine code and a message a person can act on.

The service's errors are mapped to HTTP statuses here, once; routes raise
``ApiError`` only for what is about HTTP itself (a body that is not JSON).
"""

from __future__ import annotations

import logging
import uuid
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.limits import security_headers
from service import errors
from service.ogc import wants_html
from service.open311_out import MEDIA, errors_of, to_xml

logger = logging.getLogger(__name__)

STATUS: dict[type[errors.ServiceError], int] = {
    errors.Invalid: 422,
    errors.Malformed: 400,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.Unauthenticated: 401,
    errors.TooMany: 429,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Unavailable: 503,
    errors.Failed: 500,
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail


class OgcException(BaseModel):
    """An error of ``/ogc/``, in the OGC API's own shape."""

    code: str
    description: str


class ApiError(Exception):
    """An error answered as ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers
        self.extra = extra


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route may give."""
    return {s: {"model": ErrorOut, "description": STATUS_TEXT.get(s, "error")} for s in statuses}


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route at this request's path answers (asked of the router itself,
    so that routes in included routers count too)."""
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


OPEN311 = "/open311/"
# GeoReport answers a value it cannot act on with 400, and a bad api_key with 403
OPEN311_STATUS = {422: 400, 401: 403}


def open311_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An error under ``/open311/``: the specification's ``errors`` list, in XML when the
    path ends in ``.xml``, else in JSON."""
    status = OPEN311_STATUS.get(status, status)
    body = errors_of(status, message)
    if request.url.path.endswith(".xml"):
        return Response(to_xml("errors", body), status, headers, media_type=MEDIA["xml"])
    return JSONResponse(body, status, headers)


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""

    @app.exception_handler(errors.ServiceError)
    async def _service_error(request: Request, exc: errors.ServiceError) -> Response:
        status = next(s for kind, s in STATUS.items() if isinstance(exc, kind))
        if _is_ogc(request):
            return _ogc_error(request, status, exc.code, exc.message)
        if request.url.path.startswith(OPEN311):
            retry = exc.extra.get("retry_after_s")
            return open311_error(
                request, status, exc.message, {"Retry-After": str(retry)} if retry else None
            )
        if not request.url.path.startswith("/api/"):  # a page: a short page, not JSON
            page = f'<!doctype html><meta charset="utf-8"><p>{escape(exc.message)}</p>'
            return HTMLResponse(page, status_code=status)
        headers = None
        if "retry_after_s" in exc.extra:  # a 429, or a 503 that will pass
            headers = {"Retry-After": str(exc.extra["retry_after_s"])}
        extra = {k: v for k, v in exc.extra.items() if k != "retry_after_s"}
        return JSONResponse(
            error_body(exc.code, exc.message, **extra), status_code=status, headers=headers
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if _is_ogc(request):
            return _ogc_error(request, exc.status, exc.code, exc.message, exc.headers)
        if request.url.path.startswith(OPEN311):
            return open311_error(request, exc.status, exc.message, exc.headers)
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.extra),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        if request.url.path.startswith(OPEN311):
            return open311_error(request, 400, message)
        return JSONResponse(
            error_body("invalid_request", message, details=details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only the first route's
            headers["Allow"] = ", ".join(_allowed_methods(request))
        if request.url.path.startswith(OPEN311):
            return open311_error(request, exc.status_code, str(exc.detail), headers)
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> Response:
        """A fault of ours: the JSON error shape too, with an id that is also in the log."""
        request_id = uuid.uuid4().hex[:12]
        logger.error(
            "request %s %s %s failed", request_id, request.method, request.url.path, exc_info=exc
        )
        if request.url.path.startswith(OPEN311):
            message = f"something went wrong on our side; quote id {request_id} when you report it"
            return open311_error(request, 500, message, security_headers(None))
        return JSONResponse(
            error_body(
                "internal_error",
                "something went wrong on our side; quote this id when you report it",
                request_id=request_id,
            ),
            status_code=500,
            # answered outside every middleware (Starlette's ServerErrorMiddleware): the
            # security headers are added here
            headers=security_headers(None),
        )


def _is_ogc(request: Request) -> bool:
    return request.url.path == "/ogc" or request.url.path.startswith("/ogc/")


def _ogc_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """An OGC API error: ``{"code", "description"}``, or a short page where one was asked."""
    try:
        html = wants_html(request.query_params.get("f"), request.headers.get("accept"))
    except errors.ServiceError:
        html = False
    if html:
        page = f'<!doctype html><meta charset="utf-8"><p>{escape(message)}</p>'
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"code": code, "description": message}, status_code=status, headers=headers)


STATUS_TEXT = {
    400: "The request is malformed",
    401: "A staff token is needed, or the one sent is unknown",
    403: "The caller may not do this",
    404: "Not found",
    409: "Conflicts with the case's current state",
    413: "Too large",
    415: "Unsupported media type",
    422: "A value cannot be acted on; the message names it",
    429: "Too many requests; see Retry-After",
    503: "No community is loaded yet, a store the service relies on is unreachable, or it is "
    "too busy just now; see Retry-After when given",
}
