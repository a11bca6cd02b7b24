"""Administration use cases the ``gridgov`` command runs: sessions outside a request,
staff accounts, and the demo history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cases.areas import BadAreaCode
from service.errors import Invalid
from service.settings import Settings
from store.db import private_dir
from store.demo import load_demo_cases
from store.issues import count_issues
from store.layers import layer_counts
from store.users import UnknownMember, UnknownRole, add_user, user_by_name, user_by_token

DEMO_MANAGER = "演示管理员"


@contextmanager
def session_on(engine: Engine, write: bool = False) -> Iterator[Session]:
    """A session outside any request; with ``write``, one transaction committed at the end."""
    with Session(engine) as session:
        if write:
            with session.begin():
                yield session
        else:
            yield session


def has_grids(engine: Engine) -> bool:
    """Whether a community's grids are loaded."""
    with session_on(engine) as session:
        return bool(layer_counts(session).get("grids"))


def add_staff(
    engine: Engine,
    name: str,
    role: str,
    now: datetime,
    member_id: str | None = None,
    area: str = "",
) -> tuple[int, str]:
    """Create a staff user (``member_id``: a member's phone; ``area``: where the role
    holds, the whole deployment by default); its id and token.

    Only a hash of the token is stored.
    """
    try:
        with session_on(engine, write=True) as session:
            user, token = add_user(session, name, role, now, member_id, area)
            return user.id, token
    except BadAreaCode as exc:
        raise Invalid("bad_area", str(exc)) from exc
    except UnknownRole as exc:
        raise Invalid("unknown_role", str(exc)) from exc
    except UnknownMember as exc:
        raise Invalid("unknown_member", str(exc)) from exc


@dataclass(frozen=True)
class Demo:
    """What the demo set-up did: cases it wrote (0 if there were some) and the token."""

    cases_loaded: int
    token: str


def demo(engine: Engine, settings: Settings, now: datetime) -> Demo:
    """Add the demo case history if there are no cases, and a demo manager whose token is
    kept in the var folder (a new one when the kept one no longer works)."""
    token_file = settings.var_dir / "demo-manager.token"
    loaded = 0
    with session_on(engine, write=True) as session:
        if not count_issues(session):
            loaded = load_demo_cases(session, now, settings.file_limit)
        token = token_file.read_text().strip() if token_file.exists() else ""
        if not token or user_by_token(session, token) is None:
            old = user_by_name(session, DEMO_MANAGER)
            if old is not None:
                old.active = False
            _, token = add_user(session, DEMO_MANAGER, "manager", now)
            private_dir(token_file.parent)
            token_file.write_text(token + "\n")
            token_file.chmod(0o600)
    return Demo(loaded, token)
