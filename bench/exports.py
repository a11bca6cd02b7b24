"""Benchmark: the server's memory during a full CSV export, streamed against in memory.

``GET /api/v1/exports/issues.csv`` counts the matching cases, then reads only the
exported columns a batch at a time and sends the CSV as it is encoded
(``service.exports``).  The baseline is the same export made the way gridgov
made it before (``bench._exports_old``, a copy of that code): every case loaded
as a full ORM row, geometry included, into a GeoDataFrame, the whole file
encoded in memory and sent in one piece.  It is served by gridgov with that one
route added, ``GET /bench/old-exports/issues.csv``, so both answer with the same
app, settings, filters and staff token.

For each target (SQLite; PostGIS on a fresh database, dropped afterwards, when
a server is reachable, required under ``GRIDGOV_STRICT=1``) the database is
``gridgov load data`` plus ``cases`` cases bulk-inserted as ``bench.mappage``
makes them.  Each export runs in a server process of its own on 127.0.0.1:
started, warmed up with the same export filtered to no case (imports, the
community snapshot), then its resident memory (``VmRSS``) is read, its peak
(``VmHWM``) reset, the full export read by a client in 64 KiB pieces, and the
peak read again.  The growth is the peak during the export less the memory
before it.  Times (to the first byte, to the last) are printed, never judged.

The run fails when an export is not answered 200 (or, above the cap, refused as
too large), when its rows are not the cases in the database, or when the two
files differ in anything but how a time is written (the old code wrote a whole
column with microseconds when any of its times had them; the streamed one
writes each time as it is).

Above ``service.exports.EXPORT_LIMIT`` cases (``--cases 1000000``) a full
export is refused (422 ``export_too_large``), which both ways must do: the
streamed one after counting, the old one after loading the cap's worth of rows.
The streamed export is then measured once more in full, on the baseline's server
with its cap lifted (``--export-limit``): the size gridgov itself does not give,
measured all the same.

Run with ``python -m bench.exports`` (``--quick`` for a smoke run, ``--cases N``
for another size).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench import _scaffold as scaffold
from bench._exports_old import OLD_ROUTE, old_export
from bench._timing import column_table, fmt_ratio, fmt_seconds
from bench.intake import server_env
from bench.mappage import build_database
from bench.photos import fmt_mb, peak_rss_kb, reset_peak_rss, status_kb
from cases.deadlines import utcnow
from service.exports import EXPORT_LIMIT, TIMES

__all__ = ["old_export"]  # the baseline, which tests/test_exports.py compares against too

SQLITE, POSTGIS = "SQLite", "PostGIS"
STREAMED, IN_MEMORY = "streamed", "in memory (before)"
UNCAPPED = "streamed, cap lifted"  # above the cap only: the full export gridgov refuses
WAYS = (STREAMED, IN_MEMORY, UNCAPPED)
NEW_PATH = "/api/v1/exports/issues.csv"
PIECE = 1 << 16  # bytes the client reads at a time
NO_CASE = "?category=bench_no_such_category"  # the warm-up: the same export, empty
TOO_LARGE = f"narrow the filters to {EXPORT_LIMIT} or fewer".encode()


@dataclass(frozen=True)
class Sizes:
    cases: int
    postgis: bool


FULL = Sizes(cases=100_000, postgis=True)
QUICK = Sizes(cases=5_000, postgis=True)


@dataclass
class Run:
    """One export, in a server process of its own."""

    way: str
    status: int = 0
    head: bytes = b""  # the answer's first piece (a refusal's JSON)
    size: int = 0
    rows: int = 0
    digest: str = ""
    before_kb: int | None = None  # VmRSS after the warm-up
    peak_kb: int | None = None  # VmHWM during the export
    first_byte_s: float = 0.0
    elapsed_s: float = 0.0
    peak_reset: bool = True
    saved: Path | None = None

    @property
    def growth_kb(self) -> int | None:
        if self.before_kb is None or self.peak_kb is None:
            return None
        return self.peak_kb - self.before_kb


@dataclass
class Result:
    target: str
    cases: int
    runs: list[Run] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def run(self, way: str) -> Run:
        return next(r for r in self.runs if r.way == way)


# --------------------------------------------------------------------------- exports


def staff_token(database_url: str) -> str:
    """A new admin's bearer token (an admin sees every case)."""
    from store.db import make_engine
    from store.users import add_user

    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            _, token = add_user(session, "bench exports", "admin", utcnow())
    finally:
        engine.dispose()
    return token


