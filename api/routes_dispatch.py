"""Dispatch endpoints: rank squads for a case, assign one, share a batch out;
and members' live positions. Each calls one use case in ``service.dispatch``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import StaffDep, require
from api.deps import IssueId, NowDep, SessionDep, SettingsDep, SnapshotDep
from api.errors import responses
from cases.lifecycle import DISPATCHERS, FIELD_STAFF
from service import dispatch as use
from service import pages
from service.models import BatchPlanned, Candidates, Dispatched, PositionRecorded, SquadPositions
from service.schemas import MAX_ID, BatchIn, DispatchIn, PositionIn
from store.issues import Actor

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
DispatcherDep = Annotated[Actor, Depends(require(*DISPATCHERS))]
FieldStaffDep = Annotated[Actor, Depends(require(*FIELD_STAFF))]


@router.get("/dispatch/candidates", responses=responses(401, 403, 404, 422, 503))
def candidates(
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: DispatcherDep,
    now: NowDep,
    issue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    category: str | None = None,
) -> Candidates:
    """Squads that can take a case, nearest on foot first, and those that cannot, with why."""
    return use.candidates(
        session, snapshot, settings, now, actor,
        issue_id=issue_id, lon=lon, lat=lat, crs=crs, category=category,
    )  # fmt: skip


@router.post("/issues/{issue_id}/dispatch", responses=responses(401, 403, 404, 409, 422, 503))
def dispatch(
    issue_id: IssueId,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: FieldStaffDep,
    now: NowDep,
    body: DispatchIn | None = None,
) -> Dispatched:
    """Send a waiting case to the nearest able squad (or the one named); 409 if taken.

    Grid workers may do it too, on the spot; ranking squads without dispatching,
    which shows where people are, stays with dispatchers.
    """
    body = body or DispatchIn()
    return use.dispatch_case(session, snapshot, settings, issue_id, body, actor, now)


@router.post("/dispatch/batch", responses=responses(401, 403, 404, 409, 422, 503))
def dispatch_batch(
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: DispatcherDep,
    now: NowDep,
    body: BatchIn | None = None,
) -> BatchPlanned:
    """Assign waiting cases to squads with least total walking, within capacity."""
    return use.dispatch_batch(session, snapshot, settings, body or BatchIn(), actor, now)


@router.post("/squads/{squad_id}/position", responses=responses(401, 403, 404, 422, 503))
def squad_position(
    squad_id: str,
    body: PositionIn,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: StaffDep,
    now: NowDep,
) -> PositionRecorded:
    """Record where a member of the squad is now (or that the member went off duty).

    A member's own device (an account made with ``--member``) or a dispatcher and above."""
    return use.record_position(session, snapshot, settings, squad_id, body, now, actor)


@router.get("/squads/loads", responses=responses(503))
def squad_loads(session: SessionDep) -> dict[str, dict[str, int]]:
    """Each squad's load now: its open tasks (dispatched or in progress), by squad id (a
    squad with none is left out); what the managers' map shows on the squads' pins."""
    return {"loads": pages.squads_at_work(session)}


@router.get("/squads/positions", responses=responses(401, 403, 503))
def squad_positions(
    session: SessionDep, snapshot: SnapshotDep, settings: SettingsDep, _: DispatcherDep, now: NowDep
) -> SquadPositions:
    """Where each squad is now: its latest fresh member position, else its base (staff only)."""
    return use.squad_positions(session, snapshot, settings, now)
