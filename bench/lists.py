"""Benchmark: a page of ``/api/v1/issues`` with its total counted exactly up to a cap
(``GRIDGOV_EXACT_COUNT_CAP``, estimated beyond), against the exact ``count(*)`` every
list call ran before (the baseline, same run); and a deep page read from a keyset
cursor (``after=``) against the same page by ``offset``.

Each target is the Lingxiao sample (``gridgov load data``) with ``cases`` cases
(``bench.mappage.case_rows``), analysed as autovacuum would leave it: SQLite, then
PostGIS on a fresh database dropped afterwards (skipped with a notice when no server
is reachable; a failure under ``GRIDGOV_STRICT=1``).

Two lists are timed request by request, in-process (``store.issues.page_issues`` and
``store.issues.count_matching``, what ``service.issues.list_cases`` runs):

* **all**: every case, the first 100 (a list page);
* **map**: the open cases in the community's box, the first 1,000 (what the map page
  asks every 10 s).

each with the exact count (the baseline) and with the count capped at ``cap``, and
the count alone both ways (the page of 1,000 cases the map asks for weighs more than
its count); then the page of 100 half-way through all cases, by ``offset`` and by
``after``.

Run with ``python -m bench.lists`` (``--quick`` for a smoke run, ``--cases N`` for
another size).  Timings are printed, never judged.  The run fails when a capped total
disagrees with the exact one: equal up to the cap, flagged as an estimate beyond it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds, timed
from bench.mappage import case_rows, insert_cases
from cases.deadlines import utcnow
from cases.lifecycle import OPEN_STATUSES
from store.db import make_engine
from store.issues import IssueFilter, count_matching, issue_query, page_issues

SEED = 20261130
SQLITE, POSTGIS = "SQLite", "PostGIS"
EXACT, CAPPED = "page + exact count (before)", "page + capped count"
COUNT_EXACT, COUNT_CAPPED = "exact count alone", "capped count alone"
OFFSET, AFTER = "deep page by offset", "deep page by after"
BASELINE = {CAPPED: EXACT, COUNT_CAPPED: COUNT_EXACT, AFTER: OFFSET}  # each way's baseline
BOX = (121.8220, 29.8885, 121.8462, 29.8998)  # the sample community's box


@dataclass(frozen=True)
class Sizes:
    cases: int
    runs: int  # timed requests per list and way
    cap: int  # the exact count's cap
    postgis: bool  # PostGIS as well as SQLite


FULL = Sizes(cases=200_000, runs=20, cap=10_000, postgis=True)
QUICK = Sizes(cases=5_000, runs=5, cap=1_000, postgis=True)


def lists(now: datetime) -> dict[str, IssueFilter]:
    """The lists timed: every case, and the map's open cases in the community's box."""
    return {
        "all": IssueFilter(limit=100, now=now),
        "map": IssueFilter(
            bbox=BOX, status=sorted(s.value for s in OPEN_STATUSES), limit=1000, now=now
        ),
    }


def listing(session: Session, f: IssueFilter, cap: int | None) -> Callable[[], object]:
    """A list request: the page of ``f`` and its total counted up to ``cap``."""
    return lambda: (
        page_issues(session, f),
        count_matching(session, issue_query(session, f), cap),
    )


def counting(session: Session, f: IssueFilter, cap: int | None) -> Callable[[], object]:
    """The total of ``f`` alone, counted up to ``cap``."""
    return lambda: count_matching(session, issue_query(session, f), cap)


def paging(session: Session, f: IssueFilter) -> Callable[[], object]:
    """The page of ``f`` alone."""
    return lambda: page_issues(session, f)


@dataclass
class Target:
    backend: str
    cases: int
    totals: dict[str, tuple[int, int, bool]] = field(default_factory=dict)  # exact, capped
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def p50(self, key: tuple[str, str]) -> float:
        return statistics.median(self.times[key])


def build_database(database_url: str, n: int) -> None:
    """``gridgov load data`` and ``n`` cases, then the planner's statistics."""
    started = time.perf_counter()
    scaffold.load_sample(database_url)
    insert_cases(database_url, case_rows(n, SEED + n, utcnow()))
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"{n:,} cases loaded in {fmt_seconds(time.perf_counter() - started)}", flush=True)


