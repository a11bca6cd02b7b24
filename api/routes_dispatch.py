"""Dispatch endpoints: rank squads for a case, assign one, share a batch out;
and members' live positions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.auth import require
from api.deps import NowDep, SessionDep, SettingsDep, snapshot_of
from api.errors import ApiError
from cases.lifecycle import DISPATCHERS, FIELD_STAFF, IllegalTransition, Status
from service.issues import case_not_found
from service.place import wgs84_point
from service.ranking import escalation_unit, plan_batch, rank, squad_state
from service.views import iso, issue_view
from store.db import atomic
from store.issues import (
    Actor,
    ConcurrentChange,
    IssueNotFound,
    categories_by_code,
    get_issue,
    transition,
)
from store.models import Issue
from store.squads import NotASquadMember, report_position

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
DispatcherDep = Annotated[Actor, Depends(require(*DISPATCHERS))]
FieldStaffDep = Annotated[Actor, Depends(require(*FIELD_STAFF))]
StaffDep = Annotated[Actor, Depends(require())]
WAITING = (Status.REPORTED.value, Status.FILED.value)


@router.get("/dispatch/candidates")
def candidates(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: DispatcherDep,
    now: NowDep,
    issue_id: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    category: str | None = None,
) -> dict[str, Any]:
    """Squads that can take a case, nearest on foot first, and those that cannot, with why."""
    areas = snapshot_of(request, session)
    if issue_id is not None:
        try:
            issue = get_issue(session, issue_id)
        except IssueNotFound as exc:
            raise case_not_found(exc) from exc
        lon, lat, category = issue.lon, issue.lat, issue.category
    elif lon is None or lat is None or category is None:
        raise ApiError(422, "missing_field", "give issue_id, or lon, lat and category")
    else:
        lon, lat = wgs84_point(lon, lat, crs)
    if category not in categories_by_code(session):
        raise ApiError(422, "unknown_category", f"category {category!r} is not in the catalogue")
    loads, positions = squad_state(session, now, settings)
    ranking = rank(
        areas,
        category,
        lon,
        lat,
        now,
        loads,
        positions,
        settings,
        escalation_unit(session, areas, category),
    )
    return {
        "issue_id": issue_id,
        "category": category,
        "location": {"lon": lon, "lat": lat},
        **ranking.as_dict(),
    }


class DispatchIn(BaseModel):
    """Which squad: the best one unless a dispatcher names another able one."""

    model_config = ConfigDict(extra="forbid")
    squad: str | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.post("/issues/{issue_id}/dispatch")
def dispatch(
    issue_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: FieldStaffDep,
    now: NowDep,
    body: DispatchIn | None = None,
) -> dict[str, Any]:
    """Send a waiting case to the nearest able squad (or the one named); 409 if taken.

    Grid workers may do it too, on the spot; ranking squads without dispatching,
    which shows where people are, stays with dispatchers.
    """
    body = body or DispatchIn()
    areas = snapshot_of(request, session)
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound as exc:
        raise case_not_found(exc) from exc
    if issue.status not in WAITING:
        raise ApiError(
            409,
            "not_waiting",
            f"case {issue_id} is {issue.status}; only reported or filed cases can be dispatched",
        )
    loads, positions = squad_state(session, now, settings)
    ranking = rank(
        areas,
        issue.category,
        issue.lon,
        issue.lat,
        now,
        loads,
        positions,
        settings,
        escalation_unit(session, areas, issue.category),
    )
    chosen = _choose(ranking, body.squad, areas.squad_names)
    try:
        with atomic(session):
            if issue.status == Status.REPORTED:
                transition(session, issue_id, Status.FILED, actor, now)
            note = body.note or (
                f"{chosen['squad_name']}: {chosen['distance_m']:.0f} m "
                f"({chosen['distance_kind']}), about {chosen['eta_min']:.0f} min"
            )
            issue = transition(
                session,
                issue_id,
                Status.DISPATCHED,
                actor,
                now,
                {"squad": chosen["squad_id"], "note": note},
            )
    except (ConcurrentChange, IllegalTransition) as exc:
        raise ApiError(
            409,
            "already_dispatched",
            f"case {issue_id} was changed by someone else while you dispatched it: {exc}",
        ) from exc
    return {
        "issue": issue_view(issue, areas, categories_by_code(session), now, staff=True),
        "assignment": chosen,
    }


def _choose(ranking: Any, named: str | None, squads: dict[str, str]) -> dict[str, Any]:
    if named is None:
        if not ranking.candidates:
            raise ApiError(
                409,
                "no_squad_available",
                ranking.suggestion["message"],
                suggestion=ranking.suggestion,
                excluded=ranking.excluded,
            )
        return dict(ranking.candidates[0])
    if named not in squads:
        raise ApiError(
            422, "unknown_squad", f"squad {named!r} is not one of: {', '.join(sorted(squads))}"
        )
    for candidate in ranking.candidates:
        if candidate["squad_id"] == named:
            return dict(candidate)
    why = next(e for e in ranking.excluded if e["squad_id"] == named)
    raise ApiError(
        409, "squad_unavailable", f"{why['message']}; choose another squad", reason=why["reason"]
    )


class BatchIn(BaseModel):
    """Cases to share out (default: every filed case), and whether to only plan."""

    model_config = ConfigDict(extra="forbid")
    issue_ids: list[int] | None = Field(default=None, max_length=1000)
    dry_run: bool = False


@router.post("/dispatch/batch")
def dispatch_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: DispatcherDep,
    now: NowDep,
    body: BatchIn | None = None,
) -> dict[str, Any]:
    """Assign waiting cases to squads with least total walking, within capacity."""
    body = body or BatchIn()
    areas = snapshot_of(request, session)
    if body.issue_ids is None:
        query = select(Issue).where(Issue.status == Status.FILED).order_by(Issue.id).limit(1000)
        issues = list(session.scalars(query))
    else:
        issues = [session.get(Issue, i) for i in body.issue_ids]  # type: ignore[misc]
        missing = [i for i, row in zip(body.issue_ids, issues, strict=True) if row is None]
        if missing:
            raise ApiError(404, "issue_not_found", f"no case has id {missing[0]}")
        busy = [row.id for row in issues if row.status not in WAITING]
        if busy:
            raise ApiError(409, "not_waiting", f"case {busy[0]} is not waiting for dispatch")
    loads, positions = squad_state(session, now, settings)
    plan = plan_batch(areas, [(i.category, i.lon, i.lat) for i in issues], now, loads, positions)
    assignments: list[dict[str, Any]] = []
    unassigned: list[dict[str, Any]] = []
    for issue, squad, metres in zip(issues, plan.squad_of, plan.metres, strict=True):
        if squad is None:
            unassigned.append({"issue_id": issue.id, "category": issue.category})
        else:
            assignments.append(
                {
                    "issue_id": issue.id,
                    "squad_id": squad,
                    "squad_name": areas.squad_names.get(squad),
                    "distance_m": round(float(metres or 0), 1),
                }
            )
    if not body.dry_run and assignments:
        try:
            with atomic(session):
                for item in assignments:
                    if get_issue(session, item["issue_id"]).status == Status.REPORTED:
                        transition(session, item["issue_id"], Status.FILED, actor, now)
                    transition(
                        session,
                        item["issue_id"],
                        Status.DISPATCHED,
                        actor,
                        now,
                        {"squad": item["squad_id"], "note": "batch dispatch"},
                    )
        except (ConcurrentChange, IllegalTransition) as exc:
            raise ApiError(
                409,
                "concurrent_change",
                f"a case changed during the batch; nothing was assigned: {exc}",
            ) from exc
    saving = plan.greedy_total_m - plan.total_m
    return {
        "dry_run": body.dry_run,
        "assignments": assignments,
        "unassigned": unassigned,
        "assigned": plan.assigned,
        "total_m": round(plan.total_m, 1),
        "one_by_one": {"assigned": plan.greedy_assigned, "total_m": round(plan.greedy_total_m, 1)},
        "saving_m": round(saving, 1) if plan.assigned == plan.greedy_assigned else None,
        "saving_share": (
            round(saving / plan.greedy_total_m, 4)
            if plan.greedy_total_m > 0 and plan.assigned == plan.greedy_assigned
            else None
        ),
    }


class PositionIn(BaseModel):
    """A member's position from the phone."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    member_id: str = Field(min_length=1, max_length=20)
    lon: float
    lat: float
    crs: str = "wgs84"
    on_duty: bool = True