def download(port: int, path: str, token: str, into: Path | None, run: Run) -> None:
    """GET ``path``, reading the answer a piece at a time: its size, rows and digest (and
    the bytes, into ``into``), with the times to the first and the last byte."""
    conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=600)
    digest = hashlib.sha256()
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        run.status = response.status
        out = into.open("wb") if into is not None else None
        try:
            while piece := response.read(PIECE):
                if not run.size:
                    run.first_byte_s = time.perf_counter() - started
                    run.head = piece
                run.size += len(piece)
                run.rows += piece.count(b"\n")
                digest.update(piece)
                if out is not None:
                    out.write(piece)
        finally:
            if out is not None:
                out.close()
    finally:
        conn.close()
    run.elapsed_s = time.perf_counter() - started
    run.rows -= 1  # the header
    run.digest = digest.hexdigest()
    run.saved = into


def measure(target: str, way: str, database_url: str, token: str, work: Path, cases: int) -> Run:
    """One full CSV export ``way`` on a server of its own, with its memory around it."""
    port = scaffold.free_port()
    if way == STREAMED:
        argv = [sys.executable, "-m", "api.cli", "serve"]
        path = NEW_PATH
    elif way == IN_MEMORY:
        argv = [sys.executable, "-m", "bench._exports_old"]
        path = OLD_ROUTE.format(fmt="csv")
    else:
        argv = [sys.executable, "-m", "bench._exports_old", "--export-limit", str(cases)]
        path = NEW_PATH
    argv += ["--host", scaffold.HOST, "--port", str(port)]
    slug = f"{target.lower()}-{WAYS.index(way)}"
    env = server_env(database_url, work / f"var-{slug}")
    run = Run(way)
    with scaffold.ServerProcess(argv, env, work / f"{slug}.log", port) as server:
        download(port, path + NO_CASE, token, None, Run(way))
        run.before_kb = status_kb(server.pid, "VmRSS")
        run.peak_reset = reset_peak_rss(server.pid)
        download(port, path, token, work / f"{slug}.csv", run)
        run.peak_kb = peak_rss_kb(server.pid)
    return run


def run_target(name: str, database_url: str, work: Path, sizes: Sizes) -> Result:
    """Build the database, then one export each way, each on a fresh server."""
    total = build_database(database_url, sizes.cases)
    if name == POSTGIS:
        print(f"- {scaffold.postgres_versions(database_url)}", flush=True)
    token = staff_token(database_url)
    result = Result(name, total)
    ways = (STREAMED, IN_MEMORY, *([UNCAPPED] if total > EXPORT_LIMIT else []))
    for way in ways:
        result.runs.append(measure(name, way, database_url, token, work, total))
    check(result)
    return result


# --------------------------------------------------------------------------- checks


def refused(result: Result, run: Run) -> bool:
    """Whether the export is (and must be) refused as too large: above the cap, unlifted."""
    return result.cases > EXPORT_LIMIT and run.way != UNCAPPED


def check(result: Result) -> None:
    """200 answers holding every case, or above the cap the too-large refusal; the same
    content both ways."""
    for run in result.runs:
        if refused(result, run):
            # the message, in JSON under /api/, in a small page elsewhere (the old route)
            if run.status != 422 or TOO_LARGE not in run.head:
                result.problems.append(
                    f"{result.target} {run.way}: {result.cases:,} cases answered {run.status} "
                    f"{run.head[:200]!r}, not the too-large refusal"
                )
        elif run.status != 200:
            result.problems.append(f"{result.target} {run.way}: answered {run.status}")
        elif run.rows != result.cases:
            result.problems.append(
                f"{result.target} {run.way}: {run.rows:,} rows for {result.cases:,} cases"
            )
        if not run.peak_reset:
            result.checks.append(f"{run.way}: the peak could not be reset (counted from start)")
    new, old = result.run(STREAMED), result.run(IN_MEMORY)
    if result.problems or refused(result, new):
        return
    if new.digest == old.digest:
        result.checks.append(f"content check OK: identical files ({new.size:,} bytes)")
    elif same_values(new.saved, old.saved):
        result.checks.append(
            "content check OK: the same values; times written each as it is (the old "
            "code padded a whole column with .000000)"
        )
    else:
        result.problems.append(f"{result.target}: the streamed and the old CSV differ")
    for run in result.runs:  # a few MB each: not kept
        if run.saved is not None:
            run.saved.unlink(missing_ok=True)


def same_values(a: Path | None, b: Path | None) -> bool:
    """Whether two CSV exports hold the same values, times compared as times."""
    if a is None or b is None:
        return False
    frames = []
    for path in (a, b):
        frame = pd.read_csv(io.BytesIO(path.read_bytes()), encoding="utf-8-sig", dtype=str)
        for column in TIMES:
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
        frames.append(frame)
    return bool(frames[0].equals(frames[1]))