def measure(database_url: str, backend: str, sizes: Sizes) -> Target:
    target = Target(backend, sizes.cases)
    build_database(database_url, sizes.cases)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for name, f in lists(utcnow()).items():
                query = issue_query(session, f)
                exact = count_matching(session, query, None)
                capped = count_matching(session, query, sizes.cap)
                if capped.estimate != (exact.value > sizes.cap) or (
                    not capped.estimate and capped.value != exact.value
                ):
                    raise scaffold.CheckFailed(
                        f"{backend} {name}: capped total {capped} against exact {exact.value}"
                    )
                target.totals[name] = (exact.value, capped.value, capped.estimate)
                ways = {
                    EXACT: listing(session, f, None),
                    CAPPED: listing(session, f, sizes.cap),
                    COUNT_EXACT: counting(session, f, None),
                    COUNT_CAPPED: counting(session, f, sizes.cap),
                }
                for way, answer in ways.items():
                    answer()  # warm-up
                    target.times[(name, way)] = [timed(answer)[0] for _ in range(sizes.runs)]
            half = sizes.cases // 2
            rows, _ = page_issues(session, IssueFilter(limit=1, offset=half - 1))
            cursor = rows[0].id
            deep = {
                OFFSET: IssueFilter(limit=100, offset=half),
                AFTER: IssueFilter(limit=100, after=cursor),
            }
            pages = {way: [r.id for r in page_issues(session, f)[0]] for way, f in deep.items()}
            if pages[OFFSET] != pages[AFTER]:
                raise scaffold.CheckFailed(f"{backend}: the deep pages by offset and after differ")
            for way, f in deep.items():
                page = paging(session, f)
                target.times[("deep", way)] = [timed(page)[0] for _ in range(sizes.runs)]
    finally:
        engine.dispose()
    return target


def results_table(targets: Sequence[Target]) -> str:
    rows = [(t, key) for t in targets for key in t.times]
    return column_table(
        rows,
        {
            "backend": lambda r: r[0].backend,
            "cases": lambda r: f"{r[0].cases:,}",
            "list": lambda r: r[1][0],
            "way": lambda r: r[1][1],
            "total": lambda r: (
                "-"
                if r[1][0] == "deep"
                else _total(*r[0].totals[r[1][0]], capped=r[1][1] in (CAPPED, COUNT_CAPPED))
            ),
            "requests": lambda r: f"{len(r[0].times[r[1]])}",
            "p50": lambda r: fmt_seconds(r[0].p50(r[1])),
            "baseline / this, p50": lambda r: fmt_ratio(
                r[0].p50((r[1][0], BASELINE.get(r[1][1], r[1][1]))) / r[0].p50(r[1])
            ),
        },
    )


def _total(exact: int, value: int, estimate: bool, capped: bool) -> str:
    if not capped:
        return f"{exact:,}"
    return f"~{value:,} (estimate)" if estimate else f"{value:,}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "lists",
        "A case list's total counted exactly up to a cap, against an exact count(*).",
        f"{QUICK.cases:,} cases, cap {QUICK.cap:,}, {QUICK.runs} requests per list and way",
    )
    parser.add_argument("--cases", type=scaffold.positive_int, metavar="N", help="cases (200000)")
    parser.add_argument(
        "--runs", type=scaffold.positive_int, metavar="R", help="requests per list and way (20)"
    )
    parser.add_argument("--cap", type=scaffold.positive_int, metavar="C", help="the cap (10000)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, cases=args.cases, runs=args.runs, cap=args.cap)
    import sqlite3

    scaffold.banner(
        "Lists benchmark: a case list's total capped at a count, against an exact count(*)",
        scaffold.environment(("SQLAlchemy",), f"SQLite {sqlite3.sqlite_version}"),
        f"mode {scaffold.mode(args.quick)}; {sizes.cases:,} cases; cap {sizes.cap:,}; "
        f"{sizes.runs} requests per list and way after a warm-up; seed {SEED}",
    )
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-lists-") as tmp:
        targets.append(measure(scaffold.sqlite_url(Path(tmp)), SQLITE, sizes))
    if sizes.postgis:
        on_postgis = scaffold.on_postgis(POSTGIS, lambda url: measure(url, POSTGIS, sizes))
        if on_postgis is not None:
            targets.append(on_postgis)
    scaffold.section(
        "A list page and its total per request, in-process (p50 of the requests)",
        results_table(targets),
    )
    scaffold.footer(started)
    scaffold.ratios(
        f"exact / capped p50 at {sizes.cases:,} cases, list (count alone): "
        + ", ".join(
            f"{t.backend} {name} {fmt_ratio(t.p50((name, EXACT)) / t.p50((name, CAPPED)))} "
            f"({fmt_ratio(t.p50((name, COUNT_EXACT)) / t.p50((name, COUNT_CAPPED)))})"
            for t in targets
            for name in ("all", "map")
        )
        + "; offset / after, deep page: "
        + ", ".join(
            f"{t.backend} {fmt_ratio(t.p50(('deep', OFFSET)) / t.p50(('deep', AFTER)))}"
            for t in targets
        )
    )


if __name__ == "__main__":
    scaffold.run(main)
