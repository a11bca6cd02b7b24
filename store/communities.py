"""The communities a deployment holds: what each one counts, and removing one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cases.lifecycle import OPEN_STATUSES
from store.catalogue import remove_overrides
from store.layers import layers_changed
from store.models import Issue, IssueEvent, IssuePhoto, LayerFeature, Member, MemberPosition


@dataclass(frozen=True)
class CommunityRow:
    """One loaded community and its counts."""

    code: str
    name: str
    grids: int
    features: int  # every layer's features, grids included
    members: int
    cases: int
    open_cases: int


def list_communities(session: Session) -> list[CommunityRow]:
    """Every loaded community with its counts, by code."""
    names = dict(
        session.execute(
            select(LayerFeature.key, LayerFeature.name).where(LayerFeature.layer == "community")
        ).all()
    )
    features = _count_by(session, LayerFeature.community_code)
    grids = _count_by(session, LayerFeature.community_code, LayerFeature.layer == "grids")
    members = _count_by(session, Member.community_code)
    cases = _count_by(session, Issue.community_code)
    open_cases = _count_by(
        session, Issue.community_code, Issue.status.in_([s.value for s in OPEN_STATUSES])
    )
    return [
        CommunityRow(
            code,
            str(names[code] or ""),
            grids.get(code, 0),
            features.get(code, 0),
            members.get(code, 0),
            cases.get(code, 0),
            open_cases.get(code, 0),
        )
        for code in sorted(names)
    ]


def community_codes(session: Session) -> list[str]:
    """The codes of the loaded communities, in order: those with a boundary or grids."""
    query = (
        select(LayerFeature.community_code)
        .where(
            LayerFeature.layer.in_(["community", "grids"]),
            LayerFeature.community_code.is_not(None),
        )
        .distinct()
    )
    return sorted(str(code) for code in session.scalars(query))


def _count_by(
    session: Session, column: InstrumentedAttribute[str | None], *where: ColumnElement[bool]
) -> dict[str, int]:
    query = select(column, func.count()).where(*where).group_by(column)
    return {str(code): int(n) for code, n in session.execute(query).all() if code is not None}


def _deleted(session: Session, statement: Delete) -> int:
    """Run a DELETE; how many rows it removed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)


@dataclass(frozen=True)
class Unloaded:
    """What removing a community deleted."""

    features: int
    members: int
    cases: int
    photo_paths: tuple[str, ...]  # files of the deleted photos, for the caller to remove


class OpenCases(RuntimeError):
    """The community still has open cases, and removing it was not forced."""


class UnknownCommunity(LookupError):
    """No loaded community has the code."""


def unload_community(session: Session, code: str, force: bool = False) -> Unloaded:
    """Delete one community's layers, members, cases and catalogue overrides, in the
    caller's transaction.

    Raises
    ------
    UnknownCommunity
        No community has ``code``.
    OpenCases
        The community has open cases and ``force`` is false.
    """
    known = session.scalar(
        select(func.count()).select_from(LayerFeature).where(LayerFeature.community_code == code)
    )
    if not known:
        raise UnknownCommunity(f"no community with code {code!r} is loaded")
    still_open = int(
        session.scalar(
            select(func.count())
            .select_from(Issue)
            .where(
                Issue.community_code == code,
                Issue.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        or 0
    )
    if still_open and not force:
        raise OpenCases(
            f"community {code} has {still_open} open cases; close them, or remove it "
            "anyway with --force (its cases and their history go too)"
        )
    cases = select(Issue.id).where(Issue.community_code == code)
    photos = session.execute(
        select(IssuePhoto.path, IssuePhoto.thumb_path).where(IssuePhoto.issue_id.in_(cases))
    ).all()
    session.execute(delete(IssuePhoto).where(IssuePhoto.issue_id.in_(cases)))
    session.execute(delete(IssueEvent).where(IssueEvent.issue_id.in_(cases)))
    n_cases = _deleted(session, delete(Issue).where(Issue.community_code == code))
    members = select(Member.id).where(Member.community_code == code)
    session.execute(delete(MemberPosition).where(MemberPosition.member_id.in_(members)))
    n_members = _deleted(session, delete(Member).where(Member.community_code == code))
    n_features = _deleted(session, delete(LayerFeature).where(LayerFeature.community_code == code))
    layers_changed(session)
    remove_overrides(session, code)
    return Unloaded(
        int(n_features),
        int(n_members),
        int(n_cases),
        tuple(p for pair in photos for p in pair if p),
    )
