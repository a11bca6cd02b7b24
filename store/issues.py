"""Repository functions for cases, the same on SQLite and PostGIS.

Every function runs inside the caller's transaction: a case, its first history
event and its grid assignment are written together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd
import shapely
from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.expression import ClauseElement, Executable

from cases.areas import DEPLOYMENT, Level, level_of, parent_of
from cases.deadlines import Calendar, add_limit, utcnow
from cases.indicators import horizon
from cases.lifecycle import OPEN_STATUSES, NotAllowed, Role, Status, check_transition, is_rework
from gis.distance import degree_margin, pairwise_m
from store.catalogue import categories_for
from store.models import Issue, IssueEvent

BBox = tuple[float, float, float, float]


class IssueNotFound(LookupError):
    """No case has that id."""


class ConcurrentChange(RuntimeError):
    """Someone else changed the case first; reload and try again."""


class IdempotencyMismatch(ValueError):
    """An Idempotency-Key was reused for a different report."""


@dataclass(frozen=True)
class NewIssue:
    """A validated report, located and joined to its grid."""

    lon: float
    lat: float
    input_crs: str
    input_lon: float
    input_lat: float
    category: str
    description: str
    channel: str
    grid_code: str
    district_code: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who does something: a staff user's name and role, or the public.

    ``member_id`` is set for a squad member's own device.
    """

    name: str
    role: Role | None = None
    member_id: str | None = None
    area: str = ""  # the area the role holds in (a division code; "" the whole deployment)
    user_id: int | None = None  # the staff account, when a token named one


PUBLIC = Actor("public")
SYSTEM = Actor("system")


@dataclass
class IssueFilter:
    """Filters of the case list; ``since``/``until`` apply to the last change."""

    status: Sequence[str] = ()
    category: Sequence[str] = ()
    grid: Sequence[str] = ()
    district: Sequence[str] = ()
    bbox: BBox | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue: bool | None = None
    area: str = ""  # only cases in this area (a division code prefix; "" everywhere)
    # only cases in this area too (a district, street, community or grid code; "" everywhere):
    # the area a request asks for, where ``area`` is the one its caller may see
    within: str = ""
    # reported in [reported_from, reported_to], both ends included (Open311's window)
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    ids: Sequence[int] = ()  # only these cases, when given
    now: datetime = field(default_factory=utcnow)
    limit: int | None = 100
    offset: int = 0
    newest_first: bool = False  # order by id, highest first (the newest page under a cap)
    # keyset paging: only cases after this id in the list's order (above it, or below it
    # when newest first); ``offset`` then counts from there
    after: int | None = None


