"""Who is asking: a staff user named by a token, or the public; and what a role may do."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from cases.lifecycle import Role
from service.errors import Forbidden, Unauthenticated
from service.models import Me
from store.issues import PUBLIC, Actor
from store.users import user_by_token

STAFF = frozenset(Role)


def actor_for_token(session: Session, token: str | None) -> Actor:
    """The staff user a bearer token names; the public when there is none.

    Raises
    ------
    Unauthenticated
        ``bad_token`` for a token that is unknown or revoked.
    """
    if token is None:
        return PUBLIC
    user = user_by_token(session, token)
    if user is None:
        raise Unauthenticated(
            "bad_token",
            "the token is unknown or revoked; ask an administrator "
            "for a new one (gridgov users add)",
        )
    return Actor(user.name, Role(user.role), user.member_id, user.area, user.id)


def check_role(actor: Actor, allowed: Collection[Role] = STAFF) -> Actor:
    """``actor`` when it is staff with one of the ``allowed`` roles."""
    if actor.role is None:
        raise Unauthenticated(
            "token_required", "this needs a staff token: send 'Authorization: Bearer <token>'"
        )
    if actor.role not in allowed:
        raise Forbidden(
            "forbidden",
            f"role {actor.role} may not do this (allowed: {', '.join(sorted(allowed))})",
        )
    return actor


def whoami(actor: Actor) -> Me:
    """The staff user asking: their name, role and area (the pages open on that area)."""
    staff = check_role(actor)
    return Me(name=staff.name, role=str(staff.role), area=staff.area)
