"""Administration use cases the ``gridgov`` command runs: sessions outside a request,
staff accounts, and the demo history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.models import StaffAccount, StaffAccounts
from service.schemas import StaffAccountIn
from service.settings import Settings
from service.users import OPERATOR, add_account, list_accounts, revoke_account
from store.db import private_dir
from store.demo import load_demo_cases
from store.issues import count_issues
from store.layers import layer_counts
from store.users import add_user, user_by_name, user_by_token

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
    """Create a staff user as the operator (``member_id``: a member's phone; ``area``:
    where the role holds, the whole deployment by default); its id and token.

    The rules are :func:`service.users.add_account`'s; only a hash of the token is stored.
    """
    # not validated here: store.users.add_user checks the role and area and names a bad one
    asked = StaffAccountIn.model_construct(
        name=name,
        role=role,  # type: ignore[arg-type]
        area=area,
        member_id=member_id,
    )
    with session_on(engine) as session:
        created = add_account(session, OPERATOR, asked, now)
    return created.id, created.token


def list_staff(engine: Engine) -> StaffAccounts:
    """Every staff account, as the operator sees them."""
    with session_on(engine) as session:
        return list_accounts(session, OPERATOR)


def revoke_staff(engine: Engine, user_id: int) -> StaffAccount:
    """Revoke an account's token, as the operator."""
    with session_on(engine) as session:
        return revoke_account(session, OPERATOR, user_id)


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
