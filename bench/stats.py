"""Benchmark: the indicators of ``/api/v1/stats`` counted in SQL, against counting them in
pandas from every case of the period, as /stats did before (the baseline, same run).

Each target is the Lingxiao sample (``gridgov load data``) with ``cases`` cases
spread over half a year (``bench.mappage.case_rows``, given the dates of their
filing, deadline, resolution and closure as their status implies) and the history
events of their steps, a tenth of the escalations climbing to the street or the
district: SQLite, then PostGIS on a fresh database dropped afterwards (skipped
with a notice when no server is reachable; a failure under ``GRIDGOV_STRICT=1``).

Three ways of answering a request for the default period (90 days), each grouping
of /stats in turn (grid, squad, category, month, community, street), over the
whole deployment, are timed request by request:

* **pandas** (the baseline): ``store.indicators_sql.frame_figures``, every case of
  the period loaded (``store.issues.cases_frame``) and counted by
  ``cases.indicators.indicators``;
* **SQL**: ``store.indicators_sql.indicator_sums``, one ``GROUP BY``, and
  ``cases.indicators.figures``;
* **cached**: ``service.stats.recent_stats`` asked again within the cache's
  lifetime (what the map page's second and third requests cost).

Run with ``python -m bench.stats`` (``--quick`` for a smoke run, ``--cases N`` for
another size).  Timings are printed, never judged.  The run fails when the SQL
and the pandas figures of any grouping differ.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds, fmt_us, timed
from bench.mappage import CHUNK, case_rows, insert_cases
from cases.deadlines import utcnow
from cases.indicators import GROUPS, figures
from cases.lifecycle import Status
from service.community import SnapshotCache
from service.models import Stats
from service.stats import GroupBy, period, recent_stats
from service.stats_cache import TtlCache
from store.db import make_engine
from store.indicators_sql import frame_figures, indicator_sums
from store.models import Issue, IssueEvent

SEED = 20261130
SQLITE, POSTGIS = "SQLite", "PostGIS"
PANDAS, SQL, CACHED = "pandas (before)", "SQL", "SQL, cached"
# the steps a case of each status went through after its report
STEPS = {
    Status.REPORTED: (),
    Status.FILED: (Status.FILED,),
    Status.REJECTED: (Status.REJECTED,),
    Status.DUPLICATE: (Status.DUPLICATE,),
    Status.DISPATCHED: (Status.FILED, Status.DISPATCHED),
    Status.ESCALATED: (Status.FILED, Status.ESCALATED),
    Status.IN_PROGRESS: (Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS),
    Status.RESOLVED: (Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED),
    Status.CLOSED: (
        Status.FILED,
        Status.DISPATCHED,
        Status.IN_PROGRESS,
        Status.RESOLVED,
        Status.CLOSED,
    ),
}
SQUADS = ("SQ1", "SQ2", "SQ3", "SQ4")
OPTIONAL = ("filed_at", "handle_deadline", "squad_id", "dispatched_at", "resolved_at", "closed_at")


@dataclass(frozen=True)
class Sizes:
    cases: int
    runs: int  # timed requests per grouping, SQL and cached
    baseline_runs: int  # timed requests per grouping, pandas
    postgis: bool  # PostGIS as well as SQLite


FULL = Sizes(cases=100_000, runs=10, baseline_runs=3, postgis=True)
QUICK = Sizes(cases=5_000, runs=3, baseline_runs=1, postgis=True)


@dataclass
class Target:
    backend: str
    cases: int
    events: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)

    def quantile(self, way: str, q: float) -> float:
        values = sorted(self.times[way])
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


# --------------------------------------------------------------------------- cases


def with_history(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Each case's history events, its rows given the dates its status implies."""
    rng = np.random.default_rng(seed)
    n = len(rows)
    hours = rng.uniform(0.5, 12, n)  # report to filing
    limit = rng.choice([24, 72, 168, 360], n)  # the category's handling limit, hours
    took = rng.uniform(0.2, 1.4, n)  # handling time over the limit: a third late
    level = rng.choice(["community", "street", "district"], n, p=[0.9, 0.07, 0.03])
    rework = rng.random(n) < 0.08
    squad = rng.integers(0, len(SQUADS), n)
    events: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        status = Status(row["status"])
        steps = STEPS[status]
        reported: datetime = row["reported_at"]
        filed = reported + timedelta(hours=float(hours[i]))
        deadline = filed + timedelta(hours=float(limit[i]))
        done = filed + timedelta(hours=float(limit[i] * took[i]))
        row.update(dict.fromkeys(OPTIONAL))  # every row the same keys, for executemany
        if Status.FILED in steps:
            row.update(filed_at=filed, handle_deadline=deadline, due_at=deadline)
        if Status.DISPATCHED in steps:
            row.update(squad_id=SQUADS[squad[i]], dispatched_at=filed)
            row["rework_count"] = int(rework[i])
        if Status.RESOLVED in steps:
            row["resolved_at"] = done
        if status == Status.CLOSED:
            row["closed_at"] = done + timedelta(hours=1)
        for step in (Status.REPORTED, *steps):
            events.append(
                {
                    "issue_id": i,  # the case's position, until it has an id
                    "at": reported,
                    "actor": "bench",
                    "to_status": step.value,
                    "level": level[i] if step == Status.ESCALATED else None,
                }
            )
    return events


