"""A count of the writes to cases made in this process: what a cache of figures counted
from cases (``service.stats_cache``) compares to know it may still answer.

Every ORM session of the process is watched: a flush that adds, changes or deletes
a case or a case's history event, and an ORM ``insert``/``update``/``delete``
statement on either table (``session.execute(insert(Issue), rows)``), move the
count on, and so does the commit of a session that made such a write (a figure
counted between the flush and the commit, from the rows as they were, is not
kept past it).  Writes made by another process, or through a bare connection
rather than a session, are not seen: a cache trusting this count still has to
expire by age.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from store.models import Issue, IssueEvent

_CASE_TABLES = frozenset({Issue.__table__, IssueEvent.__table__})
_WROTE = "gridgov.wrote_cases"  # Session.info flag: this transaction wrote cases
_ticks = itertools.count(1)  # next() on it is atomic under the GIL
_count = 0


def case_writes() -> int:
    """How many case writes (flushes, statements or commits of them) this process made."""
    return _count


def _moved() -> None:
    global _count
    _count = next(_ticks)


def _touches_cases(objects: Any) -> bool:
    return any(isinstance(o, Issue | IssueEvent) for o in objects)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if (
        _touches_cases(session.new)
        or _touches_cases(session.dirty)
        or _touches_cases(session.deleted)
    ):
        session.info[_WROTE] = True
        _moved()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table in _CASE_TABLES:
        state.session.info[_WROTE] = True
        _moved()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        _moved()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_WROTE, None)
