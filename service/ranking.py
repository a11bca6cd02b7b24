"""Dispatch: rank the squads for a case, and share waiting cases out in one go.

Framework-free functions over the cached community snapshot (`api.areas`) and
the store; the routes in `api.routes_dispatch` are thin adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cases.areas import contains
from cases.dispatch import REASONS, SquadState, assign, assign_greedily, exclusion, local_time
from gis.crs import to_metric
from gis.network import FloatArray, Snapped, walking_matrix
from service.community import CommunitySnapshot, SquadInfo
from service.settings import Settings
from store.catalogue import categories_for
from store.squads import Position, fresh_positions, squad_loads


@dataclass
class Ranking:
    """Squads able to take a case, nearest first, and those that cannot, with why."""

    candidates: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    suggestion: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"candidates": self.candidates, "excluded": self.excluded}
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        return out


@dataclass(frozen=True)
class Place:
    """Where a squad can be measured from: its base or one member's live position."""

    squad: SquadInfo
    lon: float
    lat: float
    source: str  # "base" or "member"


def squad_places(
    areas: CommunitySnapshot, positions: list[Position], able: set[str] | None = None
) -> tuple[list[Place], FloatArray, FloatArray, Snapped | None]:
    """Each (able) squad's base and its members' fresh positions, in metres and snapped.

    The bases' snaps were made with the snapshot; only live positions are
    snapped here.
    """
    keep = [k for k, s in enumerate(areas.squads) if able is None or s.id in able]
    by_id = {s.id: s for s in areas.squads}
    live = [p for p in positions if p.squad_id in by_id and (able is None or p.squad_id in able)]
    out = [Place(areas.squads[k], areas.squads[k].lon, areas.squads[k].lat, "base") for k in keep]
    out += [Place(by_id[p.squad_id], p.lon, p.lat, "member") for p in live]
    lx, ly = to_metric([p.lon for p in live], [p.lat for p in live], metric_crs=areas.metric_crs)
    xs = np.concatenate([[areas.squads[k].x for k in keep], np.atleast_1d(lx)])
    ys = np.concatenate([[areas.squads[k].y for k in keep], np.atleast_1d(ly)])
    snapped = None
    if areas.network is not None and areas.base_snaps is not None and out:
        parts = [areas.base_snaps.take(keep)]
        if live:
            parts.append(areas.network.snap(lx, ly))
        snapped = Snapped.concat(parts)
    return out, xs, ys, snapped


def rank(
    areas: CommunitySnapshot,
    category: str,
    lon: float,
    lat: float,
    now: datetime,
    loads: dict[str, int],
    positions: list[Position],
    settings: Settings,
    escalate_to: tuple[str, str] | None = None,
    overridden: str | None = None,
) -> Ranking:
    """Rank the squads for a case of ``category`` at a WGS84 point.

    A squad is measured from its nearest fresh member position if it has any,
    else from its base, along the walking network where there is one.  The
    ``overridden`` squad counts as able even at capacity (a dispatcher's override).
    """
    local = local_time(now)
    ranking = Ranking()
    able: set[str] = set()
    home = areas.community_at(lon, lat)
    for squad in areas.squads:
        if not _serves(squad, home):
            continue
        state = SquadState(
            squad.id,
            squad.name,
            squad.categories,
            squad.duty_hours,
            squad.capacity,
            loads.get(squad.id, 0),
        )
        reason = exclusion(state, category, local, ignore_capacity=squad.id == overridden)
        if reason is None:
            able.add(squad.id)
        else:
            ranking.excluded.append(
                {
                    "squad_id": squad.id,
                    "squad_name": squad.name,
                    "squad_name_en": areas.english.get(("squad", squad.id)),
                    "reason": reason,
                    "message": f"{squad.name} {REASONS[reason]}",
                    "load": state.load,
                    "capacity": squad.capacity,
                    "duty_hours": squad.duty_hours,
                }
            )
    places, px, py, snapped = squad_places(areas, positions, able)
    if places:
        x0, y0 = to_metric(lon, lat, metric_crs=areas.metric_crs)
        found = walking_matrix(areas.network, [float(x0)], [float(y0)], px, py, snapped)
        metres, kinds = found.metres[0], found.kind[0]
        best: dict[str, int] = {}
        for i, spot in enumerate(places):  # members beat the base; among them, the nearest
            j = best.get(spot.squad.id)
            if j is None or _better(spot, metres[i], places[j], metres[j]):
                best[spot.squad.id] = i
        for squad_id, i in sorted(best.items(), key=lambda kv: metres[kv[1]]):
            spot = places[i]
            ranking.candidates.append(
                {
                    "squad_id": squad_id,
                    "squad_name": spot.squad.name,
                    "squad_name_en": areas.english.get(("squad", squad_id)),
                    "position": {"lon": spot.lon, "lat": spot.lat},
                    "position_source": spot.source,
                    "distance_m": round(float(metres[i]), 1),
                    "distance_kind": str(kinds[i]),
                    "eta_min": round(float(metres[i]) / settings.walking_speed_mps / 60, 1),
                    "load": loads.get(squad_id, 0),
                    "capacity": spot.squad.capacity,
                }
            )
    if not ranking.candidates:
        english = areas.english.get(("unit", escalate_to[0])) if escalate_to else None
        ranking.suggestion = _escalation(category, ranking.excluded, escalate_to, english)
    return ranking