# --------------------------------------------------------------------------- report


def results_table(results: Sequence[Result]) -> str:
    rows = [(r, run) for r in results for run in r.runs]
    return column_table(
        rows,
        {
            "target": lambda rr: rr[0].target,
            "cases": lambda rr: f"{rr[0].cases:,}",
            "export": lambda rr: rr[1].way,
            "answer": lambda rr: (
                f"{rr[1].status}" + (" (too large)" if rr[1].status == 422 else "")
            ),
            "size": lambda rr: f"{rr[1].size / 1e6:,.1f} MB",
            "RSS before": lambda rr: fmt_mb(rr[1].before_kb),
            "peak RSS during": lambda rr: fmt_mb(rr[1].peak_kb),
            "RSS growth": lambda rr: fmt_mb(rr[1].growth_kb),
            "first byte": lambda rr: fmt_seconds(rr[1].first_byte_s),
            "last byte": lambda rr: fmt_seconds(rr[1].elapsed_s),
        },
    )


def headline(results: Sequence[Result]) -> str:
    """The old export's RSS growth over the streamed one's, per target; above the cap,
    the old refusal's over the full streamed export's (cap lifted)."""
    parts = []
    for r in results:
        old = r.run(IN_MEMORY)
        new = r.run(UNCAPPED if r.cases > EXPORT_LIMIT else STREAMED)
        if new.growth_kb and old.growth_kb is not None:
            ratio = fmt_ratio(old.growth_kb / new.growth_kb)
        else:
            ratio = "-"
        parts.append(
            f"{r.target} {ratio} ({fmt_mb(old.growth_kb)} / {fmt_mb(new.growth_kb)}"
            f" at {r.cases:,} cases)"
        )
    above = " (above the cap: the old refusal / the full export, cap lifted)"
    lifted = any(r.cases > EXPORT_LIMIT for r in results)
    return f"server RSS growth in memory / streamed{above if lifted else ''}: " + ", ".join(parts)


def versions() -> str:
    return scaffold.environment(
        ("fastapi", "starlette", "uvicorn", "SQLAlchemy", "psycopg", "pandas", "geopandas"),
        f"SQLite {sqlite3.sqlite_version}",
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "exports",
        "Server memory during a full CSV export, streamed against in memory, on SQLite "
        "and PostGIS.",
        f"{QUICK.cases:,} cases",
    )
    parser.add_argument(
        "--cases",
        type=scaffold.positive_int,
        metavar="N",
        help=f"cases in the database, all exported (default {FULL.cases:,}); above the cap "
        f"({EXPORT_LIMIT:,}) both ways must refuse, and the streamed export is measured "
        "once more with the cap lifted",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, cases=args.cases)
    scaffold.banner(
        "A full CSV export (GET /api/v1/exports/issues.csv over loopback HTTP): server memory",
        versions(),
        f"mode {scaffold.mode(args.quick)}; {sizes.cases:,} cases per target (gridgov load "
        "data, then cases bulk-inserted as bench.mappage makes them)",
        "each export on a fresh server process (gridgov serve; the baseline: gridgov plus "
        "the old in-memory export route, bench._exports_old), warmed up with the same "
        "export filtered to no case; RSS growth = peak VmHWM during the export - VmRSS "
        "before it",
        f"client: http.client, reading {PIECE // 1024} KiB at a time",
    )
    admin: Engine | None = None
    if sizes.postgis:
        try:
            admin = scaffold.postgis_admin()
        except scaffold.Unavailable as missing:
            scaffold.skip_part(POSTGIS, missing)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-exports-") as tmp:
            work = Path(tmp)
            results.append(run_target(SQLITE, scaffold.sqlite_url(work), work, sizes))
            if admin is not None:
                with scaffold.temporary_postgis(admin) as pg_url:
                    results.append(run_target(POSTGIS, pg_url, work, sizes))
    finally:
        if admin is not None:
            admin.dispose()
    for r in results:
        for line in r.checks:
            print(f"  {r.target}: {line}")
    scaffold.section(
        "Server memory during one full CSV export (each on a fresh server process)",
        results_table(results),
    )
    scaffold.footer(started)
    scaffold.ratios(headline(results))
    problems = [p for r in results for p in r.problems]
    if problems:
        raise scaffold.CheckFailed("; ".join(problems))


if __name__ == "__main__":
    scaffold.run(main)
