"""OGC API – Features over gridgov's public layers and cases: the use cases behind ``/ogc/``.

Each resource of the standard is one function here, free of the web framework: it
takes the parsed request (:class:`OgcRequest`: the base address, the query
parameters as sent, what the client accepts, who asks, the clock) and gives an
:class:`Answer` (a JSON-ready body, whether it is to be drawn as HTML, the media
type and headers).  ``api/routes_ogc.py`` only turns the one into the other.

- One collection per public layer (``service.catalogue.PUBLIC_LAYERS``) and one of
  the cases.  Properties are flat (``grid_code`` beside ``grid_name``), so that every
  GIS client gets columns.  The cases' reporter contacts are staff-only, by the same
  rule as ``/api/v1/issues`` (:mod:`service.scope`); the grids' member references
  (grid heads, workers) are left out of this interface altogether.
- Every parameter is checked here; a bad one is ``Malformed`` (400) naming the value,
  an unknown one too.
- Coordinates leave in the CRS asked for (Part 2), in its authority's axis order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import shapely
from shapely.geometry import mapping
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from gis.crs import MetricZoneError, metric_crs_for
from gis.crs_ref import (
    CRS84,
    UnknownCRS,
    box_to_crs84,
    canonical,
    epsg_uri,
    from_crs84,
    to_crs84,
)
from layers.i18n import gettext_for, status_names
from service.catalogue import PUBLIC_LAYERS
from service.community import CommunitySnapshot, SnapshotCache
from service.errors import Malformed, NotFound
from service.schemas import parse_instant
from service.scope import in_scope, list_area
from service.views import iso, issue_view
from store.catalogue import catalogues_for, categories_for
from store.cql import FilterError, to_sql
from store.features import (
    FeatureQuery,
    case_extent,
    case_page,
    community_outlines,
    is_postgis,
    layer_extent,
    layer_feature,
    layer_page,
    layer_sample,
)
from store.issues import Actor, IssueNotFound, get_issue
from store.models import Issue, LayerFeature

CASES = "cases"
COLLECTIONS = (*PUBLIC_LAYERS, CASES)
DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000
GEOJSON, JSON, HTML = "application/geo+json", "application/json", "text/html"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GEOGRAPHIC = (CRS84, epsg_uri(4326), epsg_uri(4490))  # WGS84 lon/lat, WGS84, CGCS2000

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE_CORE = [CONF + c for c in ("core", "geojson", "html", "oas30")]
CONFORMANCE_CRS = ["http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]
FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE_FILTER = [
    *(
        FILTER + c
        for c in ("queryables", "queryables-query-parameters", "filter", "features-filter")
    ),
    *(
        CQL2 + c
        for c in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "basic-spatial-functions",
            "basic-spatial-functions-plus",
            "spatial-functions",
        )
    ),
]
CONFORMANCE = [*CONFORMANCE_CORE, *CONFORMANCE_CRS, *CONFORMANCE_FILTER]
FILTERING = True  # Part 3 (CQL2) is offered
FILTER_LANGS = ("cql2-text", "cql2-json")

# members' references in the grids layer: pseudonymous ids of people, not for this API
PRIVATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "grids": ("grid_head", "full_time_worker", "part_time_worker", "instructor"),
}
COMMON_PARAMS = frozenset({"f", "lang"})
# the items' parameters beside the property filters, in the order the API document lists them
ITEMS_PARAMETERS = (
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "datetime",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
)
ITEMS_PARAMS = frozenset(ITEMS_PARAMETERS)

# the cases' queryable properties: name → (JSON Schema type, the column)
CASE_QUERYABLES: dict[str, tuple[str, Any]] = {
    "id": ("integer", Issue.id),
    "status": ("string", Issue.status),
    "category_code": ("string", Issue.category),
    "grid_code": ("string", Issue.grid_code),
    "district_code": ("string", Issue.district_code),
    "channel": ("string", Issue.channel),
    "squad_id": ("string", Issue.squad_id),
    "duplicate_of": ("integer", Issue.duplicate_of),
    "reported_at": ("date-time", Issue.reported_at),
    "updated_at": ("date-time", Issue.updated_at),
}


@dataclass(frozen=True)
class OgcRequest:
    """One request to ``/ogc/``, as the use cases need it."""

    base: str  # the address of the landing page, without a trailing slash
    params: Sequence[tuple[str, str]]
    accept: str | None
    lang: str
    actor: Actor
    now: datetime
    areas: SnapshotCache | None = None
    explicit_lang: bool = False  # ``lang`` was in the address: links keep it

    def one(self, name: str) -> str | None:
        """The value of parameter ``name``, or None; ``Malformed`` if given twice."""
        values = [v for k, v in self.params if k == name]
        if len(values) > 1:
            raise Malformed(
                "repeated_parameter", f"parameter {name!r} is given {len(values)} times"
            )
        return values[0] if values else None


@dataclass(frozen=True)
class Answer:
    """What a resource answers: ``body`` as JSON, or drawn as the HTML page ``kind``."""

    kind: str
    body: dict[str, Any]
    html: bool
    media_type: str
    lang: str
    headers: dict[str, str] = field(default_factory=dict)


# --- negotiation ---------------------------------------------------------------------------


def wants_html(f: str | None, accept: str | None) -> bool:
    """``f=html``/``f=json`` first, else the Accept header (a browser asks for HTML);
    ``Malformed`` for another ``f``."""
    if f is not None:
        if f not in ("json", "html"):
            raise Malformed("bad_format", f"f {f!r} must be 'json' or 'html'")
        return f == "html"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind and quality > 0:
            ranked.append((-quality, position, kind.lower()))
    for _, _, kind in sorted(ranked):
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind in (JSON, GEOJSON, "*/*", "application/*") or kind.endswith("+json"):
            return False
    return False


def _wants_html(req: OgcRequest) -> bool:
    return wants_html(req.one("f"), req.accept)


def _check_params(req: OgcRequest, allowed: frozenset[str] | set[str]) -> None:
    for name, _ in req.params:
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise Malformed(
                "unknown_parameter", f"parameter {name!r} is not known here; known: {known}"
            )


def _answer(
    req: OgcRequest,
    kind: str,
    body: dict[str, Any],
    media_type: str = JSON,
    headers: dict[str, str] | None = None,
) -> Answer:
    html = _wants_html(req)
    return Answer(kind, body, html, HTML if html else media_type, req.lang, headers or {})


def _words(lang: str) -> Callable[[str], str]:
    return gettext_for(lang).gettext


def _href(req: OgcRequest, path: str, **query: str | int) -> str:
    params = {**query}
    if req.explicit_lang:
        params["lang"] = req.lang
    return f"{req.base}{path}" + (f"?{urlencode(params)}" if params else "")


def _self_links(req: OgcRequest, path: str, media_type: str, title: str) -> list[dict[str, Any]]:
    """``self`` in the answer's format and ``alternate`` in the other one."""
    html = _wants_html(req)
    json_link = {"href": _href(req, path, f="json"), "type": media_type, "title": title}
    html_link = {"href": _href(req, path, f="html"), "type": HTML, "title": title + " (HTML)"}
    this, other = (html_link, json_link) if html else (json_link, html_link)
    return [{**this, "rel": "self"}, {**other, "rel": "alternate"}]