def _serves(squad: SquadInfo, community: str | None) -> bool:
    """Whether ``squad`` is dispatched to cases in ``community``: a community's squads
    work within it, a street's teams in all its communities (where either is unknown,
    nothing is ruled out)."""
    return community is None or squad.community is None or contains(squad.community, community)


def _better(a: Place, da: float, b: Place, db: float) -> bool:
    if a.source != b.source:
        return a.source == "member"
    return da < db


def _escalation(
    category: str,
    excluded: list[dict[str, Any]],
    unit: tuple[str, str] | None,
    unit_en: str | None = None,
) -> dict[str, Any]:
    reasons = {e["reason"] for e in excluded}
    why = (
        "no squad handles this category"
        if reasons <= {"category_not_handled"}
        else "every squad that handles it is off duty or at capacity"
    )
    suggestion: dict[str, Any] = {
        "action": "escalate",
        "message": f"No squad can take this {category} case now: {why}.",
    }
    if unit is not None:
        suggestion["department"] = {"id": unit[0], "name": unit[1], "name_en": unit_en}
        suggestion["message"] += (
            f" Escalate it to {unit[1]} (书记面对面), or wait for a squad to come free."
        )
    return suggestion


def squad_state(
    session: Session, now: datetime, settings: Settings
) -> tuple[dict[str, int], list[Position]]:
    """The squads' loads and their members' fresh positions, as of ``now``."""
    since = now - timedelta(minutes=settings.position_fresh_min)
    return squad_loads(session), fresh_positions(session, since)


def escalation_unit(
    session: Session, areas: CommunitySnapshot, category: str, community: str | None
) -> tuple[str, str] | None:
    """The co-building unit that takes ``category`` when ``community`` cannot: the
    community's own choice if it overrides the shared one."""
    row = categories_for(session, community).get(category)
    if row is None or not row.unit:
        return None
    return row.unit, areas.unit_names.get(row.unit, row.unit)


@dataclass(frozen=True)
class BatchPlan:
    """Cases matched to squads, with what it saves over one-by-one dispatch."""

    squad_of: list[str | None]
    metres: list[float | None]
    total_m: float
    greedy_total_m: float
    assigned: int
    greedy_assigned: int


def plan_batch(
    areas: CommunitySnapshot,
    cases: list[tuple[str, float, float]],
    now: datetime,
    loads: dict[str, int],
    positions: list[Position],
) -> BatchPlan:
    """Share ``cases`` (category, lon, lat) among the squads with least total walking.

    Each squad is measured from its base or its members' fresh positions,
    whichever is nearest to each case, and takes no more than its free capacity.
    """
    local = local_time(now)
    squads = list(areas.squads)
    if not cases or not squads:
        return BatchPlan([None] * len(cases), [None] * len(cases), 0.0, 0.0, 0, 0)
    places, sx, sy, snapped = squad_places(areas, positions)
    cx, cy = to_metric([c[1] for c in cases], [c[2] for c in cases], metric_crs=areas.metric_crs)
    spot_metres = walking_matrix(areas.network, cx, cy, sx, sy, snapped).metres
    column = {s.id: k for k, s in enumerate(squads)}
    cost = np.full((len(cases), len(squads)), np.inf)
    for j, spot in enumerate(places):
        k = column[spot.squad.id]
        cost[:, k] = np.minimum(cost[:, k], spot_metres[:, j])
    states = [
        SquadState(s.id, s.name, s.categories, s.duty_hours, s.capacity, loads.get(s.id, 0))
        for s in squads
    ]
    homes = [areas.community_at(c[1], c[2]) for c in cases]
    allowed = np.array(
        [
            [
                exclusion(st, c[0], local) is None and _serves(sq, h)
                for st, sq in zip(states, squads, strict=True)
            ]
            for c, h in zip(cases, homes, strict=True)
        ]
    )
    free = np.array([max(s.capacity - loads.get(s.id, 0), 0) for s in squads])
    best = assign(cost, free, allowed)
    greedy = assign_greedily(cost, free, allowed)
    return BatchPlan(
        squad_of=[squads[k].id if k >= 0 else None for k in best.squad_of],
        metres=[float(cost[i, k]) if k >= 0 else None for i, k in enumerate(best.squad_of)],
        total_m=best.total_m,
        greedy_total_m=greedy.total_m,
        assigned=int((best.squad_of >= 0).sum()),
        greedy_assigned=int((greedy.squad_of >= 0).sum()),
    )
