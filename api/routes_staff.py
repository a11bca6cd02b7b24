"""Staff endpoints: who a token names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import require
from api.errors import responses
from service.models import Me
from service.staff import whoami
from store.issues import Actor

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.get("/me", responses=responses(401, 503))
def me(actor: Annotated[Actor, Depends(require())]) -> Me:
    """The staff user the token names: name, role and area (a page signed in with the
    token opens on that area)."""
    return whoami(actor)
