"""Staff accounts: a deployment admin lists, adds and revokes them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth import StaffDep
from api.deps import NowDep, SessionDep
from api.errors import responses
from service import users as use
from service.models import StaffAccount, StaffAccountCreated, StaffAccounts
from service.schemas import MAX_ID, StaffAccountIn

router = APIRouter(prefix="/api/v1/users", tags=["staff"])


@router.get("", responses=responses(401, 403, 503))
def list_users(session: SessionDep, actor: StaffDep) -> StaffAccounts:
    """Every staff account (deployment admins only); tokens are never shown again."""
    return use.list_accounts(session, actor)


@router.post("", status_code=201, responses=responses(401, 403, 422, 503))
def add_user(
    body: StaffAccountIn, session: SessionDep, actor: StaffDep, now: NowDep
) -> StaffAccountCreated:
    """Create a staff account; its token is in this answer only (deployment admins only)."""
    return use.add_account(session, actor, body, now)


@router.post("/{user_id}/revoke", responses=responses(401, 403, 404, 409, 503))
def revoke_user(
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, actor: StaffDep
) -> StaffAccount:
    """Revoke an account's token for good (deployment admins only; not one's own)."""
    return use.revoke_account(session, actor, user_id)
