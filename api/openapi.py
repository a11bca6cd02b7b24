"""The OpenAPI document as clients read it: every error answer documented as it is sent.

FastAPI builds the document from the routes.  Two things it cannot know are
settled here, once, rather than on every route:

- an error answer of the API is JSON even where the route's success is GeoJSON,
  a CSV or a photo (FastAPI files an additional answer under the route's own
  media type), and an error answer of a page is a short HTML page;
- a route that reads a staff token answers 401 to a bad one, whether or not the
  token is required;
- Open311's routes answer GeoReport's errors list (as their routes declare it),
  and a parameter that fails validation there is a 400, not FastAPI's 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import STATUS_TEXT

JSON, HTML = "application/json", "text/html"


def install(app: FastAPI) -> None:
    """Serve :func:`document` as ``app``'s OpenAPI document (built once, then kept)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    """``app``'s OpenAPI document with error answers under the media type they are sent in."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if path.startswith("/open311/"):  # GeoReport's own errors list, JSON or XML
                if isinstance(operation, dict):  # where a parameter that fails is a 400
                    operation.get("responses", {}).pop("422", None)
                continue
            if isinstance(operation, dict) and "responses" in operation:
                if path == "/ogc" or path.startswith("/ogc/"):
                    _ogc_errors(operation)
                else:
                    _fix_errors(operation, page=not path.startswith("/api/"))
    return doc


def _ogc_errors(operation: dict[str, Any]) -> None:
    """An error of ``/ogc/`` is the OGC API's JSON exception, or a page where one was asked."""
    answers: dict[str, Any] = operation["responses"]
    if operation.get("security"):
        answers.setdefault("401", {"description": STATUS_TEXT[401]})
    for status, answer in answers.items():
        if status.isdigit() and int(status) >= 400:
            answer["content"] = {
                JSON: {"schema": {"$ref": "#/components/schemas/OgcException"}},
                HTML: {"schema": {"type": "string"}},
            }


def _fix_errors(operation: dict[str, Any], page: bool) -> None:
    answers: dict[str, Any] = operation["responses"]
    if operation.get("security"):  # reads a token: a bad one is a 401
        answers.setdefault("401", {"description": STATUS_TEXT[401]})
    for status, answer in answers.items():
        if not status.isdigit() or int(status) < 400:
            continue
        if page:
            answer["content"] = {HTML: {"schema": {"type": "string"}}}
            continue
        schemas = [media.get("schema") for media in answer.get("content", {}).values()]
        error = next((s for s in schemas if s and s.get("$ref", "").endswith("/ErrorOut")), None)
        answer["content"] = {JSON: {"schema": error or {"$ref": "#/components/schemas/ErrorOut"}}}
