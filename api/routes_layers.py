"""Layer endpoints: the community's public layers as GeoJSON, and the catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.errors import responses
from api.geojson import GeoJSONResponse
from service.catalogue import PUBLIC_LAYERS, catalogue, public_features
from service.geojson import parse_bbox
from service.models import Catalogue, LayerCollection

router = APIRouter(prefix="/api/v1", tags=["layers"])
BBoxQuery = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")]


def _layer_route(layer: str) -> None:
    def endpoint(session: SessionDep, bbox: BBoxQuery = None) -> LayerCollection:
        return public_features(session, layer, parse_bbox(bbox))

    router.add_api_route(
        f"/{layer}",
        endpoint,
        methods=["GET"],
        name=f"list_{layer}",
        summary=f"The {layer.replace('_', ' ')} layer as GeoJSON",
        response_class=GeoJSONResponse,
        responses=responses(400),
    )


for _layer in PUBLIC_LAYERS:
    _layer_route(_layer)


@router.get("/categories", responses=responses(404, 422))
def list_categories(
    session: SessionDep,
    area: Annotated[
        str | None,
        Query(
            description="A community's (or one of its grids') code: that community's "
            "catalogue, its overrides applied and its withdrawn categories left out"
        ),
    ] = None,
) -> Catalogue:
    """The issue catalogue: codes, names, time limits, escalation units, squads; the
    shared one, or one community's."""
    return catalogue(session, area)
