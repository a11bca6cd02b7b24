"""The OpenAPI 3.0 document of ``/ogc/`` (its ``service-desc``), built from the collections.

Written here rather than taken from FastAPI's document (OpenAPI 3.1, one path for
every collection): OGC clients read the 3.0 form, with each collection's paths and
its queryable properties as parameters of its own, the way the standard's examples
show them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import ogc

REF = "#/components/"


def _param(
    name: str, description: str, schema: dict[str, Any], style: str | None = None
) -> dict[str, Any]:
    out = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if style:
        out.update({"style": style, "explode": False})
    return out


PARAMETERS: dict[str, dict[str, Any]] = {
    "f": _param("f", "The format of the answer", {"type": "string", "enum": ["json", "html"]}),
    "lang": _param(
        "lang", "The language of titles and pages", {"type": "string", "enum": ["zh", "en"]}
    ),
    "limit": _param(
        "limit",
        "How many features a page holds at most",
        {"type": "integer", "minimum": 1, "maximum": ogc.MAX_LIMIT, "default": ogc.DEFAULT_LIMIT},
        style="form",
    ),
    "offset": _param(
        "offset", "How many features to skip", {"type": "integer", "minimum": 0, "default": 0}
    ),
    "bbox": _param(
        "bbox",
        "Features meeting this box: lower and upper corner, in the axis order of bbox-crs",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
    ),
    "bbox-crs": _param("bbox-crs", "The CRS of bbox (a URI)", {"type": "string", "format": "uri"}),
    "crs": _param(
        "crs",
        "The CRS of the coordinates in the answer (a URI)",
        {"type": "string", "format": "uri"},
    ),
    "datetime": _param(
        "datetime",
        "An instant, a date, or an interval with '..' for an open end (cases: when reported)",
        {"type": "string"},
        style="form",
    ),
    "filter": _param("filter", "A CQL2 filter", {"type": "string"}),
    "filter-lang": _param(
        "filter-lang",
        "The language of filter",
        {"type": "string", "enum": ["cql2-text", "cql2-json"]},
    ),
    "filter-crs": _param(
        "filter-crs", "The CRS of the geometries in filter", {"type": "string", "format": "uri"}
    ),
}


def _json(schema_ref: str, description: str, media: str = ogc.JSON) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            media: {"schema": {"$ref": REF + "schemas/" + schema_ref}},
            ogc.HTML: {"schema": {"type": "string"}},
        },
    }


ERRORS = {
    "400": {"$ref": REF + "responses/BadRequest"},
    "404": {"$ref": REF + "responses/NotFound"},
}


def _operation(
    op_id: str, summary: str, params: list[str], ok: dict[str, Any], tag: str
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": [tag],
            "parameters": [{"$ref": REF + "parameters/" + p} for p in params],
            "responses": {"200": ok, **ERRORS},
        }
    }


def item_parameters(session: Session, collection_id: str) -> list[dict[str, Any]]:
    """The parameters of a collection's items: the standard's and its queryables."""
    return [
        _param(name, f"Features whose {name} equals this", ogc.schema_of(kind))
        for name, kind in ogc.queryable_types(session, collection_id).items()
    ]


def document(session: Session, base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the OGC API at ``base``."""
    items_params = ["f", "lang", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs"]
    if ogc.FILTERING:
        items_params += ["filter", "filter-lang", "filter-crs"]
    paths: dict[str, Any] = {
        "/": _operation(
            "getLandingPage",
            "The landing page",
            ["f", "lang"],
            _json("LandingPage", "The landing page"),
            "Capabilities",
        ),
        "/conformance": _operation(
            "getConformance",
            "The conformance classes",
            ["f", "lang"],
            _json("Conformance", "The classes"),
            "Capabilities",
        ),
        "/api": _operation(
            "getApi",
            "This document",
            ["f", "lang"],
            {
                "description": "This document",
                "content": {
                    ogc.OPENAPI_30: {"schema": {"type": "object"}},
                    ogc.HTML: {"schema": {"type": "string"}},
                },
            },
            "Capabilities",
        ),
        "/collections": _operation(
            "getCollections",
            "The collections",
            ["f", "lang"],
            _json("Collections", "The collections"),
            "Capabilities",
        ),
    }
    for cid in ogc.COLLECTIONS:
        tag = cid
        paths[f"/collections/{cid}"] = _operation(
            f"describe_{cid}",
            f"The collection {cid}",
            ["f", "lang"],
            _json("Collection", "The collection"),
            tag,
        )
        items = _operation(
            f"get_{cid}_items",
            f"Features of {cid}",
            items_params,
            _json("FeatureCollection", "A page of features", ogc.GEOJSON),
            tag,
        )
        items["get"]["parameters"] += item_parameters(session, cid)
        paths[f"/collections/{cid}/items"] = items
        feature = _operation(
            f"get_{cid}_item",
            f"One feature of {cid}",
            ["f", "lang", "crs"],
            _json("Feature", "The feature", ogc.GEOJSON),
            tag,
        )
        feature["get"]["parameters"].append(
            {
                "name": "featureId",
                "in": "path",
                "required": True,
                "description": "The feature's id",
                "schema": {"type": "string"},
            }
        )
        paths[f"/collections/{cid}/items/{{featureId}}"] = feature
        paths[f"/collections/{cid}/queryables"] = _operation(
            f"get_{cid}_queryables",
            f"The queryables of {cid}",
            ["f", "lang"],
            _json("Queryables", "The queryables", ogc.SCHEMA_JSON),
            tag,
        )
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    }
    links = {"type": "array", "items": {"$ref": REF + "schemas/Link"}}
    geometry = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
        "nullable": True,
    }
    feature_schema = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": geometry,
            "properties": {"type": "object", "nullable": True},
            "links": links,
        },
    }
    collection_schema = {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": links,
            "extent": {"type": "object"},
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    }
    exception = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    }
    error = {
        "content": {
            ogc.JSON: {"schema": {"$ref": REF + "schemas/Exception"}},
            ogc.HTML: {"schema": {"type": "string"}},
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "gridgov OGC API – Features",
            "version": "1.0.0",
            "description": "Grid-governance layers and cases as OGC API – Features",
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "servers": [{"url": base}],
        "tags": [{"name": "Capabilities"}, *({"name": cid} for cid in ogc.COLLECTIONS)],
        "paths": paths,
        "components": {
            "parameters": PARAMETERS,
            "responses": {
                "BadRequest": {
                    "description": "A parameter is unknown or its value is wrong",
                    **error,
                },
                "NotFound": {"description": "No such collection or feature", **error},
            },
            "schemas": {
                "Link": link,
                "Exception": exception,
                "LandingPage": {
                    "type": "object",
                    "required": ["links"],
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "links": links,
                    },
                },
                "Conformance": {
                    "type": "object",
                    "required": ["conformsTo"],
                    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
                },
                "Collections": {
                    "type": "object",
                    "required": ["links", "collections"],
                    "properties": {
                        "links": links,
                        "collections": {
                            "type": "array",
                            "items": {"$ref": REF + "schemas/Collection"},
                        },
                    },
                },
                "Collection": collection_schema,
                "Feature": feature_schema,
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"$ref": REF + "schemas/Feature"}},
                        "links": links,
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                    },
                },
                "Queryables": {"type": "object"},
            },
        },
    }
