"""Benchmark: case intake (``POST /api/v1/issues``) over loopback HTTP.

Each target is a real server started as its own process on 127.0.0.1 and
driven by concurrent clients over keep-alive connections:

* **bare FastAPI**: ``bench._bare``, a POST endpoint that only parses the same
  JSON body with a small pydantic model and answers 201, the ceiling;
* **SQLite**: ``gridgov serve`` on a SQLite file loaded with the Lingxiao sample;
* **PostGIS**: the same on a fresh PostgreSQL/PostGIS database, dropped
  afterwards (skipped with a notice when no server is reachable, a failure
  instead under ``GRIDGOV_STRICT=1``).

Every target gets the same report bodies (building centroids of the sample and
catalogue categories, one report in ten with a reporter), each request its own
``Idempotency-Key``.  A warm-up runs first, then the measured requests.  The
client is the standard library's ``http.client``, one keep-alive connection per
client thread, which costs the shared CPU much less per request than an asyncio
HTTP client would.

Run with ``python -m bench.intake`` (``--quick`` for a smoke run).  Timings are
printed, never judged.  The run fails when gridgov does not do what the bare
endpoint does, take every report: a request not answered 201, two answers with
the same ``Location``, or a database holding a different number of new cases
than were answered 201.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds, timed

BUILDINGS_PATH = scaffold.DATA / "buildings.geojson"
COMMUNITY_PATH = scaffold.DATA / "boundaries" / "community.geojson"
PATH = "/api/v1/issues"
SEED = 20261126
REPORTER_EVERY = 10  # one report in ten carries the reporter's name and phone
REQUEST_TIMEOUT_S = 60.0  # socket timeout of one request (gridgov's pool waits up to 30 s)
FAILURE_EXAMPLES = 5

BARE, SQLITE, POSTGIS = "bare FastAPI", "SQLite", "PostGIS"

DESCRIPTIONS = (
    "楼道堆放杂物，影响通行",
    "路灯不亮，晚上很黑",
    "垃圾桶满了没人清理",
    "井盖松动，有安全隐患",
    "门口有人占道经营",
    "绿化带里有建筑垃圾",
    "车辆乱停放，堵住消防通道",
    "墙上贴满小广告",
    "施工噪音太大，夜里还在干",
    "独居老人需要上门看看",
)


@dataclass(frozen=True)
class Sizes:
    requests: int
    warmup: int
    concurrency: int
    max_seconds: float  # the measured phase stops taking new requests after this


FULL = Sizes(requests=2_000, warmup=100, concurrency=16, max_seconds=120.0)
QUICK = Sizes(requests=100, warmup=20, concurrency=16, max_seconds=30.0)


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    status: int  # 0 when no answer came (connection error, timeout)
    latency_s: float
    location: str | None = None
    detail: str = ""  # the start of the answer or the exception, for failures


@dataclass
class Result:
    target: str
    concurrency: int
    elapsed_s: float
    outcomes: list[Outcome]
    warmup: list[Outcome]
    client_cpu_s: float = float("nan")
    server_cpu_s: float = float("nan")
    machine_busy: float = float("nan")  # share of all CPUs busy during the run
    other_busy: float = float("nan")  # share busy outside client and server processes
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # checks that failed: the run fails

    @property
    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes + self.warmup if o.status != 201]

    @property
    def throughput(self) -> float:
        return len(self.ok) / self.elapsed_s

    def latency_ms(self, q: float) -> float:
        return float(np.percentile([o.latency_s for o in self.ok], q)) * 1e3


# --------------------------------------------------------------------------- requests


def report_points() -> list[tuple[float, float]]:
    """Centroids of the sample's buildings that lie inside the community."""
    with COMMUNITY_PATH.open(encoding="utf-8") as f:
        outline = shapely.union_all([shape(ft["geometry"]) for ft in json.load(f)["features"]])
    with BUILDINGS_PATH.open(encoding="utf-8") as f:
        buildings = [shape(ft["geometry"]) for ft in json.load(f)["features"]]
    centroids = shapely.centroid(buildings)
    inside = centroids[shapely.contains(outline, centroids)]
    if len(inside) < len(centroids):
        print(f"note: {len(centroids) - len(inside)} building centroids outside the community")
    return [(round(p.x, 6), round(p.y, 6)) for p in inside]


def make_bodies(n: int, seed: int) -> list[bytes]:
    """``n`` report bodies as a phone would send them, the same on every run."""
    rng = random.Random(seed)
    points, codes = report_points(), scaffold.category_codes()
    bodies = []
    for i in range(n):
        lon, lat = rng.choice(points)
        report: dict[str, object] = {
            "lon": lon,
            "lat": lat,
            "crs": "wgs84",
            "category": rng.choice(codes),
            "description": rng.choice(DESCRIPTIONS),
            "channel": "mobile",
        }
        if i % REPORTER_EVERY == REPORTER_EVERY - 1:
            report["reporter"] = {"name": "张三", "phone": "13800000000"}
        bodies.append(json.dumps(report, ensure_ascii=False).encode())
    return bodies