def create_issue(
    session: Session,
    new: NewIssue,
    now: datetime,
    file_limit: str,
    actor: Actor = PUBLIC,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    calendar: Calendar | None = None,
) -> tuple[Issue, bool]:
    """Write a new case with its first history event.

    Returns the case and whether it was a replay: a case already written under
    the same ``idempotency_key`` is returned as it is, never written twice.
    """
    if idempotency_key is not None:
        existing = session.scalar(select(Issue).where(Issue.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.request_hash != request_hash:
                raise IdempotencyMismatch(
                    f"Idempotency-Key {idempotency_key!r} was already used for a different "
                    "report; use a new key for a new report"
                )
            return existing, True
    file_deadline = add_limit(now, file_limit, calendar)
    issue = Issue(
        category=new.category,
        description=new.description,
        lon=new.lon,
        lat=new.lat,
        geom=shapely.Point(new.lon, new.lat),
        input_crs=new.input_crs,
        input_lon=new.input_lon,
        input_lat=new.input_lat,
        grid_code=new.grid_code,
        community_code=parent_of(new.grid_code),
        district_code=new.district_code,
        channel=new.channel,
        reporter_name=new.reporter_name,
        reporter_phone=new.reporter_phone,
        status=Status.REPORTED,
        reported_at=now,
        updated_at=now,
        file_deadline=file_deadline,
        due_at=file_deadline,
        rework_count=0,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(issue)
    session.flush()
    _record(session, issue.id, actor, now, None, Status.REPORTED, None)
    session.flush()
    return issue, False


def _record(
    session: Session,
    issue_id: int,
    actor: Actor,
    at: datetime,
    source: Status | None,
    target: Status,
    note: str | None,
    override: bool = False,
    escalated_to: tuple[str | None, str | None] = (None, None),
) -> None:
    """Append one event to a case's history (``escalated_to``: department and level)."""
    session.add(
        IssueEvent(
            issue_id=issue_id,
            at=at,
            actor=actor.name,
            actor_role=actor.role,
            from_status=source,
            to_status=target,
            note=note,
            override=override or None,
            department=escalated_to[0],
            level=escalated_to[1],
        )
    )


def filed_issues(session: Session, limit: int, area: str = "") -> list[Issue]:
    """Filed cases waiting for a squad in ``area`` (a division code prefix), oldest first."""
    query = select(Issue).where(Issue.status == Status.FILED)
    if area:
        query = query.where(in_area(area))
    return list(session.scalars(query.order_by(Issue.id).limit(limit)))


def in_area(area: str) -> ColumnElement[bool]:
    """Cases of the communities in ``area``: a district, street or community code."""
    return Issue.community_code.startswith(area, autoescape=True)


def in_place(code: str) -> ColumnElement[bool]:
    """Cases in the area ``code`` names: a grid's or a community's by their code (an
    equality, which their indexes answer), a street's or district's by
    :func:`in_area`."""
    level = level_of(code)
    if level is Level.GRID:
        return Issue.grid_code == code
    if level is Level.COMMUNITY:
        return Issue.community_code == code
    return in_area(code)


def issues_by_id(session: Session, issue_ids: Sequence[int]) -> dict[int, Issue]:
    """The cases with these ids that exist, by id."""
    rows = session.scalars(select(Issue).where(Issue.id.in_(set(issue_ids))))
    return {row.id: row for row in rows}


def idempotency_key_used(session: Session, key: str) -> bool:
    """Whether a case was already written under ``key``."""
    found = session.scalar(select(Issue.id).where(Issue.idempotency_key == key))
    return found is not None


def count_issues(session: Session) -> int:
    """How many cases there are."""
    return int(session.scalar(select(func.count()).select_from(Issue)) or 0)


def issue_exists(session: Session, issue_id: int) -> bool:
    return session.get(Issue, issue_id) is not None


def get_issue(session: Session, issue_id: int) -> Issue:
    issue = session.get(Issue, issue_id)
    if issue is None:
        raise IssueNotFound(f"no case has id {issue_id}")
    return issue


class NearbyCase(NamedTuple):
    """An open case near a new report, with what a possible duplicate is shown with."""

    id: int
    lon: float
    lat: float
    status: str
    reported_at: datetime
    description: str


def find_duplicates(
    session: Session,
    category: str,
    lon: float,
    lat: float,
    radius_m: float,
    since: datetime,
    exclude: int | None = None,
) -> list[tuple[NearbyCase, float]]:
    """Open cases of ``category`` reported since ``since`` within ``radius_m``, nearest first.

    Each comes with only what a duplicate is shown with, not as a whole case: this runs
    on every report, and building whole cases (their geometry decoded) took most of a
    report's time."""
    dlon, dlat = degree_margin(lat, radius_m)
    query = select(
        Issue.id, Issue.lon, Issue.lat, Issue.status, Issue.reported_at, Issue.description
    ).where(
        Issue.category == category,
        Issue.status.in_([s.value for s in OPEN_STATUSES]),
        Issue.reported_at >= since,
        _in_box(session, (lon - dlon, lat - dlat, lon + dlon, lat + dlat)),
    )
    if exclude is not None:
        query = query.where(Issue.id != exclude)
    near = [NearbyCase(*row) for row in session.execute(query)]
    if not near:
        return []
    dist = pairwise_m(lon, lat, [i.lon for i in near], [i.lat for i in near])
    hits = sorted((d, i.id, i) for d, i in zip(dist.tolist(), near, strict=True) if d <= radius_m)
    return [(row, d) for d, _, row in hits]


def _in_box(session: Session, bbox: BBox) -> ColumnElement[bool]:
    """A bbox test: GiST ``&&`` then ``ST_Intersects`` on PostGIS, indexed lon/lat elsewhere."""
    xmin, ymin, xmax, ymax = bbox
    if session.get_bind().dialect.name == "postgresql":
        env = func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, 4326)
        overlaps = Issue.geom.op("&&", is_comparison=True)(env)
        return and_(overlaps, func.ST_Intersects(Issue.geom, env))
    return and_(Issue.lon.between(xmin, xmax), Issue.lat.between(ymin, ymax))


def issue_query(session: Session, f: IssueFilter) -> Select[Issue]:
    """The select of the cases matching ``f``, without order or paging."""
    query = select(Issue)
    if f.status:
        query = query.where(Issue.status.in_(list(f.status)))
    if f.category:
        query = query.where(Issue.category.in_(list(f.category)))
    if f.grid:
        query = query.where(Issue.grid_code.in_(list(f.grid)))
    if f.district:
        query = query.where(Issue.district_code.in_(list(f.district)))
    if f.bbox is not None:
        query = query.where(_in_box(session, f.bbox))
    if f.since is not None:
        query = query.where(Issue.updated_at >= f.since)
    if f.until is not None:
        query = query.where(Issue.updated_at < f.until)
    if f.overdue is not None:
        late = Issue.overdue_sql(f.now)
        query = query.where(late if f.overdue else ~late)
    if f.area:
        query = query.where(in_area(f.area))
    if f.within:
        query = query.where(in_place(f.within))
    if f.reported_from is not None:
        query = query.where(Issue.reported_at >= f.reported_from)
    if f.reported_to is not None:
        query = query.where(Issue.reported_at <= f.reported_to)
    if f.ids:
        query = query.where(Issue.id.in_(set(f.ids)))
    return query


def list_issues(session: Session, f: IssueFilter) -> tuple[list[Issue], int]:
    """One page of the cases matching ``f`` (by id), and how many match in all, exactly."""
    rows, _ = page_issues(session, f)
    return rows, count_matching(session, issue_query(session, f), cap=None).value


def page_issues(session: Session, f: IssueFilter) -> tuple[list[Issue], int | None]:
    """One page of the cases matching ``f`` in id order (from ``f.after`` when given), and
    the cursor of the next page: the page's last id while more cases follow, else None.

    One row more than the page is read to know whether more follow.
    """
    query = issue_query(session, f)
    if f.after is not None:
        query = query.where(Issue.id < f.after if f.newest_first else Issue.id > f.after)
    page = query.order_by(Issue.id.desc() if f.newest_first else Issue.id).offset(f.offset)
    if f.limit is None:
        return list(session.scalars(page)), None
    rows = list(session.scalars(page.limit(f.limit + 1)))
    more = len(rows) > f.limit
    del rows[f.limit :]
    return rows, rows[-1].id if more and rows else None


@dataclass(frozen=True)
class Total:
    """How many rows match: exact, or (``estimate``) an estimate beyond the counting cap."""

    value: int
    estimate: bool = False


def count_matching(session: Session, query: Select[Any], cap: int | None) -> Total:
    """How many rows ``query`` selects, counted exactly up to ``cap`` (all when None).

    The count reads at most ``cap + 1`` rows (a LIMITed subquery), so it stops early
    on a large table.  Beyond the cap the total is an estimate, never below ``cap + 1``
    (which is known): PostgreSQL's planner's row estimate for the query; SQLite has
    none to give, so there it is ``cap + 1`` itself, a lower bound.
    """
    counted = query.with_only_columns(Issue.id).order_by(None)
    if cap is not None:
        counted = counted.limit(cap + 1)
    n = int(session.scalar(select(func.count()).select_from(counted.subquery())) or 0)
    if cap is None or n <= cap:
        return Total(n)
    return Total(max(cap + 1, planned_rows(session, query)), estimate=True)


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a select, its parameters bound as the select's are."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _explain_on_postgresql(element: _Explain, compiler: Any, **kw: Any) -> str:
    return f"EXPLAIN (FORMAT JSON) {compiler.process(element.statement, **kw)}"


def planned_rows(session: Session, query: Select[Any]) -> int:
    """The rows the database's planner expects ``query`` to select (0 where it has no
    estimate to give: SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return 0
    plan: Any = session.execute(_Explain(query.with_only_columns(Issue.id).order_by(None))).scalar()
    if isinstance(plan, str):  # a driver that does not decode the plan's JSON
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def stream_columns(
    session: Session, f: IssueFilter, columns: Sequence[ColumnElement[Any]], batch: int
) -> Iterator[Sequence[Sequence[Any]]]:
    """``columns`` of every case matching ``f`` (its paging aside), by id, in batches of
    at most ``batch`` rows.

    Only these columns are selected (no ORM entity, no geometry), and the rows are
    streamed: a server-side cursor on PostgreSQL, SQLite's own stepping through the
    result elsewhere; so memory holds one batch whatever the number of cases.  The
    cursor is closed when the iterator is exhausted or closed.
    """
    query = issue_query(session, f).with_only_columns(*columns).order_by(Issue.id)
    result = session.execute(query.execution_options(stream_results=True, yield_per=batch))
    try:
        yield from result.partitions()
    finally:
        result.close()


def history(session: Session, issue_id: int) -> list[IssueEvent]:
    get_issue(session, issue_id)
    return list(
        session.scalars(
            select(IssueEvent).where(IssueEvent.issue_id == issue_id).order_by(IssueEvent.id)
        )
    )


def transition(
    session: Session,
    issue_id: int,
    target: Status,
    actor: Actor,
    now: datetime,
    fields: dict[str, str | None] | None = None,
    calendar: Calendar | None = None,
    override: bool = False,
) -> Issue:
    """Move a case to ``target`` with a history event, or change nothing and raise.

    ``fields`` carries what the move needs: ``note``, ``squad``, ``department``,
    ``deadline`` (the department's own limit, e.g. ``3d``), ``response``,
    ``duplicate_of``.  Checking that a squad, department or duplicate exists,
    and a squad's capacity, is the caller's job; ``override`` marks the event
    of a dispatch the caller let through over capacity.
    """
    fields = fields or {}
    issue = get_issue(session, issue_id)
    source = Status(issue.status)
    if actor.role is None:
        raise NotAllowed("only staff may change a case")
    check_transition(source, target, actor.role, fields)
    # the category as the case's community has it: its own time limit, if it set one
    category = categories_for(session, issue.community_code)[issue.category]
    if target == Status.FILED:
        issue.filed_at = now
        issue.handle_deadline = add_limit(now, category.time_limit, calendar)
        issue.due_at = issue.handle_deadline
    elif target == Status.DUPLICATE:
        issue.duplicate_of = int(fields["duplicate_of"] or 0)
    elif target == Status.DISPATCHED:
        issue.squad_id = fields["squad"]
        issue.dispatched_at = now
    elif target == Status.ESCALATED:
        issue.department = fields["department"]
        issue.department_deadline = add_limit(
            now, fields.get("deadline") or category.time_limit, calendar
        )
        issue.due_at = issue.department_deadline
    elif target == Status.IN_PROGRESS:
        if is_rework(source, target):
            issue.rework_count += 1
        if source == Status.ESCALATED:
            issue.department_response = fields.get("response")
            issue.due_at = issue.handle_deadline or issue.due_at
    elif target == Status.RESOLVED:
        issue.resolved_at = now
        if source == Status.ESCALATED:
            issue.department_response = fields.get("response")
    elif target == Status.CLOSED:
        issue.closed_at = now
    issue.status = target
    issue.updated_at = now
    note = fields.get("note") or fields.get("response")
    escalated_to = (
        (fields.get("department"), fields.get("level") or "community")
        if target == Status.ESCALATED
        else (None, None)
    )
    _record(session, issue.id, actor, now, source, target, note, override, escalated_to)
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConcurrentChange(f"case {issue_id} was changed by someone else; reload it") from exc
    return issue


CASE_COLUMNS = (
    "id",
    "community_code",
    "grid_code",
    "squad_id",
    "category",
    "status",
    "reported_at",
    "filed_at",
    "resolved_at",
    "closed_at",
    "handle_deadline",
    "due_at",
    "rework_count",
)


ESCALATION_RANKS = {"community": 1, "street": 2, "district": 3}


def escalation_rank() -> ColumnElement[int]:
    """The rank (:data:`ESCALATION_RANKS`) of the level an escalation event sent a case
    to; 0 for any other level. Only events to ``escalated`` are escalations
    (:meth:`IssueEvent.escalation_sql`)."""
    return case(*((IssueEvent.level == level, n) for level, n in ESCALATION_RANKS.items()), else_=0)


def _highest_escalation() -> ColumnElement[int]:
    """The highest level a case was escalated to, as a rank (0: never escalated)."""
    highest = (
        select(func.max(escalation_rank()))
        .where(IssueEvent.issue_id == Issue.id, IssueEvent.escalation_sql())
        .scalar_subquery()
    )
    return func.coalesce(highest, 0)


def cases_frame(
    session: Session, start: datetime, end: datetime, now: datetime, area: str = DEPLOYMENT
) -> pd.DataFrame:
    """The indicator columns of the cases reported in [start, end), one row each, with
    whether each is ``overdue`` at ``now`` (the rule of :meth:`Issue.overdue_at`),
    ``due`` for the period (:meth:`Issue.due_sql`) and the ``escalation_rank`` it
    reached (:data:`ESCALATION_RANKS`; 0: never escalated); only ``area``'s cases when
    given (a district, street, community or grid code)."""
    columns = [getattr(Issue, c) for c in CASE_COLUMNS]
    query = select(
        *columns,
        Issue.overdue_sql(now).label("overdue"),
        Issue.due_sql(horizon(end, now)).label("due"),
        _highest_escalation().label("escalation_rank"),
    ).where(Issue.reported_at >= start, Issue.reported_at < end)
    if area:
        query = query.where(in_place(area))
    rows = session.execute(query.order_by(Issue.id)).all()
    frame = pd.DataFrame(rows, columns=[*CASE_COLUMNS, "overdue", "due", "escalation_rank"])
    for flag in ("overdue", "due"):
        frame[flag] = frame[flag].eq(True)  # a NULL condition (no deadline) is false
    for column in (c for c in CASE_COLUMNS if c.endswith(("_at", "_deadline"))):
        frame[column] = pd.to_datetime(frame[column])
    return frame


@dataclass(frozen=True)
class Cell:
    """Cases counted in one square of a lattice: where their middle is, how many, how late."""

    lon: float
    lat: float
    count: int
    overdue: int


def open_and_overdue_by_grid(
    session: Session, now: datetime, area: str = ""
) -> tuple[dict[str, int], dict[str, int]]:
    """Open cases and overdue cases per grid code (of ``area``'s grids when given)."""
    open_values = [s.value for s in OPEN_STATUSES]
    late = case((Issue.overdue_sql(now), 1), else_=0)
    query = (
        select(Issue.grid_code, func.count(), func.sum(late))
        .where(Issue.status.in_(open_values), *([in_area(area)] if area else []))
        .group_by(Issue.grid_code)
    )
    opened: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for grid, n, o in session.execute(query):
        opened[grid] = int(n)
        if o:
            overdue[grid] = int(o)
    return opened, overdue


def cell_counts(session: Session, f: IssueFilter, cell_deg: float) -> list[Cell]:
    """Cases matching ``f`` counted per lattice square of ``cell_deg`` degrees, in SQL.

    For maps zoomed out over many cases: a few hundred squares travel instead of
    every case.
    """
    late = case((Issue.overdue_sql(f.now), 1), else_=0)
    col = cast((Issue.lon + 180.0) / cell_deg, Integer)
    row = cast((Issue.lat + 90.0) / cell_deg, Integer)
    query = (
        issue_query(session, f)
        .with_only_columns(func.avg(Issue.lon), func.avg(Issue.lat), func.count(), func.sum(late))
        .group_by(col, row)
        .order_by(col, row)
    )
    return [
        Cell(float(lon), float(lat), int(n), int(o or 0))
        for lon, lat, n, o in session.execute(query)
    ]


@dataclass(frozen=True)
class CaseCounts:
    """A community's cases: open and overdue now; closed and due (应结案) of those
    reported in a period, the parts of its closure rate (``cases.indicators``)."""

    open: int
    overdue: int
    closed: int
    due: int


def counts_by_community(
    session: Session, now: datetime, since: datetime, until: datetime, area: str = ""
) -> dict[str, CaseCounts]:
    """Each community's :class:`CaseCounts` (of ``area``'s communities when given), in one
    SQL ``GROUP BY`` over the cases' community code: open and overdue cases at ``now``
    (:meth:`Issue.overdue_sql`), and of the cases reported in [since, until) those
    closed and those due (:meth:`Issue.due_sql`), as ``cases.indicators`` counts them.
    A community without cases is not listed."""

    def number(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    in_period = and_(Issue.reported_at >= since, Issue.reported_at < until)
    query = (
        select(
            Issue.community_code,
            number(Issue.status.in_([s.value for s in OPEN_STATUSES])),
            number(Issue.overdue_sql(now)),
            number(and_(in_period, Issue.status == Status.CLOSED.value)),
            number(and_(in_period, Issue.due_sql(horizon(until, now)))),
        )
        .where(Issue.community_code.is_not(None), *([in_area(area)] if area else []))
        .group_by(Issue.community_code)
    )
    return {
        str(code): CaseCounts(int(o), int(late), int(closed), int(due))
        for code, o, late, closed, due in session.execute(query)
    }
