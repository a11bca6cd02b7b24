"""Squads at work: members' live positions and the open tasks each squad holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cases.lifecycle import BUSY_STATUSES
from store.models import Issue, Member, MemberPosition


class NotASquadMember(LookupError):
    """The member does not exist or has not claimed a post in that squad."""


@dataclass(frozen=True)
class Position:
    member_id: str
    squad_id: str
    lon: float
    lat: float
    at: datetime


def report_position(
    session: Session,
    squad_id: str,
    member_id: str,
    lon: float,
    lat: float,
    now: datetime,
    on_duty: bool = True,
) -> None:
    """Keep a member's latest position, or forget it when the member goes off duty."""
    member = session.get(Member, member_id)
    if member is None or member.squad_id != squad_id:
        raise NotASquadMember(f"member {member_id!r} has no post in squad {squad_id!r}")
    session.execute(delete(MemberPosition).where(MemberPosition.member_id == member_id))
    if on_duty:
        session.add(
            MemberPosition(member_id=member_id, squad_id=squad_id, lon=lon, lat=lat, at=now)
        )
    session.flush()


def fresh_positions(session: Session, since: datetime) -> list[Position]:
    """Positions reported at or after ``since``."""
    rows = session.scalars(
        select(MemberPosition).where(MemberPosition.at >= since).order_by(MemberPosition.member_id)
    )
    return [Position(r.member_id, r.squad_id, r.lon, r.lat, r.at) for r in rows]


def squad_loads(session: Session) -> dict[str, int]:
    """Open tasks (dispatched or in progress) per squad."""
    rows = session.execute(
        select(Issue.squad_id, func.count())
        .where(Issue.status.in_([s.value for s in BUSY_STATUSES]), Issue.squad_id.is_not(None))
        .group_by(Issue.squad_id)
    )
    return {str(squad): int(n) for squad, n in rows}
