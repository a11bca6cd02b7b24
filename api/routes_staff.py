"""Staff endpoints: who a token names."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import StaffDep
from api.errors import responses
from service.models import Me
from service.staff import whoami

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.get("/me", responses=responses(401, 503))
def me(actor: StaffDep) -> Me:
    """The staff user the token names: name, role and area (a page signed in with the
    token opens on that area)."""
    return whoami(actor)
