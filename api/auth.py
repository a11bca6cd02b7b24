"""Bearer-token authentication, with FastAPI's ``HTTPBearer`` so that OpenAPI documents
the scheme; who a token names and what a role may do are ``service.staff``'s rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SessionDep
from api.errors import ApiError
from cases.lifecycle import Role
from service.staff import STAFF, actor_for_token, check_role
from store.issues import Actor

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="staff token",
    description="A staff token from 'gridgov users add'; residents send none",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def optional_actor(request: Request, session: SessionDep, credentials: Credentials) -> Actor:
    """The staff user named by the bearer token, or the public; a bad token is a 401."""
    if credentials is None or not credentials.credentials.strip():
        if request.headers.get("authorization"):
            raise ApiError(401, "bad_token", "Authorization must be 'Bearer <token>'")
        return actor_for_token(session, None)
    return actor_for_token(session, credentials.credentials.strip())


def require(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency that lets through staff with one of ``roles`` (any staff if none)."""
    allowed = frozenset(roles) or STAFF

    def check(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
        return check_role(actor, allowed)

    return check


# any staff token; the use case decides what the role may do there
StaffDep = Annotated[Actor, Depends(require())]
# a staff token or none (the public)
ActorDep = Annotated[Actor, Depends(optional_actor)]