def build_database(database_url: str, n: int) -> int:
    """``gridgov load data``, ``n`` cases and their events; returns how many events."""
    started = time.perf_counter()
    scaffold.load_sample(database_url)
    rows = case_rows(n, SEED + n, utcnow())
    events = with_history(rows, SEED)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            before = int(conn.execute(select(func.coalesce(func.max(Issue.id), 0))).scalar_one())
        insert_cases(database_url, rows)
        with engine.begin() as conn:
            ids = list(conn.scalars(select(Issue.id).where(Issue.id > before).order_by(Issue.id)))
            for event in events:  # the cases' ids, in the order they were inserted
                event["issue_id"] = ids[event["issue_id"]]
            for start in range(0, len(events), CHUNK):
                conn.execute(insert(IssueEvent), events[start : start + CHUNK])
    finally:
        engine.dispose()
    print(
        f"{n:,} cases and {len(events):,} events loaded in "
        f"{fmt_seconds(time.perf_counter() - started)}",
        flush=True,
    )
    return len(events)


# --------------------------------------------------------------------------- measuring


Figures = Sequence[tuple[str, dict[str, Any]]]


def same(mine: Figures, theirs: Figures) -> bool:
    """The SQL figures equal the pandas ones: the same groups, counts equal, rates and
    hours within rounding."""
    if [k for k, _ in mine] != [k for k, _ in theirs]:
        return False
    for (_, a), (_, b) in zip(mine, theirs, strict=True):
        for name in a:
            x, y = a[name], b[name]
            if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9 * max(1, abs(y))):
                return False
    return True


def measure(database_url: str, backend: str, sizes: Sizes) -> Target:
    target = Target(backend, sizes.cases)
    target.events = build_database(database_url, sizes.cases)
    engine = make_engine(database_url)
    now = utcnow()
    since, until = period(None, None, now)
    try:
        with Session(engine) as session:
            snapshot = SnapshotCache().require(session)
            cache: TtlCache[Stats] = TtlCache(ttl_s=3600)  # no expiry during the run
            ways: dict[str, Callable[[GroupBy], object]] = {
                PANDAS: lambda g: frame_figures(session, g, since, until, now),
                SQL: lambda g: [
                    (k, figures(s)) for k, s in indicator_sums(session, g, since, until, now)
                ],
                CACHED: lambda g: recent_stats(cache, session, snapshot, g, None, None, now),
            }
            for g in get_args(GroupBy):  # a warm-up of each, and the check
                sql = [(k, figures(s)) for k, s in indicator_sums(session, g, since, until, now)]
                ways[CACHED](g)
                if not same(sql, frame_figures(session, g, since, until, now)):
                    raise scaffold.CheckFailed(f"{backend}: SQL and pandas differ by {g}")
            for way, answer in ways.items():
                runs = sizes.baseline_runs if way == PANDAS else sizes.runs
                target.times[way] = times(answer, runs)
    finally:
        engine.dispose()
    return target


