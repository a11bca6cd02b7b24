"""The communities of a deployment, for operators: list them, remove one."""

from __future__ import annotations

from sqlalchemy import Engine

from service.admin import session_on
from service.errors import Conflict, NotFound
from service.settings import Settings
from store.communities import (
    CommunityRow,
    OpenCases,
    UnknownCommunity,
    Unloaded,
    list_communities,
    unload_community,
)


def communities(engine: Engine) -> list[CommunityRow]:
    """Every loaded community with its counts, by code."""
    with session_on(engine) as session:
        return list_communities(session)


def unload(engine: Engine, settings: Settings, code: str, force: bool = False) -> Unloaded:
    """Remove one community in one transaction; then its cases' photo files.

    Raises
    ------
    NotFound
        ``community_not_found``: no community has ``code``.
    Conflict
        ``open_cases``: it has open cases and ``force`` is false.
    """
    try:
        with session_on(engine, write=True) as session:
            gone = unload_community(session, code, force)
    except UnknownCommunity as exc:
        raise NotFound("community_not_found", str(exc)) from exc
    except OpenCases as exc:
        raise Conflict("open_cases", str(exc)) from exc
    for name in gone.photo_paths:  # after the commit: a failed removal loses no record
        (settings.photo_dir / name).unlink(missing_ok=True)
    return gone
