"""OGC API – Features under ``/ogc/``: each route hands the request to ``service.ogc``.

The request is read once (:func:`ogc_request`: the base address, every query
parameter as sent, the Accept header, the caller and the clock) and the answer
written once (:func:`respond`: JSON under its media type, or the page drawn by
``layers.ogc_page``).  Parameters are checked by the service, so that a bad or
unknown one is the standard's 400 naming it; here they are only documented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.auth import optional_actor
from api.deps import LangDep, NonceDep, NowDep, ReadSessionDep
from api.errors import OgcException
from layers.ogc_page import ogc_page
from layers.page import with_nonce
from service import ogc
from service.ogc_openapi import PARAMETERS
from store.issues import Actor

router = APIRouter(prefix="/ogc", tags=["ogc"])
Endpoint = TypeVar("Endpoint", bound=Callable[..., Response])


def ogc_request(
    request: Request,
    actor: Annotated[Actor, Depends(optional_actor)],
    lang: LangDep,
    now: NowDep,
) -> ogc.OgcRequest:
    """The request as ``service.ogc`` reads it."""
    return ogc.OgcRequest(
        base=str(request.base_url).rstrip("/") + "/ogc",
        params=request.query_params.multi_items(),
        accept=request.headers.get("accept"),
        lang=lang,
        actor=actor,
        now=now,
        areas=request.app.state.areas,
        explicit_lang="lang" in request.query_params,
    )


OgcDep = Annotated[ogc.OgcRequest, Depends(ogc_request)]


# the links repeated in an HTTP Link header (RFC 8288), for clients that read headers
HEADER_RELS = (
    "self",
    "alternate",
    "next",
    "prev",
    ogc.QUERYABLES_REL,
)


def respond(answer: ogc.Answer, nonce: str) -> Response:
    """JSON under the answer's media type (its paging and format links in a ``Link``
    header too), or its HTML page."""
    if answer.html:
        return HTMLResponse(with_nonce(ogc_page(answer.kind, answer.body, answer.lang), nonce))
    headers = dict(answer.headers)
    linked = [
        f'<{link["href"]}>; rel="{link["rel"]}"; type="{link.get("type", "")}"'
        for link in answer.body.get("links", [])
        if link.get("rel") in HEADER_RELS and str(link.get("href", "")).isascii()
    ]
    if linked:
        headers["Link"] = ", ".join(linked)
    return JSONResponse(answer.body, media_type=answer.media_type, headers=headers)


def _doc(media_type: str, *params: str) -> dict[str, Any]:
    """The OpenAPI entries of a route: its answers in both formats, its errors, its
    parameters (``lang`` is the page language's own)."""
    return {
        "responses": {
            200: {
                "description": "The resource, as JSON or as a page (f=html)",
                "content": {
                    media_type: {"schema": {"type": "object"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            400: {"model": OgcException, "description": "A parameter is unknown or wrong"},
            404: {"model": OgcException, "description": "No such collection or feature"},
        },
        "openapi_extra": {"parameters": [PARAMETERS[p] for p in ("f", *params)]},
        "response_class": Response,
    }


def _read(path: str, **doc: Any) -> Callable[[Endpoint], Endpoint]:
    """``GET path`` as documented, and ``HEAD path`` (the same answer without its body,
    left out by uvicorn): HTTP/1.1 servers support both (RFC 9110 s. 9.1), which Part 1
    /req/core/http asks of them; HEAD stays out of the API document."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.head(path, include_in_schema=False, response_class=Response)(endpoint)
        return router.get(path, **doc)(endpoint)

    return register


@_read("", **_doc(ogc.JSON))
@_read("/", include_in_schema=False)
def ogc_landing(req: OgcDep, nonce: NonceDep) -> Response:
    """The landing page of the OGC API – Features."""
    return respond(ogc.landing(req), nonce)


@_read("/conformance", **_doc(ogc.JSON))
def ogc_conformance(req: OgcDep, nonce: NonceDep) -> Response:
    """The conformance classes this API implements."""
    return respond(ogc.conformance(req), nonce)


@_read("/api", **_doc(ogc.OPENAPI_30))
def ogc_api(session: ReadSessionDep, req: OgcDep, nonce: NonceDep) -> Response:
    """The OpenAPI 3.0 document of this API."""
    return respond(ogc.api_document(session, req), nonce)


@_read("/collections", **_doc(ogc.JSON))
def ogc_collections(session: ReadSessionDep, req: OgcDep, nonce: NonceDep) -> Response:
    """Every collection: one per public layer, and the cases."""
    return respond(ogc.collections(session, req), nonce)


@_read("/collections/{collection_id}", **_doc(ogc.JSON))
def ogc_collection(
    collection_id: str, session: ReadSessionDep, req: OgcDep, nonce: NonceDep
) -> Response:
    """One collection: its title, extent, CRSs and links."""
    return respond(ogc.collection(session, req, collection_id), nonce)


@_read("/collections/{collection_id}/queryables", **_doc(ogc.SCHEMA_JSON))
def ogc_queryables(
    collection_id: str, session: ReadSessionDep, req: OgcDep, nonce: NonceDep
) -> Response:
    """The properties a collection's features may be filtered by."""
    return respond(ogc.queryables(session, req, collection_id), nonce)


@_read("/collections/{collection_id}/items", **_doc(ogc.GEOJSON, *ogc.ITEMS_PARAMETERS))
def ogc_items(
    collection_id: str, session: ReadSessionDep, req: OgcDep, nonce: NonceDep
) -> Response:
    """A page of a collection's features; ``?name=value`` filters by a queryable property."""
    return respond(ogc.items(session, req, collection_id), nonce)


@_read("/collections/{collection_id}/items/{feature_id}", **_doc(ogc.GEOJSON, "crs"))
def ogc_item(
    collection_id: str, feature_id: str, session: ReadSessionDep, req: OgcDep, nonce: NonceDep
) -> Response:
    """One feature of a collection."""
    return respond(ogc.item(session, req, collection_id, feature_id), nonce)