# --- the landing page, conformance, the API document --------------------------------------


def landing(req: OgcRequest) -> Answer:
    """The landing page: links to the API document, the conformance classes and the data."""
    _check_params(req, COMMON_PARAMS)
    _ = _words(req.lang)
    body = {
        "title": _("ogc.title"),
        "description": _("ogc.description"),
        "links": [
            *_self_links(req, "/", JSON, _("ogc.title")),
            {
                "rel": "service-desc",
                "type": OPENAPI_30,
                "title": _("ogc.api"),
                "href": _href(req, "/api", f="json"),
            },
            {
                "rel": "service-doc",
                "type": HTML,
                "title": _("ogc.api_doc"),
                "href": _href(req, "/api", f="html"),
            },
            {
                "rel": "conformance",
                "type": JSON,
                "title": _("ogc.conformance"),
                "href": _href(req, "/conformance", f="json"),
            },
            {
                "rel": "data",
                "type": JSON,
                "title": _("ogc.collections"),
                "href": _href(req, "/collections", f="json"),
            },
        ],
    }
    return _answer(req, "landing", body)


def conformance(req: OgcRequest) -> Answer:
    """The conformance classes this service passes."""
    _check_params(req, COMMON_PARAMS)
    return _answer(req, "conformance", {"conformsTo": list(CONFORMANCE)})


