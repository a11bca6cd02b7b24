"""The issue catalogue as each community sees it: the shared entries and its overrides.

The catalogue (``categories``) is shared by the deployment; a community may
change an entry's names, time limit or escalation unit, or withdraw it, in
``category_overrides``.  :func:`categories_for` is the one place the two are
merged: whatever needs a category for a case (its deadlines, its escalation
unit, whether it may be reported at all) asks it with the case's community.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from store.models import Category, CategoryOverride


@dataclass(frozen=True)
class Entry:
    """A catalogue entry as one community sees it (or the shared one)."""

    code: str
    name_zh: str
    name_en: str
    klass: str
    time_limit: str
    unit: str | None
    offered: bool = True


def _entry(row: Category) -> Entry:
    return Entry(row.code, row.name_zh, row.name_en, row.klass, row.time_limit, row.unit)


def _overridden(entry: Entry, change: CategoryOverride) -> Entry:
    """``entry`` with the values ``change`` gives; a NULL keeps the shared one."""
    return replace(
        entry,
        name_zh=change.name_zh or entry.name_zh,
        name_en=change.name_en or entry.name_en,
        time_limit=change.time_limit or entry.time_limit,
        unit=change.unit or entry.unit,
        offered=bool(change.offered),
    )


def shared_catalogue(session: Session) -> dict[str, Entry]:
    """The shared catalogue, by category code, without any community's overrides."""
    return {row.code: _entry(row) for row in session.scalars(select(Category))}


def catalogues_for(
    session: Session, communities: Iterable[str | None]
) -> dict[str | None, dict[str, Entry]]:
    """The effective catalogue of each of ``communities`` (``None``: the shared one),
    by community, each by category code; withdrawn entries are kept, ``offered``
    false (a case already filed under one still has its names and limits)."""
    wanted = set(communities)
    shared = shared_catalogue(session)
    codes = sorted(c for c in wanted if c)
    changes: dict[str, list[CategoryOverride]] = {}
    if codes:
        query = select(CategoryOverride).where(CategoryOverride.community_code.in_(codes))
        for row in session.scalars(query):
            changes.setdefault(row.community_code, []).append(row)
    out: dict[str | None, dict[str, Entry]] = {}
    for community in wanted:
        merged = dict(shared)
        for change in changes.get(community or "", []):
            if change.code in merged:
                merged[change.code] = _overridden(merged[change.code], change)
        out[community] = merged
    return out


def categories_for(session: Session, community: str | None) -> dict[str, Entry]:
    """The effective catalogue of ``community``: the shared entries with its overrides
    applied, by category code (``None``: the shared catalogue).  Withdrawn entries
    are in it with ``offered`` false."""
    return catalogues_for(session, [community])[community]


def replace_overrides(session: Session, community: str, rows: list[dict[str, object]]) -> None:
    """The community's overrides replaced by ``rows`` (column values), in the caller's
    transaction."""
    remove_overrides(session, community)
    if rows:
        session.execute(
            insert(CategoryOverride), [{**r, "community_code": community} for r in rows]
        )


def remove_overrides(session: Session, community: str) -> int:
    """Delete a community's overrides; how many there were."""
    gone = session.scalars(
        select(CategoryOverride.code).where(CategoryOverride.community_code == community)
    ).all()
    session.execute(delete(CategoryOverride).where(CategoryOverride.community_code == community))
    return len(gone)
