"""The case lifecycle as an explicit state machine (GB/T 30428 stages).

collect → file → dispatch → handle → report back → verify and close:
``reported → filed → dispatched → in_progress → resolved → closed``.  A report
may instead be ``rejected`` or marked a ``duplicate``; a resolved case that
fails verification goes back to ``in_progress`` (rework); a case beyond the
community's means is ``escalated`` to a co-building unit's department (the
书记面对面 path), which answers by resolving it or handing it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REPORTED = "reported"
    FILED = "filed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ESCALATED = "escalated"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    PLANNER = "planner"
    ADMIN = "admin"


# The status groups, one definition each.
TERMINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.DUPLICATE})
# still being handled: a case in one of these is overdue once its current stage's deadline passes
OPEN_STATUSES = frozenset(Status) - TERMINAL
# waiting for a squad: what dispatch may take
WAITING_STATUSES = frozenset({Status.REPORTED, Status.FILED})
# with a squad: what counts towards the squad's load
BUSY_STATUSES = frozenset({Status.DISPATCHED, Status.IN_PROGRESS})

FIELD_STAFF = frozenset({Role.GRID_WORKER, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
DISPATCHERS = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Transition:
    """A legal move, who may make it, and what it must carry."""

    source: Status
    target: Status
    roles: frozenset[Role]
    needs: tuple[str, ...] = ()


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.REPORTED, Status.FILED, FIELD_STAFF),
    Transition(Status.REPORTED, Status.REJECTED, FIELD_STAFF, ("note",)),
    Transition(Status.REPORTED, Status.DUPLICATE, FIELD_STAFF, ("duplicate_of",)),
    # grid workers may dispatch on the spot, from the phone page
    Transition(Status.FILED, Status.DISPATCHED, FIELD_STAFF, ("squad",)),
    Transition(Status.FILED, Status.ESCALATED, DISPATCHERS, ("department",)),
    Transition(Status.DISPATCHED, Status.IN_PROGRESS, FIELD_STAFF),
    Transition(Status.DISPATCHED, Status.ESCALATED, DISPATCHERS, ("department",)),
    Transition(Status.IN_PROGRESS, Status.RESOLVED, FIELD_STAFF, ("note",)),
    Transition(Status.IN_PROGRESS, Status.ESCALATED, DISPATCHERS, ("department",)),
    Transition(Status.RESOLVED, Status.CLOSED, FIELD_STAFF),
    Transition(Status.RESOLVED, Status.IN_PROGRESS, FIELD_STAFF, ("note",)),  # rework
    Transition(Status.ESCALATED, Status.RESOLVED, DISPATCHERS, ("response",)),
    Transition(Status.ESCALATED, Status.IN_PROGRESS, DISPATCHERS, ("response",)),
    # up one more level: from the street's department to the district's
    Transition(Status.ESCALATED, Status.ESCALATED, DISPATCHERS, ("department",)),
)
_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}


class IllegalTransition(ValueError):
    """The case cannot move from its status to the one asked for."""


class NotAllowed(PermissionError):
    """The role may not make this move."""


class MissingField(ValueError):
    """The move needs a field the request did not give."""


def allowed_targets(source: Status) -> list[Status]:
    """Statuses a case in ``source`` may move to, in lifecycle order."""
    return [t.target for t in TRANSITIONS if t.source == source]


def check_transition(
    source: Status, target: Status, role: Role, given: Mapping[str, object]
) -> Transition:
    """The transition ``source → target`` if ``role`` may make it with ``given`` fields.

    Raises
    ------
    IllegalTransition, NotAllowed, MissingField
        With a message naming the statuses, the role or the missing field.
    """
    move = _BY_PAIR.get((source, target))
    if move is None:
        options = ", ".join(allowed_targets(source)) or "none: the case is finished"
        raise IllegalTransition(f"a {source} case cannot become {target}; it may become: {options}")
    if role not in move.roles:
        allowed = ", ".join(sorted(move.roles))
        raise NotAllowed(
            f"role {role} may not move a case from {source} to {target} (allowed: {allowed})"
        )
    missing = [f for f in move.needs if given.get(f) in (None, "")]
    if missing:
        raise MissingField(f"moving a case from {source} to {target} needs {', '.join(missing)}")
    return move


def is_rework(source: Status, target: Status) -> bool:
    """Whether the move sends a resolved case back because verification failed."""
    return source == Status.RESOLVED and target == Status.IN_PROGRESS