# --- collections ---------------------------------------------------------------------------


def _check_collection(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise NotFound(
            "no_collection",
            f"no collection {collection_id!r}; collections: {', '.join(COLLECTIONS)}",
        )
    return collection_id


def metric_crs_list(session: Session) -> list[str]:
    """The metric CRSs of the loaded communities (their Gauss-Krüger zones), as URIs."""
    zones: list[str] = []
    for outline in community_outlines(session):
        try:
            zone = epsg_uri(metric_crs_for(float(outline.centroid.x)))
        except MetricZoneError:
            continue
        if zone not in zones:
            zones.append(zone)
    return zones


def crs_list(session: Session) -> list[str]:
    return [*GEOGRAPHIC, *metric_crs_list(session)]


def _collection_body(
    session: Session, req: OgcRequest, collection_id: str, crs: list[str]
) -> dict[str, Any]:
    _ = _words(req.lang)
    extent: dict[str, Any] = {}
    if collection_id == CASES:
        box, (first, last), count = case_extent(session, _case_area(req.actor))
        if first is not None:
            extent["temporal"] = {
                "interval": [[iso(first), iso(last)]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
    else:
        box, count = layer_extent(session, collection_id)
    if box is not None:
        extent["spatial"] = {"bbox": [list(box)], "crs": CRS84}
    path = f"/collections/{collection_id}"
    title = _(f"ogc.collection.{collection_id}")
    return {
        "id": collection_id,
        "title": title,
        "description": _(f"ogc.about.{collection_id}"),
        "itemType": "feature",
        "extent": extent,
        "crs": crs,
        "storageCrs": CRS84,
        "count": count,
        "links": [
            *_self_links(req, path, JSON, title),
            {
                "rel": "items",
                "type": GEOJSON,
                "title": title,
                "href": _href(req, path + "/items", f="json"),
            },
            {
                "rel": "items",
                "type": HTML,
                "title": title + " (HTML)",
                "href": _href(req, path + "/items", f="html"),
            },
            {
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": _("ogc.queryables"),
                "href": _href(req, path + "/queryables"),  # its $id, as the ATS compares
            },
        ],
    }


def collections(session: Session, req: OgcRequest) -> Answer:
    """Every collection: one per public layer, and the cases."""
    _check_params(req, COMMON_PARAMS)
    _ = _words(req.lang)
    crs = crs_list(session)
    body = {
        "links": _self_links(req, "/collections", JSON, _("ogc.collections")),
        "collections": [_collection_body(session, req, c, crs) for c in COLLECTIONS],
        "crs": crs,
    }
    return _answer(req, "collections", body)


def collection(session: Session, req: OgcRequest, collection_id: str) -> Answer:
    """One collection's description: its title, extent, CRSs and links."""
    _check_params(req, COMMON_PARAMS)
    _check_collection(collection_id)
    return _answer(
        req, "collection", _collection_body(session, req, collection_id, crs_list(session))
    )


# --- queryables ----------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def queryable_types(session: Session, collection_id: str) -> dict[str, str]:
    """The properties a collection may be filtered by, with their types."""
    if collection_id == CASES:
        return {name: kind for name, (kind, _) in CASE_QUERYABLES.items()}
    sample = layer_sample(session, collection_id) or {}
    private = PRIVATE_COLUMNS.get(collection_id, ())
    return {k: _json_type(v) for k, v in sample.items() if k not in private}


def schema_of(kind: str) -> dict[str, Any]:
    if kind == "date-time":
        return {"type": "string", "format": "date-time"}
    return {"type": kind}


def queryables(session: Session, req: OgcRequest, collection_id: str) -> Answer:
    """The queryable properties of a collection, as a JSON Schema."""
    _check_params(req, COMMON_PARAMS)
    _check_collection(collection_id)
    _ = _words(req.lang)
    types = queryable_types(session, collection_id)
    geometry = "Point" if collection_id == CASES else "Geometry"
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        # /req/queryables/get-queryables-response B: the URI without query parameters
        "$id": f"{req.base}/collections/{collection_id}/queryables",
        "type": "object",
        "title": _(f"ogc.collection.{collection_id}"),
        "properties": {
            "geometry": {
                "format": f"geometry-{geometry.lower()}"
                if geometry != "Geometry"
                else "geometry-any"
            },
            **{name: {"title": name, **schema_of(kind)} for name, kind in types.items()},
        },
        "additionalProperties": False,
    }
    return _answer(req, "queryables", body, SCHEMA_JSON)


# --- items ---------------------------------------------------------------------------------


def _int(req: OgcRequest, name: str, default: int, low: int, high: int | None) -> int:
    text = req.one(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise Malformed(f"bad_{name}", f"{name} {text!r} must be a whole number") from None
    if value < low:
        raise Malformed(f"bad_{name}", f"{name} {text!r} must be at least {low}")
    return min(value, high) if high is not None else value


def _crs(req: OgcRequest, name: str, allowed: list[str]) -> str:
    text = req.one(name)
    if text is None:
        return CRS84
    try:
        uri = canonical(text)
    except UnknownCRS as exc:
        raise Malformed(f"bad_{name}", f"{name}: {exc}") from None
    if uri not in allowed:
        raise Malformed(
            f"bad_{name}", f"{name} {text!r} is not offered here; offered: {', '.join(allowed)}"
        )
    return uri


def parse_bbox(
    text: str, crs: str
) -> tuple[tuple[float, float, float, float], shapely.Geometry | None]:
    """``bbox`` (4 numbers, or 6 with heights) in ``crs``'s axis order, as a lon/lat box
    and the exact lon/lat shape when it differs from the box."""
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise Malformed("bad_bbox", f"bbox {text!r} must be 4 numbers (or 6 with heights)")
    xmin, ymin, xmax, ymax = values
    if xmin > xmax or ymin > ymax:
        raise Malformed("bad_bbox", f"bbox {text!r}: a lower corner exceeds the upper one")
    if crs == CRS84 and not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise Malformed(
            "bad_bbox", f"bbox {text!r} is out of range (longitude -180..180, latitude -90..90)"
        )
    try:
        box, shape = box_to_crs84((xmin, ymin, xmax, ymax), crs)
    except Exception as exc:  # pyproj: a box far outside its CRS
        raise Malformed("bad_bbox", f"bbox {text!r} cannot be read in {crs}: {exc}") from None
    if not all(math.isfinite(v) for v in box):
        raise Malformed("bad_bbox", f"bbox {text!r} lies outside where {crs} is defined")
    return box, shape


def _moment(text: str, end: bool) -> datetime:
    """An RFC 3339 date-time (naive UTC), or a date's first (last, for ``end``) instant;
    an ``end`` written to the second stands for the last instant of that second.  The
    date-time rule (and the years allowed) is :func:`service.schemas.parse_instant`'s."""
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise Malformed(
                "bad_datetime",
                f"datetime {text!r} is not an RFC 3339 date-time (2026-11-26T02:00:00Z) or date",
            ) from None
        start = parse_instant(f"{day.isoformat()}T00:00:00", "datetime")
        assert start is not None
        return start + timedelta(days=1, microseconds=-1) if end else start
    moment = parse_instant(text.replace("z", "Z"), "datetime")
    assert moment is not None  # text is not empty
    if end and "." not in text:  # written to the second (as answers are): the whole second
        moment += timedelta(seconds=1, microseconds=-1)
    return moment


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An instant, a date or an interval ``start/end`` with ``..`` (or nothing) for an
    open end, as the first and last instants it covers."""
    if "/" in text:
        first, _, last = text.partition("/")
        start = None if first in ("", "..") else _moment(first, end=False)
        end = None if last in ("", "..") else _moment(last, end=True)
        if start is not None and end is not None and start > end:
            raise Malformed("bad_datetime", f"datetime {text!r} ends before it starts")
        return start, end
    if text in ("", ".."):
        raise Malformed("bad_datetime", f"datetime {text!r} names no time")
    return _moment(text, end=False), _moment(text, end=True)


def _typed(name: str, kind: str, text: str) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if kind == "boolean":
            return {"true": True, "false": False}[text.lower()]
        if kind == "date-time":
            return _moment(text, end=False)
    except (ValueError, KeyError):
        raise Malformed("bad_property", f"{name} {text!r} is not a {kind}") from None
    return text


def property_column(collection_id: str, name: str, kind: str) -> Any:
    """The SQL expression of property ``name`` of a collection (the same on both backends)."""
    if collection_id == CASES:
        return CASE_QUERYABLES[name][1]
    value = LayerFeature.props[name]
    if kind == "integer":
        return value.as_integer()
    if kind == "number":
        return value.as_float()
    if kind == "boolean":
        return value.as_boolean()
    return value.as_string()


def _property_filters(
    req: OgcRequest, collection_id: str, types: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    where = []
    for name, kind in types.items():
        text = req.one(name)
        if text is not None:
            where.append(property_column(collection_id, name, kind) == _typed(name, kind, text))
    return where


def _bbox_as_polygon(node: Any) -> Any:
    """CQL2-JSON with each ``{"bbox": [...]}`` written as a GeoJSON polygon: pygeofilter 0.4
    reads a bbox's four numbers into the wrong corners of its envelope."""
    if isinstance(node, list):
        return [_bbox_as_polygon(n) for n in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if set(node) == {"bbox"} and isinstance(box, list) and len(box) in (4, 6):
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
            raise ValueError(f"bbox {box!r} must be numbers")
        xmin, ymin, xmax, ymax = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        return mapping(shapely.box(xmin, ymin, xmax, ymax))
    return {k: _bbox_as_polygon(v) for k, v in node.items()}


def parse_filter(text: str, lang: str) -> Any:
    """A CQL2 filter in ``lang`` (``cql2-text`` or ``cql2-json``) as pygeofilter's tree,
    or ``Malformed`` saying what is wrong with it."""
    from pygeofilter.parsers.cql2_json import parse as parse_json
    from pygeofilter.parsers.cql2_text import parse as parse_text

    try:
        if lang == "cql2-json":
            return parse_json(_bbox_as_polygon(json.loads(text)))
        return parse_text(text)
    except Exception as exc:  # lark's, json's and pygeofilter's errors alike
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise Malformed(
            "bad_filter", f"filter {text[:200]!r} is not valid {lang}: {reason}"
        ) from None


def _cql_filter(
    session: Session,
    req: OgcRequest,
    collection_id: str,
    types: Mapping[str, str],
    offered: list[str],
) -> ColumnElement[bool] | None:
    lang = req.one("filter-lang") or "cql2-text"
    if lang not in FILTER_LANGS:
        raise Malformed(
            "bad_filter-lang", f"filter-lang {lang!r} must be one of {', '.join(FILTER_LANGS)}"
        )
    crs = _crs(req, "filter-crs", offered)
    text = req.one("filter")
    if text is None:
        return None
    tree = parse_filter(text, lang)
    columns = {
        name: (property_column(collection_id, name, kind), kind) for name, kind in types.items()
    }
    geometry = Issue.geom if collection_id == CASES else LayerFeature.geom
    try:
        return to_sql(tree, columns, geometry, is_postgis(session), lambda g: to_crs84(g, crs))
    except FilterError as exc:
        raise Malformed("bad_filter", f"filter {text[:200]!r}: {exc}") from None


def _case_area(actor: Actor) -> str:
    return list_area(actor)


def items(session: Session, req: OgcRequest, collection_id: str) -> Answer:
    """A page of a collection's features, with ``numberMatched`` and paging links."""
    _check_collection(collection_id)
    types = queryable_types(session, collection_id)
    _check_params(req, COMMON_PARAMS | ITEMS_PARAMS | set(types))
    html = _wants_html(req)
    offered = crs_list(session)
    crs = _crs(req, "crs", offered)
    bbox_crs = _crs(req, "bbox-crs", offered)
    where = _property_filters(req, collection_id, types)
    cql = _cql_filter(session, req, collection_id, types, offered)
    query = FeatureQuery(
        limit=_int(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(req, "offset", 0, 0, None),
        where=[*where, *([cql] if cql is not None else [])],
    )
    bbox_text = req.one("bbox")
    if bbox_text is not None:
        box, shape = parse_bbox(bbox_text, bbox_crs)
        query = replace(query, bbox=box, shape=shape)
    elif req.one("bbox-crs") is not None:
        raise Malformed("bad_bbox-crs", "bbox-crs is given without a bbox")
    datetime_text = req.one("datetime")
    interval = parse_datetime(datetime_text) if datetime_text is not None else None
    if collection_id == CASES:
        query = replace(query, area=_case_area(req.actor), reported=interval)
        features, matched = _case_features(session, req, query, crs)
    else:
        rows, matched = layer_page(session, collection_id, query)
        features = [_layer_feature(collection_id, row, crs) for row in rows]
    _ = _words(req.lang)
    path = f"/collections/{collection_id}/items"
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": iso(req.now),
        "features": features,
        "links": [
            *_page_links(req, path, query, matched, len(features), html),
            {  # Part 3 /req/queryables/queryables-link: the filterable resource links them
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": _("ogc.queryables"),
                "href": _href(req, f"/collections/{collection_id}/queryables"),
            },
        ],
    }
    if html:
        body["title"] = _(f"ogc.collection.{collection_id}")
        body["collection"] = collection_id
    return _answer(req, "items", body, GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def _page_links(
    req: OgcRequest, path: str, query: FeatureQuery, matched: int, returned: int, html: bool
) -> list[dict[str, Any]]:
    kept = [(k, v) for k, v in req.params if k not in ("offset", "f")]

    def href(offset: int, fmt: str) -> str:
        params = [*kept, ("f", fmt), *([("offset", str(offset))] if offset else [])]
        return f"{req.base}{path}?{urlencode(params)}"

    fmt, other = ("html", "json") if html else ("json", "html")
    kind = {"json": GEOJSON, "html": HTML}
    links = [
        {"rel": "self", "type": kind[fmt], "href": href(query.offset, fmt)},
        {"rel": "alternate", "type": kind[other], "href": href(query.offset, other)},
        {
            "rel": "collection",
            "type": JSON,
            "href": _href(req, path.removesuffix("/items"), f="json"),
        },
    ]
    if query.offset + returned < matched and returned:
        links.append({"rel": "next", "type": kind[fmt], "href": href(query.offset + returned, fmt)})
    if query.offset > 0:
        links.append(
            {
                "rel": "prev",
                "type": kind[fmt],
                "href": href(max(0, query.offset - query.limit), fmt),
            }
        )
    return links


def _geometry(geom: shapely.Geometry, crs: str) -> dict[str, Any]:
    return dict(mapping(from_crs84(geom, crs)))


def _layer_feature(collection_id: str, row: Any, crs: str) -> dict[str, Any]:
    private = PRIVATE_COLUMNS.get(collection_id, ())
    props = {k: v for k, v in row.props.items() if k not in private}
    return {
        "type": "Feature",
        "id": row.key,
        "geometry": _geometry(row.geom, crs),
        "properties": props,
    }


def flat_case(
    view: dict[str, Any], statuses: Mapping[str, str], lang: str, staff: bool
) -> dict[str, Any]:
    """A case view (``service.views.issue_view``) with flat properties: codes and names side
    by side, names in ``lang``; the staff fields only for ``staff``."""

    def part(key: str, sub: str) -> Any:
        value = view.get(key)
        return value.get(sub) if isinstance(value, dict) else None

    category = view["category"]
    props: dict[str, Any] = {
        "id": view["id"],
        "status": view["status"],
        "status_name": statuses.get(view["status"], view["status"]),
        "category_code": category["code"],
        "category_name": category["name_en"] if lang == "en" else category["name_zh"],
        "description": view["description"],
        "grid_code": part("grid", "code"),
        "grid_name": part("grid", "name"),
        "district_code": part("district", "code"),
        "district_name": part("district", "name"),
        "channel": view["channel"],
        "squad_id": part("squad", "id"),
        "squad_name": part("squad", "name"),
        "escalated_to_id": part("escalated_to", "id"),
        "escalated_to_name": part("escalated_to", "name"),
        "reported_at": view["reported_at"],
        "updated_at": view["updated_at"],
        "deadline": view["deadline"],
        "overdue": view["overdue"],
        "duplicate_of": view["duplicate_of"],
    }
    if staff:
        props.update(
            {
                "reporter_name": part("reporter", "name"),
                "reporter_phone": part("reporter", "phone"),
                "input_crs": part("input", "crs"),
                "input_lon": part("input", "lon"),
                "input_lat": part("input", "lat"),
                **{
                    key: view[key]
                    for key in (
                        "filed_at",
                        "dispatched_at",
                        "resolved_at",
                        "closed_at",
                        "file_deadline",
                        "handle_deadline",
                        "department_deadline",
                        "department_response",
                        "rework_count",
                    )
                },
            }
        )
    return props


def _snapshot(session: Session, req: OgcRequest) -> CommunitySnapshot:
    assert req.areas is not None, "the cases need the community snapshot"
    return req.areas.require(session)


def _case_feature(
    session: Session, req: OgcRequest, issue: Issue, staff: bool, crs: str, known: Any
) -> dict[str, Any]:
    view = issue_view(issue, _snapshot(session, req), known, req.now, staff)
    return {
        "type": "Feature",
        "id": issue.id,
        "geometry": _geometry(issue.geom, crs),
        "properties": flat_case(view, status_names(req.lang), req.lang, staff),
    }


def _case_features(
    session: Session, req: OgcRequest, query: FeatureQuery, crs: str
) -> tuple[list[dict[str, Any]], int]:
    rows, matched = case_page(session, query)
    staff = req.actor.role is not None  # a list holds only the cases of their area
    known = catalogues_for(session, {i.community_code for i in rows})  # each its community's
    return [
        _case_feature(session, req, i, staff, crs, known[i.community_code]) for i in rows
    ], matched


def item(session: Session, req: OgcRequest, collection_id: str, feature_id: str) -> Answer:
    """One feature of a collection, or ``NotFound``."""
    _check_collection(collection_id)
    _check_params(req, COMMON_PARAMS | {"crs"})
    crs = _crs(req, "crs", crs_list(session))
    missing = NotFound("no_feature", f"collection {collection_id!r} has no feature {feature_id!r}")
    if collection_id == CASES:
        if not feature_id.isdigit() or len(feature_id) > 12:
            raise missing
        try:
            issue = get_issue(session, int(feature_id))
        except IssueNotFound:
            raise missing from None
        staff = in_scope(req.actor, issue.community_code)
        known = categories_for(session, issue.community_code)
        feature = _case_feature(session, req, issue, staff, crs, known)
    else:
        row = layer_feature(session, collection_id, feature_id)
        if row is None:
            raise missing
        feature = _layer_feature(collection_id, row, crs)
    path = f"/collections/{collection_id}/items/{feature_id}"
    _ = _words(req.lang)
    feature["links"] = [
        *_self_links(req, path, GEOJSON, str(feature_id)),
        {
            "rel": "collection",
            "type": JSON,
            "href": _href(req, f"/collections/{collection_id}", f="json"),
        },
    ]
    if _wants_html(req):
        feature["title"] = _(f"ogc.collection.{collection_id}")
        feature["collection"] = collection_id
    return _answer(req, "item", feature, GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def api_document(session: Session, req: OgcRequest) -> Answer:
    """The OpenAPI 3.0 document of this API (``service-desc``); as HTML, its paths."""
    from service.ogc_openapi import document

    _check_params(req, COMMON_PARAMS)
    return _answer(req, "api", document(session, req.base), OPENAPI_30)
