"""Which cases a member of staff may see and act on: those in the area their role holds in.

A user holds a role within an area (``users.area``): a community, a street, a
district, or the whole deployment (``""``).  Within it, staff see private
fields and act; outside it they are the public: a case of another community
reads as its public view, lists hold only their area's cases, and acting on
another area's case answers 404, as if it did not exist (its id says nothing
about it).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, BadAreaCode, check_code, contains
from service.errors import Invalid, NotFound
from store.issues import Actor, IssueNotFound, get_issue
from store.models import Issue


def in_scope(actor: Actor, community: str | None) -> bool:
    """Whether ``actor`` is staff whose area holds ``community``.

    A case with no community (none is loaded) is in the scope of the whole
    deployment only.
    """
    if actor.role is None:
        return False
    if community is None:
        return actor.area == DEPLOYMENT
    return contains(actor.area, community)


def case_in_scope(session: Session, actor: Actor, issue_id: int) -> Issue:
    """Case ``issue_id`` for staff acting on it, or ``NotFound`` if it is outside their area."""
    missing = NotFound("issue_not_found", f"no case has id {issue_id}")  # the same either way
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound as exc:
        raise missing from exc
    if not in_scope(actor, issue.community_code):
        raise missing
    return issue


def list_area(actor: Actor) -> str:
    """The area a list is limited to: staff see their own; the public sees everything."""
    return actor.area if actor.role is not None else DEPLOYMENT


def asked_area(code: str | None) -> str:
    """The area a request asks for by its division code; ``""`` (everywhere) for none.

    Raises
    ------
    Invalid
        ``bad_area``, naming the value, for anything but a district, street,
        community or grid code.
    """
    if code is None or code == "":
        return DEPLOYMENT
    try:
        return check_code(code)
    except BadAreaCode as exc:
        raise Invalid("bad_area", str(exc)) from exc
