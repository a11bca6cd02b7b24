"""Staff accounts and their bearer tokens (only hashes are stored)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, check_area
from cases.lifecycle import Role
from store.models import Member, User


class UnknownRole(ValueError):
    """The role is not one of cases.lifecycle.Role."""


class UnknownMember(LookupError):
    """The member a device account is for does not exist."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    session: Session,
    name: str,
    role: str,
    now: datetime,
    member_id: str | None = None,
    area: str = DEPLOYMENT,
) -> tuple[User, str]:
    """Create a staff user; returns it and its token, which is shown only this once.

    With ``member_id`` the account is that squad member's device; ``area`` is the
    district, street or community its role holds in (the whole deployment by
    default).
    """
    try:
        checked = Role(role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise UnknownRole(f"role {role!r} is not one of: {roles}") from exc
    if area != DEPLOYMENT:
        check_area(area)  # BadAreaCode names it, and refuses a grid
    if member_id is not None and session.get(Member, member_id) is None:
        raise UnknownMember(f"no member has id {member_id!r}")
    token = secrets.token_urlsafe(32)
    user = User(
        name=name,
        role=checked,
        token_hash=token_hash(token),
        active=True,
        created_at=now,
        member_id=member_id,
        area=area,
    )
    session.add(user)
    session.flush()
    return user, token


def user_by_token(session: Session, token: str) -> User | None:
    """The active user holding ``token``, if any."""
    return session.scalar(
        select(User).where(User.token_hash == token_hash(token), User.active.is_(True))
    )


def user_by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def all_users(session: Session) -> list[User]:
    """Every staff account, active or revoked, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


class OwnAccount(ValueError):
    """An account may not revoke itself."""


def deactivate(session: Session, user_id: int, keep: int | None = None) -> User | None:
    """Revoke the account ``user_id`` (its token stops working); ``None`` if there is none.

    Raises
    ------
    OwnAccount
        when ``user_id`` is ``keep``, the account asking.
    """
    user = session.get(User, user_id)
    if user is None:
        return None
    if user.id == keep:
        raise OwnAccount(f"account {user_id} may not revoke itself; ask another admin")
    user.active = False
    session.flush()
    return user