def times(answer: Callable[[GroupBy], object], runs: int) -> list[float]:
    """The time of each of ``runs`` requests per grouping, the groupings in turn."""
    out = []
    for _ in range(runs):
        for g in get_args(GroupBy):
            out.append(timed(lambda: answer(g))[0])  # noqa: B023 (called at once)
    return out


def fmt_time(seconds: float) -> str:
    """A request's time: in microseconds below a millisecond (a cached answer)."""
    return fmt_us(seconds) if seconds < 1e-3 else fmt_seconds(seconds)


def results_table(targets: Sequence[Target]) -> str:
    rows = [(t, way) for t in targets for way in (PANDAS, SQL, CACHED)]
    return column_table(
        rows,
        {
            "backend": lambda r: r[0].backend,
            "cases": lambda r: f"{r[0].cases:,}",
            "events": lambda r: f"{r[0].events:,}",
            "way": lambda r: r[1],
            "requests": lambda r: f"{len(r[0].times[r[1]])}",
            "p50": lambda r: fmt_time(r[0].quantile(r[1], 0.5)),
            "p95": lambda r: fmt_time(r[0].quantile(r[1], 0.95)),
            "pandas / this, p95": lambda r: (
                "-"  # a dict lookup: no ratio worth printing
                if r[1] == CACHED
                else fmt_ratio(r[0].quantile(PANDAS, 0.95) / r[0].quantile(r[1], 0.95))
            ),
        },
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "stats",
        "The /stats indicators counted in SQL against pandas over every case of the period.",
        f"{QUICK.cases:,} cases, {QUICK.runs} SQL and {QUICK.baseline_runs} pandas request(s) "
        "per grouping",
    )
    parser.add_argument("--cases", type=scaffold.positive_int, metavar="N", help="cases (100000)")
    parser.add_argument(
        "--runs", type=scaffold.positive_int, metavar="R", help="SQL requests per grouping (10)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, cases=args.cases, runs=args.runs)
    import sqlite3

    scaffold.banner(
        "Stats benchmark: /stats indicators in SQL against pandas over every case",
        scaffold.environment(("SQLAlchemy", "pandas"), f"SQLite {sqlite3.sqlite_version}"),
        f"mode {scaffold.mode(args.quick)}; {sizes.cases:,} cases over 180 days, the default "
        f"90-day period; every grouping ({', '.join(GROUPS)}) in turn over the deployment, "
        f"{sizes.runs} SQL and {sizes.baseline_runs} pandas request(s) each after a warm-up; "
        f"seed {SEED}",
    )
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-stats-") as tmp:
        targets.append(measure(scaffold.sqlite_url(Path(tmp)), SQLITE, sizes))
    if sizes.postgis:
        on_postgis = scaffold.on_postgis(POSTGIS, lambda url: measure(url, POSTGIS, sizes))
        if on_postgis is not None:
            targets.append(on_postgis)
    scaffold.section(
        "/stats figures per request (each grouping in turn; p50 and p95 of the requests)",
        results_table(targets),
    )
    scaffold.footer(started)
    scaffold.ratios(
        f"pandas / SQL p95 at {sizes.cases:,} cases: "
        + ", ".join(
            f"{t.backend} {fmt_ratio(t.quantile(PANDAS, 0.95) / t.quantile(SQL, 0.95))}"
            for t in targets
        )
    )


if __name__ == "__main__":
    scaffold.run(main)