@router.post("/squads/{squad_id}/position")
def squad_position(
    squad_id: str,
    body: PositionIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: StaffDep,
    now: NowDep,
) -> dict[str, Any]:
    """Record where a member of the squad is now (or that the member went off duty)."""
    areas = snapshot_of(request, session)
    if squad_id not in areas.squad_names:
        raise ApiError(404, "squad_not_found", f"no squad has id {squad_id!r}")
    lon, lat = wgs84_point(body.lon, body.lat, body.crs)
    try:
        with atomic(session):
            report_position(session, squad_id, body.member_id, lon, lat, now, body.on_duty)
    except NotASquadMember as exc:
        raise ApiError(403, "not_a_member", str(exc)) from exc
    fresh = now + timedelta(minutes=settings.position_fresh_min)
    return {
        "squad_id": squad_id,
        "member_id": body.member_id,
        "on_duty": body.on_duty,
        "location": {"lon": lon, "lat": lat} if body.on_duty else None,
        "fresh_until": iso(fresh) if body.on_duty else None,
    }


@router.get("/squads/positions")
def squad_positions(
    request: Request, session: SessionDep, settings: SettingsDep, _: DispatcherDep, now: NowDep
) -> dict[str, Any]:
    """Where each squad is now: its latest fresh member position, else its base (staff only)."""
    areas = snapshot_of(request, session)
    loads, positions = squad_state(session, now, settings)
    latest: dict[str, Any] = {}
    for p in positions:
        if p.squad_id not in latest or p.at > latest[p.squad_id].at:
            latest[p.squad_id] = p
    squads = []
    for squad in areas.squads:
        live = latest.get(squad.id)
        squads.append(
            {
                "squad_id": squad.id,
                "squad_name": squad.name,
                "position": {
                    "lon": live.lon if live else squad.lon,
                    "lat": live.lat if live else squad.lat,
                },
                "position_source": "member" if live else "base",
                "reported_at": iso(live.at) if live else None,
                "members_on_duty": sum(1 for p in positions if p.squad_id == squad.id),
                "load": loads.get(squad.id, 0),
                "capacity": squad.capacity,
            }
        )
    return {"now": iso(now), "squads": squads}
