"""The public layers and the issue catalogue, as anyone may read them."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy.orm import Session

from service.geojson import feature_collection
from service.models import Catalogue, LayerCollection
from store.issues import BBox, categories_by_code
from store.layers import read_layer

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


def public_layer(session: Session, layer: str, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """One of :data:`PUBLIC_LAYERS`, in WGS84, within ``bbox`` when given."""
    if layer not in PUBLIC_LAYERS:
        raise ValueError(f"layer {layer!r} is not public")
    return read_layer(session, layer, bbox)


def public_features(session: Session, layer: str, bbox: BBox | None = None) -> LayerCollection:
    """A public layer as a GeoJSON FeatureCollection with its ``total``."""
    frame = public_layer(session, layer, bbox)
    return LayerCollection.model_validate(feature_collection(frame, total=len(frame)))


def catalogue(session: Session) -> Catalogue:
    """The issue catalogue: codes, names, time limits, escalation units, the squads able."""
    squads = read_layer(session, "squads")
    handlers: dict[str, list[str]] = {}
    for squad_id, cats in zip(squads.get("id", []), squads.get("categories", []), strict=True):
        for code in str(cats).split(","):
            handlers.setdefault(code.strip(), []).append(str(squad_id))
    rows = sorted(categories_by_code(session).values(), key=lambda c: c.code)
    return Catalogue.model_validate(
        {
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
    )
