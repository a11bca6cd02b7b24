"""The public layers and the issue catalogue, as anyone may read them."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, Level, area_at, contains, level_of
from service.community import CommunitySnapshot
from service.errors import Invalid, NotFound
from service.geojson import feature_collection
from service.models import Catalogue, LayerCollection
from service.scope import asked_area
from store.catalogue import Entry, categories_for
from store.communities import community_codes
from store.issues import BBox
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


def catalogue(session: Session, area: str | None = None) -> Catalogue:
    """The issue catalogue: codes, names, time limits, escalation units, the squads able.

    Without ``area``, the shared catalogue and every squad.  With a community's code
    (or one of its grids'), that community's catalogue: its overrides applied, its
    withdrawn categories left out, and only the squads dispatched there (its own and
    its street's teams).

    Raises
    ------
    Invalid
        ``bad_area``: ``area`` is not a division code, or names a street or district
        (whose communities may differ).
    NotFound
        ``community_not_found``: no community of that code is loaded.
    """
    community = _community_asked(session, area)
    squads = read_layer(session, "squads", with_area=True)
    handlers: dict[str, list[str]] = {}
    for squad_id, cats, where in zip(
        squads.get("id", []), squads.get("categories", []), squads.get("area_code", []), strict=True
    ):
        if community is not None and isinstance(where, str) and not contains(where, community):
            continue  # another community's squad: never dispatched here
        for code in str(cats).split(","):
            handlers.setdefault(code.strip(), []).append(str(squad_id))
    entries = categories_for(session, community)
    rows = sorted((e for e in entries.values() if e.offered), key=lambda c: c.code)
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


def _community_asked(session: Session, area: str | None) -> str | None:
    """The loaded community ``area`` names (a community's or a grid's code); ``None``
    for no area."""
    code = asked_area(area)
    if code == DEPLOYMENT:
        return None
    level = level_of(code)
    if level in (Level.STREET, Level.DISTRICT):
        raise Invalid(
            "bad_area",
            f"area {code!r} is a {level}; the catalogue may differ from one community to "
            "the next: give a community's code (12 digits) or a grid's (15)",
        )
    community = area_at(code, Level.COMMUNITY)
    if community not in community_codes(session):
        raise NotFound("community_not_found", f"no community with code {community!r} is loaded")
    return community


def check_offered(
    session: Session,
    snapshot: CommunitySnapshot,
    category: str,
    community: str | None,
    entries: dict[str, Entry] | None = None,
) -> Entry:
    """``category`` as ``community`` has it, if it is offered there; ``category_not_offered``
    naming it and the community otherwise.  The caller has checked that the shared
    catalogue knows it; ``entries`` is the community's catalogue if the caller has it."""
    if entries is None:
        entries = categories_for(session, community)
    entry = entries[category]
    if not entry.offered:
        name = snapshot.community_names.get(community or "", community)
        offered = sorted(code for code, e in entries.items() if e.offered)
        raise Invalid(
            "category_not_offered",
            f"category {category!r} ({entry.name_zh}) is not taken in {name} ({community}); "
            f"use one of: {', '.join(offered)}",
            category=category,
            community=community,
        )
    return entry
