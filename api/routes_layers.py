"""Layer endpoints: the community's public layers as GeoJSON, and the catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import SessionDep
from api.geojson import GeoJSONResponse, feature_collection, parse_bbox
from store.layers import read_layer
from store.models import Category

router = APIRouter(prefix="/api/v1", tags=["layers"])

# Layers anyone may read.  None of them holds personal data; Party members are a
# separate table that no public endpoint reads.
PUBLIC_LAYERS = (
    "community",
    "grids",
    "districts",
    "merchants",
    "squads",
    "units",
    "service_points",
    "parking",
    "compounds",
    "buildings",
    "streets",
)
BBoxQuery = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")]


def _layer_route(layer: str) -> None:
    def endpoint(session: SessionDep, bbox: BBoxQuery = None) -> GeoJSONResponse:
        frame = read_layer(session, layer, parse_bbox(bbox))
        return GeoJSONResponse(feature_collection(frame, total=len(frame)))

    router.add_api_route(
        f"/{layer}",
        endpoint,
        methods=["GET"],
        name=f"list_{layer}",
        summary=f"The {layer.replace('_', ' ')} layer as GeoJSON",
        response_class=GeoJSONResponse,
    )


for _layer in PUBLIC_LAYERS:
    _layer_route(_layer)


@router.get("/categories")
def list_categories(session: SessionDep) -> dict[str, Any]:
    """The issue catalogue: codes, names, time limits, escalation units, squads."""
    squads = read_layer(session, "squads")
    handlers: dict[str, list[str]] = {}
    for squad_id, cats in zip(squads.get("id", []), squads.get("categories", []), strict=True):
        for code in str(cats).split(","):
            handlers.setdefault(code.strip(), []).append(str(squad_id))
    rows = session.scalars(select(Category).order_by(Category.code))
    return {
        "categories": [
            {
                "code": c.code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "class": c.klass,
                "time_limit": c.time_limit,
                "escalation_unit": c.unit,
                "squads": handlers.get(c.code, []),
            }
            for c in rows
        ]
    }
