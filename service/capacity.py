"""A squad's capacity when a person chooses the squad: refused, or overridden on purpose.

The rule itself is :func:`cases.dispatch.over_capacity`; this module says who may
override it and turns its refusals into the service's errors.  The manual
transition to ``dispatched`` and the dispatch with a named squad both use it.
"""

from __future__ import annotations

from cases.dispatch import OverCapacity, OverrideNeedsNote, over_capacity
from cases.lifecycle import DISPATCHERS
from service.errors import Conflict, Forbidden, Invalid
from store.issues import Actor


def check_capacity(
    actor: Actor,
    squad_name: str,
    load: int,
    capacity: int,
    override: bool,
    note: str | None,
) -> bool:
    """Whether this dispatch goes over the squad's capacity (allowed, to be recorded).

    Raises
    ------
    Forbidden
        ``override_not_allowed``: only a dispatcher, manager or admin may override.
    Conflict
        ``squad_at_capacity``: the squad is full and there is no override.
    Invalid
        ``note_required``: the override carries no note.
    """
    if override and actor.role not in DISPATCHERS:
        raise Forbidden(
            "override_not_allowed",
            f"role {actor.role} may not override a squad's capacity "
            f"(allowed: {', '.join(sorted(DISPATCHERS))})",
        )
    try:
        return over_capacity(squad_name, load, capacity, override, note)
    except OverCapacity as exc:
        raise Conflict("squad_at_capacity", str(exc), load=load, capacity=capacity) from exc
    except OverrideNeedsNote as exc:
        raise Invalid("note_required", str(exc)) from exc
