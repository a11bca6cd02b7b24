"""The data behind each page: what the managers' map, the case page, the report page,
the follow page and the planner's map show. Rendering is ``layers``'s job; the
web routes and the ``gridgov`` command both start from these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
from sqlalchemy.orm import Session

from cases.lifecycle import TRANSITIONS, Status
from service.community import CommunitySnapshot
from service.errors import Unavailable
from service.issues import load_case
from service.views import event_view, issue_view
from store.issues import (
    categories_by_code,
    history,
    open_and_overdue_by_grid,
)
from store.layers import read_layer
from store.squads import squad_loads

MAP_LAYERS = ("community", "grids", "districts", "merchants", "squads", "service_points", "parking")
PLANNING_LAYERS = ("parking", "community", "streets", "compounds")


def map_layers(session: Session, now: datetime) -> dict[str, gpd.GeoDataFrame]:
    """The managers' map layers: grids with their open and overdue counts, squads with
    their load. ``Unavailable`` while no grids are loaded."""
    layers = {name: read_layer(session, name) for name in MAP_LAYERS}
    grids = layers["grids"]
    if not len(grids):
        raise Unavailable("no_community", "No community data loaded yet. Run 'gridgov load DIR'.")
    opened, late = open_and_overdue_by_grid(session, now)
    grids["open_cases"] = [opened.get(c, 0) for c in grids["code"]]
    grids["overdue_cases"] = [late.get(c, 0) for c in grids["code"]]
    loads = squad_loads(session)
    if len(layers["squads"]):
        layers["squads"]["load"] = [loads.get(s, 0) for s in layers["squads"]["id"]]
    return layers


@dataclass(frozen=True)
class CaseStory:
    """A case as the public sees it, and its history."""

    view: dict[str, Any]
    events: list[dict[str, Any]]
    escalation_unit: str | None


def case_story(
    session: Session, snapshot: CommunitySnapshot, issue_id: int, now: datetime
) -> CaseStory:
    """A case's public fields and history (staff fetch the rest with their token)."""
    issue = load_case(session, issue_id)
    categories = categories_by_code(session)
    view = issue_view(issue, snapshot, categories, now, staff=False)
    events = [event_view(e, staff=False) for e in history(session, issue_id)]
    category = categories.get(issue.category)
    return CaseStory(view, events, category.unit if category else None)


def page_moves() -> dict[str, list[str]]:
    """The moves the case page offers from each status; a reported case may also be
    dispatched at once (filed on the way)."""
    moves: dict[str, list[str]] = {}
    for move in TRANSITIONS:
        moves.setdefault(move.source.value, []).append(move.target.value)
    moves[Status.REPORTED.value] = [*moves[Status.REPORTED.value], Status.DISPATCHED.value]
    return moves


@dataclass(frozen=True)
class ReportForm:
    """What the report page starts from: the community's centre and the catalogue."""

    centre: tuple[float, float]
    catalogue: list[dict[str, str]]


def report_form(session: Session, snapshot: CommunitySnapshot) -> ReportForm:
    """The report page's starting point and its category buttons."""
    centre = snapshot.outline.centroid
    catalogue = [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
        for c in sorted(categories_by_code(session).values(), key=lambda c: c.code)
    ]
    return ReportForm((centre.x, centre.y), catalogue)


def planning_layers(session: Session) -> dict[str, gpd.GeoDataFrame]:
    """The planner's map layers; ``Unavailable`` while no parking layer is loaded."""
    layers = {name: read_layer(session, name) for name in PLANNING_LAYERS}
    if not len(layers["parking"]):
        raise Unavailable("no_parking", "No parking layer loaded yet. Run 'gridgov load DIR'.")
    return layers
