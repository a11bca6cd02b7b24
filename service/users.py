"""Staff accounts as a deployment admin manages them: list, add, revoke.

Only a deployment admin (role ``admin`` over the whole deployment, area ``""``)
manages users: an admin of a street or a community holds the role only within
that area, and accounts are the deployment's.  The ``gridgov users`` commands
are the operator's way in (they need the database itself); these use cases are
the same rules behind the API.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, BadAreaCode
from cases.lifecycle import Role
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.models import StaffAccount, StaffAccountCreated, StaffAccounts
from service.schemas import StaffAccountIn
from service.staff import check_role
from service.views import iso
from store.db import atomic
from store.issues import Actor
from store.models import User
from store.users import OwnAccount, UnknownMember, UnknownRole, add_user, all_users, deactivate

# the `gridgov users` commands: whoever can reach the database is the deployment's admin
OPERATOR = Actor("operator (gridgov command)", Role.ADMIN)


def check_deployment_admin(actor: Actor) -> Actor:
    """``actor`` when it is an admin of the whole deployment.

    Raises
    ------
    Unauthenticated
        without a staff token.
    Forbidden
        ``forbidden`` for another role; ``admin_of_an_area`` for an admin whose
        role holds only within a district, street or community.
    """
    admin = check_role(actor, {Role.ADMIN})
    if admin.area != DEPLOYMENT:
        raise Forbidden(
            "admin_of_an_area",
            f"only a deployment admin manages users; this account is an admin of area "
            f"{admin.area!r} only",
        )
    return admin


def list_accounts(session: Session, actor: Actor) -> StaffAccounts:
    """Every staff account, newest last; token hashes never leave the store."""
    check_deployment_admin(actor)
    return StaffAccounts(accounts=[_account(u) for u in all_users(session)])


def add_account(
    session: Session, actor: Actor, body: StaffAccountIn, now: datetime
) -> StaffAccountCreated:
    """A new staff account and its token, which is shown only in this answer."""
    check_deployment_admin(actor)
    try:
        with atomic(session):
            user, token = add_user(
                session, body.name, body.role, now, body.member_id, body.area or DEPLOYMENT
            )
            created = StaffAccountCreated(**_account(user).model_dump(), token=token)
    except BadAreaCode as exc:
        raise Invalid("bad_area", str(exc)) from exc
    except UnknownRole as exc:
        raise Invalid("unknown_role", str(exc)) from exc
    except UnknownMember as exc:
        raise Invalid("unknown_member", str(exc)) from exc
    return created


def revoke_account(session: Session, actor: Actor, user_id: int) -> StaffAccount:
    """Revoke an account's token for good; the account stays listed, inactive.

    An admin may not revoke their own account (that would leave the deployment
    possibly without one); another admin, or the ``gridgov`` command, can.
    """
    admin = check_deployment_admin(actor)
    try:
        with atomic(session):
            user = deactivate(session, user_id, keep=admin.user_id)
            if user is None:
                raise NotFound("user_not_found", f"no staff account has id {user_id}")
            revoked = _account(user)
    except OwnAccount as exc:
        raise Conflict("own_account", str(exc)) from exc
    return revoked


def _account(user: User) -> StaffAccount:
    return StaffAccount(
        id=user.id,
        name=user.name,
        role=user.role,
        area=user.area,
        member_id=user.member_id,
        active=user.active,
        created_at=iso(user.created_at) or "",
    )
