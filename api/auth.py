"""Bearer-token authentication and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.errors import ApiError
from cases.lifecycle import Role
from store.issues import PUBLIC, Actor
from store.models import User
from store.users import user_by_token

STAFF = frozenset(Role)


def optional_actor(request: Request, session: SessionDep) -> Actor:
    """The staff user named by the bearer token, or the public; a bad token is a 401."""
    header = request.headers.get("authorization")
    if not header:
        return PUBLIC
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "bad_token", "Authorization must be 'Bearer <token>'")
    user = _lookup(session, token.strip())
    return Actor(user.name, Role(user.role))


def _lookup(session: Session, token: str) -> User:
    user = user_by_token(session, token)
    if user is None:
        raise ApiError(
            401,
            "bad_token",
            "the token is unknown or revoked; ask an administrator "
            "for a new one (gridgov users add)",
        )
    return user


def require(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency that lets through staff with one of ``roles`` (any staff if none)."""
    allowed = frozenset(roles) or STAFF

    def check(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
        if actor.role is None:
            raise ApiError(
                401,
                "token_required",
                "this needs a staff token: send 'Authorization: Bearer <token>'",
            )
        if actor.role not in allowed:
            raise ApiError(
                403,
                "forbidden",
                f"role {actor.role} may not do this (allowed: {', '.join(sorted(allowed))})",
            )
        return actor

    return check
