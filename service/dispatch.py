"""Dispatch use cases: rank squads for a case, send one, share a batch out; members' positions.

"File, then dispatch" is written once (:func:`_file_and_dispatch`) and used by
the single and the batch dispatch alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cases.lifecycle import DISPATCHERS, WAITING_STATUSES, IllegalTransition, Status
from service.capacity import check_capacity
from service.catalogue import check_offered
from service.community import CommunitySnapshot
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.models import BatchPlanned, Candidates, Dispatched, PositionRecorded, SquadPositions
from service.place import wgs84_point
from service.ranking import Ranking, escalation_unit, plan_batch, rank, squad_state
from service.schemas import BatchIn, DispatchIn, PositionIn
from service.scope import case_in_scope, in_scope
from service.settings import Settings
from service.views import iso, issue_view
from store.catalogue import categories_for, shared_catalogue
from store.db import atomic
from store.issues import (
    Actor,
    ConcurrentChange,
    filed_issues,
    get_issue,
    issues_by_id,
    transition,
)
from store.models import Issue
from store.squads import NotASquadMember, report_position


def _rank_for(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    category: str,
    lon: float,
    lat: float,
    now: datetime,
    community: str | None,
    overridden: str | None = None,
) -> Ranking:
    loads, positions = squad_state(session, now, settings)
    unit = escalation_unit(session, snapshot, category, community)
    return rank(snapshot, category, lon, lat, now, loads, positions, settings, unit, overridden)


def candidates(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    now: datetime,
    actor: Actor,
    *,
    issue_id: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    category: str | None = None,
) -> Candidates:
    """Squads that can take a case (or a point and category), nearest on foot first,
    and those that cannot, with why."""
    if issue_id is not None:
        issue = case_in_scope(session, actor, issue_id)
        lon, lat, category = issue.lon, issue.lat, issue.category
        community = issue.community_code  # its category stands, even if since withdrawn
    elif lon is None or lat is None or category is None:
        raise Invalid("missing_field", "give issue_id, or lon, lat and category")
    else:
        lon, lat = wgs84_point(lon, lat, crs)
        if category not in shared_catalogue(session):
            raise Invalid("unknown_category", f"category {category!r} is not in the catalogue")
        community = snapshot.community_at(lon, lat)
        check_offered(session, snapshot, category, community)
    ranking = _rank_for(session, snapshot, settings, category, lon, lat, now, community)
    return Candidates.model_validate(
        {
            "issue_id": issue_id,
            "category": category,
            "location": {"lon": lon, "lat": lat},
            **ranking.as_dict(),
        }
    )


def _file_and_dispatch(
    session: Session,
    issue_id: int,
    squad: str,
    note: str,
    actor: Actor,
    now: datetime,
    override: bool = False,
) -> Issue:
    """File a reported case (if it is not yet), then dispatch it to ``squad``.

    Runs in the caller's transaction; ``override`` marks a dispatch over capacity.
    """
    if get_issue(session, issue_id).status == Status.REPORTED:
        transition(session, issue_id, Status.FILED, actor, now)
    fields: dict[str, str | None] = {"squad": squad, "note": note}
    return transition(session, issue_id, Status.DISPATCHED, actor, now, fields, override=override)


def dispatch_case(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    issue_id: int,
    body: DispatchIn,
    actor: Actor,
    now: datetime,
) -> Dispatched:
    """Send a waiting case to the nearest able squad (or the one named); Conflict if taken.

    A named squad at capacity takes the case only with ``override`` and a note.
    """
    issue = case_in_scope(session, actor, issue_id)
    if issue.status not in WAITING_STATUSES:
        raise Conflict(
            "not_waiting",
            f"case {issue_id} is {issue.status}; only reported or filed cases can be dispatched",
        )
    if body.override and body.squad is None:
        raise Invalid("squad_required", "an override needs the squad it is for: give squad")
    overridden = body.squad if body.override else None
    ranking = _rank_for(
        session,
        snapshot,
        settings,
        issue.category,
        issue.lon,
        issue.lat,
        now,
        issue.community_code,
        overridden,
    )
    chosen = _choose(ranking, body.squad, snapshot.squad_names)
    over = check_capacity(
        actor, chosen["squad_name"], chosen["load"], chosen["capacity"], body.override, body.note
    )
    note = body.note or (
        f"{chosen['squad_name']}: {chosen['distance_m']:.0f} m "
        f"({chosen['distance_kind']}), about {chosen['eta_min']:.0f} min"
    )
    try:
        with atomic(session):
            issue = _file_and_dispatch(
                session, issue_id, chosen["squad_id"], note, actor, now, over
            )
    except (ConcurrentChange, IllegalTransition) as exc:
        raise Conflict(
            "already_dispatched",
            f"case {issue_id} was changed by someone else while you dispatched it: {exc}",
        ) from exc
    return Dispatched.model_validate(
        {
            "issue": issue_view(
                issue, snapshot, categories_for(session, issue.community_code), now, staff=True
            ),
            "assignment": chosen,
        }
    )


def _choose(ranking: Ranking, named: str | None, squads: dict[str, str]) -> dict[str, Any]:
    if named is None:
        if not ranking.candidates:
            suggestion = ranking.suggestion or {"message": "no squad can take this case now"}
            raise Conflict(
                "no_squad_available",
                suggestion["message"],
                suggestion=ranking.suggestion,
                excluded=ranking.excluded,
            )
        return dict(ranking.candidates[0])
    if named not in squads:
        raise Invalid(
            "unknown_squad", f"squad {named!r} is not one of: {', '.join(sorted(squads))}"
        )
    for candidate in ranking.candidates:
        if candidate["squad_id"] == named:
            return dict(candidate)
    why = next((e for e in ranking.excluded if e["squad_id"] == named), None)
    if why is None:  # ranked out altogether: the squad works in another community
        raise Conflict(
            "squad_unavailable",
            f"{squads[named]} works in another community; choose a squad of this case's",
            reason="other_community",
        )
    raise Conflict(
        "squad_unavailable", f"{why['message']}; choose another squad", reason=why["reason"]
    )


def _batch_cases(session: Session, issue_ids: list[int] | None, actor: Actor) -> list[Issue]:
    if issue_ids is None:
        return filed_issues(session, limit=1000, area=actor.area)
    found = {
        i: row
        for i, row in issues_by_id(session, issue_ids).items()
        if in_scope(actor, row.community_code)
    }  # another area's case is as good as missing
    missing = [i for i in issue_ids if i not in found]
    if missing:
        raise NotFound("issue_not_found", f"no case has id {missing[0]}")
    issues = [found[i] for i in issue_ids]
    busy = [row.id for row in issues if row.status not in WAITING_STATUSES]
    if busy:
        raise Conflict("not_waiting", f"case {busy[0]} is not waiting for dispatch")
    return issues


def dispatch_batch(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    body: BatchIn,
    actor: Actor,
    now: datetime,
) -> BatchPlanned:
    """Assign waiting cases to squads with least total walking, within capacity."""
    issues = _batch_cases(session, body.issue_ids, actor)
    loads, positions = squad_state(session, now, settings)
    cases = [(i.category, i.lon, i.lat) for i in issues]
    plan = plan_batch(snapshot, cases, now, loads, positions)
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
                    "squad_name": snapshot.squad_names.get(squad),
                    "distance_m": round(float(metres or 0), 1),
                }
            )
    if not body.dry_run and assignments:
        try:
            with atomic(session):
                for item in assignments:
                    _file_and_dispatch(
                        session, item["issue_id"], item["squad_id"], "batch dispatch", actor, now
                    )
        except (ConcurrentChange, IllegalTransition) as exc:
            raise Conflict(
                "concurrent_change",
                f"a case changed during the batch; nothing was assigned: {exc}",
            ) from exc
    saving = plan.greedy_total_m - plan.total_m
    same = plan.assigned == plan.greedy_assigned
    return BatchPlanned.model_validate(
        {
            "dry_run": body.dry_run,
            "assignments": assignments,
            "unassigned": unassigned,
            "assigned": plan.assigned,
            "total_m": round(plan.total_m, 1),
            "one_by_one": {
                "assigned": plan.greedy_assigned,
                "total_m": round(plan.greedy_total_m, 1),
            },
            "saving_m": round(saving, 1) if same else None,
            "saving_share": (
                round(saving / plan.greedy_total_m, 4) if plan.greedy_total_m > 0 and same else None
            ),
        }
    )


def record_position(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    squad_id: str,
    body: PositionIn,
    now: datetime,
    actor: Actor,
) -> PositionRecorded:
    """Record where a member of the squad is now (or that the member went off duty).

    A dispatcher or above may post any member's position; any other account only
    its own member's, from that member's device (``gridgov users add --member``).
    Positions decide who is dispatched, so a planner's or another member's account
    may not move a squad.
    """
    if squad_id not in snapshot.squad_names:
        raise NotFound("squad_not_found", f"no squad has id {squad_id!r}")
    if actor.role not in DISPATCHERS and actor.member_id != body.member_id:
        raise Forbidden(
            "not_your_position",
            f"this account may post only its own member's position, not {body.member_id!r}; "
            "dispatchers and above may post any member's",
        )
    lon, lat = wgs84_point(body.lon, body.lat, body.crs)
    try:
        with atomic(session):
            report_position(session, squad_id, body.member_id, lon, lat, now, body.on_duty)
    except NotASquadMember as exc:
        raise Forbidden("not_a_member", str(exc)) from exc
    fresh = now + timedelta(minutes=settings.position_fresh_min)
    return PositionRecorded.model_validate(
        {
            "squad_id": squad_id,
            "member_id": body.member_id,
            "on_duty": body.on_duty,
            "location": {"lon": lon, "lat": lat} if body.on_duty else None,
            "fresh_until": iso(fresh) if body.on_duty else None,
        }
    )


def squad_positions(
    session: Session, snapshot: CommunitySnapshot, settings: Settings, now: datetime
) -> SquadPositions:
    """Where each squad is now: its latest fresh member position, else its base."""
    loads, positions = squad_state(session, now, settings)
    latest: dict[str, Any] = {}
    for p in positions:
        if p.squad_id not in latest or p.at > latest[p.squad_id].at:
            latest[p.squad_id] = p
    squads = []
    for squad in snapshot.squads:
        live = latest.get(squad.id)
        squads.append(
            {
                "squad_id": squad.id,
                "squad_name": squad.name,
                "squad_name_en": snapshot.english.get(("squad", squad.id)),
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
    return SquadPositions.model_validate({"now": iso(now), "squads": squads})