def with_keys(bodies: Sequence[bytes]) -> list[Request]:
    """The bodies as requests, each with a fresh ``Idempotency-Key``."""
    return [
        Request(
            body,
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        for body in bodies
    ]


# --------------------------------------------------------------------------- client


class Clients:
    """``concurrency`` client threads, each with its own keep-alive connection."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.connections = [
            http.client.HTTPConnection(scaffold.HOST, port, timeout=REQUEST_TIMEOUT_S)
            for _ in range(concurrency)
        ]

    def run(self, requests: Sequence[Request], max_seconds: float) -> list[Outcome]:
        """Send ``requests``, each thread taking the next one when it is free.

        Threads stop at the end of the list or, after ``max_seconds``, at their
        next request; each request is bounded by the socket timeout.
        """
        deadline = time.perf_counter() + max_seconds
        lock = threading.Lock()
        position = 0
        per_thread: list[list[Outcome]] = [[] for _ in self.connections]

        def take() -> Request | None:
            nonlocal position
            with lock:
                if position >= len(requests) or time.perf_counter() > deadline:
                    return None
                position += 1
                return requests[position - 1]

        def work(conn: http.client.HTTPConnection, out: list[Outcome]) -> None:
            while (request := take()) is not None:
                out.append(send(conn, request))

        threads = [
            threading.Thread(target=work, args=(conn, out), daemon=True)
            for conn, out in zip(self.connections, per_thread, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [o for out in per_thread for o in out]

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


def send(conn: http.client.HTTPConnection, request: Request) -> Outcome:
    start = time.perf_counter()
    try:
        conn.request("POST", PATH, body=request.body, headers=request.headers)
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request opens a new connection
        return Outcome(0, time.perf_counter() - start, detail=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - start
    if response.status != 201:
        detail = payload[:200].decode("utf-8", "replace")
        return Outcome(response.status, latency, detail=detail)
    return Outcome(201, latency, response.getheader("Location"))


# --------------------------------------------------------------------------- server side


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), NaN when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()  # after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (Linux /proc/stat)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0, 0
    ticks = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a gridgov server: its database, its own var folder, no rate limit."""
    return {
        **os.environ,
        "GRIDGOV_DATABASE_URL": database_url,
        "GRIDGOV_VAR_DIR": str(var_dir),
        "GRIDGOV_REPORT_RATE": "100000000",  # no per-client limit on public reports
    }


def sessions_counter(admin: Engine, database_url: str) -> Callable[[], int | None]:
    """Sessions established to the database so far (``pg_stat_database``, PostgreSQL 14+)."""
    name = make_url(database_url).database

    def sessions() -> int | None:
        try:
            with admin.connect() as conn:
                value = conn.execute(
                    text("SELECT sessions FROM pg_stat_database WHERE datname = :name"),
                    {"name": name},
                ).scalar()
        except Exception:  # older servers have no sessions column
            return None
        return None if value is None else int(value)

    return sessions


# --------------------------------------------------------------------------- bench


@dataclass(frozen=True)
class Target:
    """A server to measure: how to start it and, for gridgov, its database."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    database_url: str | None = None
    sessions: Callable[[], int | None] | None = None  # PostgreSQL sessions opened so far


def bench_target(target: Target, bodies: Sequence[bytes], sizes: Sizes) -> Result:
    url = target.database_url
    before = scaffold.count_issues(url) if url else 0
    warm_requests = with_keys(bodies[: sizes.warmup])
    measured_requests = with_keys(bodies[sizes.warmup : sizes.warmup + sizes.requests])
    sessions = target.sessions or (lambda: None)
    with scaffold.ServerProcess(target.argv, target.env, target.log, target.port) as server:
        clients = Clients(target.port, sizes.concurrency)
        try:
            warmup = clients.run(warm_requests, sizes.max_seconds)
            sessions0 = sessions()
            busy0, total0 = machine_ticks()
            client0, server0 = time.process_time(), proc_cpu_seconds(server.pid)
            # the garbage collector is paused while the requests run, as in timed runs
            elapsed, outcomes = timed(lambda: clients.run(measured_requests, sizes.max_seconds))
            client_cpu = time.process_time() - client0
            server_cpu = proc_cpu_seconds(server.pid) - server0
            busy1, total1 = machine_ticks()
            sessions1 = sessions()
        finally:
            clients.close()
    result = Result(target.name, sizes.concurrency, elapsed, outcomes, warmup)
    n = len(outcomes)
    if n:
        result.client_cpu_s = client_cpu / n
        result.server_cpu_s = server_cpu / n
    if total1 > total0:
        result.machine_busy = (busy1 - busy0) / (total1 - total0)
        cpu_s = (total1 - total0) / os.sysconf("SC_CLK_TCK")  # CPU-seconds of all CPUs
        result.other_busy = result.machine_busy - (client_cpu + server_cpu) / cpu_s
    if n < len(measured_requests):
        result.checks.append(
            f"stopped after {sizes.max_seconds:.0f} s: {n:,} of {len(measured_requests):,} sent"
        )
    if sessions0 is not None and sessions1 is not None:
        result.checks.append(
            f"PostgreSQL sessions opened during the measured run: {sessions1 - sessions0:,}"
        )

    answered = [o for o in warmup + outcomes if o.status == 201]
    ids = {o.location for o in answered}
    result.checks.append(
        f"{len(answered):,} answered 201 (warm-up {len(warmup):,} + measured {n:,} sent), "
        f"{len(ids):,} distinct Location ids"
        + ("" if len(ids) == len(answered) else " — DUPLICATE IDS")
    )
    if len(ids) != len(answered):
        result.problems.append(
            f"{target.name}: {len(answered):,} answers 201 carry only {len(ids):,} distinct "
            "Location ids"
        )
    if result.failures:
        status, detail = Counter((o.status, o.detail) for o in result.failures).most_common(1)[0][0]
        result.problems.append(
            f"{target.name}: {len(result.failures):,} of {len(warmup) + n:,} reports not "
            f"answered 201 (most often status {status or 'none'}: {detail})"
        )
    if url:
        after = scaffold.count_issues(url)
        verdict = "OK" if after - before == len(answered) else "MISMATCH"
        result.checks.append(
            f"database check {verdict}: SELECT count(*) FROM issues = {after:,} "
            f"(before the run {before:,}, + {len(answered):,} answered 201)"
        )
        if verdict != "OK":
            result.problems.append(
                f"{target.name}: the database gained {after - before:,} cases, but "
                f"{len(answered):,} reports were answered 201"
            )
    return result


def run_target(target: Target, bodies: Sequence[bytes], sizes: Sizes) -> Result:
    """Measure one target and print how it went."""
    result = bench_target(target, bodies, sizes)
    print(
        f"{target.name}: {len(result.outcomes):,} requests in {fmt_seconds(result.elapsed_s)}, "
        f"{result.throughput:,.0f} req/s",
        flush=True,
    )
    for check in result.checks:
        print(f"  {target.name}: {check}")
    if result.failures:
        report_failures(result)
    return result


def run_bare(work: Path, bodies: Sequence[bytes], sizes: Sizes) -> Result:
    port = scaffold.free_port()
    argv = [sys.executable, "-m", "bench._bare", "--host", scaffold.HOST, "--port", str(port)]
    target = Target(BARE, argv, dict(os.environ), port, work / "bare-server.log")
    return run_target(target, bodies, sizes)


def run_gridgov(
    name: str,
    database_url: str,
    work: Path,
    bodies: Sequence[bytes],
    sizes: Sizes,
    sessions: Callable[[], int | None] | None = None,
) -> Result:
    """``gridgov load data`` into ``database_url``, then ``gridgov serve`` as the target."""
    scaffold.load_sample(database_url)
    if name == POSTGIS:
        print(f"- {scaffold.postgres_versions(database_url)}")
    port = scaffold.free_port()
    argv = [sys.executable, "-m", "api.cli", "serve", "--host", scaffold.HOST, "--port", str(port)]
    env = server_env(database_url, work / f"var-{name.lower()}")
    log = work / f"{name.lower()}-server.log"
    return run_target(Target(name, argv, env, port, log, database_url, sessions), bodies, sizes)


def report_failures(result: Result) -> None:
    """The requests not answered 201, grouped by status and the start of the answer."""
    failures = result.failures
    total = len(result.outcomes) + len(result.warmup)
    print(f"  !!! {result.target}: {len(failures):,} of {total:,} requests FAILED (not 201)")
    kinds = Counter((o.status, o.detail) for o in failures)
    for (status, detail), count in kinds.most_common(FAILURE_EXAMPLES):
        print(f"  !!!   {count:,} x status {status or 'none'}: {detail}")


# --------------------------------------------------------------------------- report


def results_table(results: Sequence[Result]) -> str:
    bare = next((r for r in results if r.target == BARE), None)

    def to_bare(r: Result) -> str:
        return fmt_ratio(r.throughput / bare.throughput) if bare and bare.ok else "n/a"

    return column_table(
        results,
        {
            "target": lambda r: r.target,
            "requests": lambda r: f"{len(r.outcomes):,}",
            "concurrency": lambda r: f"{r.concurrency}",
            "throughput req/s": lambda r: f"{r.throughput:,.0f}",
            "p50 ms": lambda r: f"{r.latency_ms(50):,.1f}" if r.ok else "-",
            "p99 ms": lambda r: f"{r.latency_ms(99):,.1f}" if r.ok else "-",
            "throughput / bare": to_bare,
        },
    )


def cpu_table(results: Sequence[Result]) -> str:
    return column_table(
        results,
        {
            "target": lambda r: r.target,
            "client CPU / request": lambda r: f"{r.client_cpu_s * 1e3:.2f} ms",
            "server CPU / request": lambda r: f"{r.server_cpu_s * 1e3:.2f} ms",
            "machine busy": lambda r: f"{r.machine_busy:.0%}",
            "other load": lambda r: f"{max(r.other_busy, 0.0):.0%}",
        },
    )


def versions() -> str:
    return scaffold.environment(
        ("fastapi", "starlette", "pydantic", "uvicorn", "SQLAlchemy", "psycopg"),
        f"SQLite {sqlite3.sqlite_version}",
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "intake",
        "Case intake over loopback HTTP: bare FastAPI, SQLite and PostGIS.",
        f"{QUICK.requests:,} requests per target after a warm-up of {QUICK.warmup}",
    )
    parser.add_argument(
        "--requests",
        type=scaffold.positive_int,
        metavar="N",
        help=f"measured requests per target (default {FULL.requests:,})",
    )
    parser.add_argument(
        "--concurrency",
        type=scaffold.positive_int,
        metavar="C",
        help=f"concurrent clients (default {FULL.concurrency})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(
        args.quick, FULL, QUICK, requests=args.requests, concurrency=args.concurrency
    )

    scaffold.banner(
        "Case intake benchmark (POST /api/v1/issues over loopback HTTP)",
        versions(),
        f"mode {scaffold.mode(args.quick)}; per target: {sizes.warmup:,} warm-up "
        f"then {sizes.requests:,} measured requests from {sizes.concurrency} client threads "
        f"(http.client, one keep-alive connection each; measured phase bounded to "
        f"{sizes.max_seconds:.0f} s); seed {SEED}",
        "servers: one uvicorn process each on 127.0.0.1 (uvicorn.run defaults less proxy "
        "headers, access log on), sharing the machine's CPUs with the client",
        f"reports: building centroids of the sample, categories from the catalogue, one "
        f"in {REPORTER_EVERY} with a reporter; a fresh Idempotency-Key per request",
    )

    admin: Engine | None = None
    try:  # asked first, so that a missing PostGIS fails a strict run at once
        admin = scaffold.postgis_admin()
    except scaffold.Unavailable as missing:
        scaffold.skip_part(POSTGIS, missing)
    bodies = make_bodies(sizes.warmup + sizes.requests, SEED)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-intake-") as tmp:
            work = Path(tmp)
            results.append(run_bare(work, bodies, sizes))
            results.append(run_gridgov(SQLITE, scaffold.sqlite_url(work), work, bodies, sizes))
            if admin is not None:
                with scaffold.temporary_postgis(admin) as pg_url:
                    counter = sessions_counter(admin, pg_url)
                    results.append(run_gridgov(POSTGIS, pg_url, work, bodies, sizes, counter))
    finally:
        if admin is not None:
            admin.dispose()

    scaffold.section(
        "Case intake (201 answers per second of wall time; latency of 201 answers)",
        results_table(results),
    )
    scaffold.section(
        "CPU during the measured run (server: the uvicorn process; machine busy: all "
        f"{os.cpu_count()} CPUs; other load: the part of it not used by the client or the "
        "server process: PostgreSQL, kernel, anything else running)",
        cpu_table(results),
    )
    print()
    failed = sum(len(r.failures) for r in results)
    if failed:
        print(f"!!! {failed:,} REQUESTS FAILED in all; see the lines marked !!! above")
    else:
        print("all requests answered 201")
    scaffold.footer(started)
    bare = next(r for r in results if r.target == BARE)
    scaffold.ratios(
        "throughput / bare: "
        + ", ".join(
            f"{r.target} {fmt_ratio(r.throughput / bare.throughput) if bare.ok else 'n/a'}"
            for r in results
            if r is not bare
        )
    )
    problems = [problem for r in results for problem in r.problems]
    if problems:
        raise scaffold.CheckFailed("; ".join(problems))


if __name__ == "__main__":
    scaffold.run(main)
