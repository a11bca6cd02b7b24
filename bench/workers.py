"""Benchmark: read throughput of ``gridgov serve --workers 2`` against one worker, on PostGIS.

Two servers are started side by side on one PostGIS database loaded with the
Lingxiao sample and its demo case history (300 cases), both as operators run
them, ``gridgov serve`` on loopback with the rate limit shared in Redis:

* **1 worker** (the baseline): ``gridgov serve --workers 1``;
* **2 workers**: ``gridgov serve --workers 2``, uvicorn's supervisor and two
  worker processes on one port.

The load is ``GET /api/v1/issues?limit=50`` (a page of the managers' case list)
from client *processes*, each on a keep-alive ``http.client`` connection that
it replaces every 20 requests (as browsers and proxies open new ones; a
connection stays with the worker that accepted it), every client sending its
next request as soon as the last is answered.  Clients are
processes, not threads, so that the client is not held by one interpreter lock;
a request costs the client a small fraction of what it costs the server (the
CPU table shows both).  The servers are measured in turns (1, 2, 1, 2, ...),
each turn as long, so that other work on the shared machine weighs on both
alike; the ratio is the 2 workers' requests per second over the one worker's,
per pair of turns and as the median.

Before it is measured, a server is warmed up until every one of its workers has
served a share of the load (read from each worker's CPU time in /proc), so a
worker still importing is never measured as idle.  The run fails when an
answer is not 200, or the two servers answer the same request differently.

Needs PostgreSQL with PostGIS and Redis (``gridgov serve`` refuses several
workers on SQLite or without ``GRIDGOV_REDIS_URL``).  Run with
``python -m bench.workers`` (``--quick`` for a smoke run).  Throughput is
printed, never judged.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio

PATH = "/api/v1/issues?limit=50"
REQUEST_TIMEOUT_S = 60.0
WARM_UP_ROUNDS = 20  # at most, each warm_up_s long, until every worker serves
# a client opens a new connection after so many requests, as browsers and proxies do, so
# that connections go to whichever worker accepts first rather than stay where they began
REQUESTS_PER_CONNECTION = 20
BASELINE, TWO = "one worker", "two workers"


@dataclass(frozen=True)
class Sizes:
    clients: int  # client processes, one connection each
    seconds: float  # length of one measured turn
    turns: int  # turns per server
    warm_up_s: float  # length of one warm-up round


FULL = Sizes(clients=8, seconds=15.0, turns=3, warm_up_s=3.0)
QUICK = Sizes(clients=8, seconds=4.0, turns=1, warm_up_s=2.0)


@dataclass
class Turn:
    """One measured turn of one server."""

    server: str
    index: int
    requests: int
    failures: int
    seconds: float
    server_cpu_s: float  # supervisor and workers
    client_cpu_s: float  # all client processes
    worker_share: list[float]  # each worker's part of the workers' CPU time
    load1: float  # 1-minute load average at the end of the turn

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


@dataclass
class Server:
    """A running ``gridgov serve --workers N`` and what was measured of it."""

    name: str
    workers: int
    process: scaffold.ServerProcess
    turns: list[Turn] = field(default_factory=list)


# --------------------------------------------------------------------------- processes


def worker_processes(pid: int) -> list[int]:
    """The live worker processes uvicorn's supervisor ``pid`` runs (Linux /proc), in pid
    order; none when ``pid`` serves alone."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # not multiprocessing's resource tracker, which is a child too
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def children(pid: int) -> list[int]:
    """The processes serving for ``pid``: its workers; for one worker, uvicorn serves in
    ``pid`` itself."""
    return worker_processes(pid) or [pid]


def cpu_seconds(pids: Sequence[int]) -> list[float]:
    """User and system CPU time of each of ``pids`` so far (0 for one that is gone)."""
    out = []
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            out.append(0.0)
            continue
        out.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return out


# --------------------------------------------------------------------------- clients


def client(port: int, start: Any, stop: Any, results: Any) -> None:
    """Send ``GET PATH`` on keep-alive connections from ``start`` until ``stop``, a new one
    every ``REQUESTS_PER_CONNECTION``; put (answered 200, other answers, CPU seconds) on
    ``results``."""
    conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=REQUEST_TIMEOUT_S)
    ok = bad = 0
    start.wait()
    cpu0 = time.process_time()
    while not stop.is_set():
        if (ok + bad) % REQUESTS_PER_CONNECTION == 0:
            conn.close()  # the next request connects anew
        try:
            conn.request("GET", PATH)
            answer = conn.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            bad += 1
            conn.close()
            continue
        if answer.status == 200:
            ok += 1
        else:
            bad += 1
    conn.close()
    results.put((ok, bad, time.process_time() - cpu0))


def load(server: Server, seconds: float, clients: int) -> tuple[int, int, float, float]:
    """``clients`` processes sending requests for ``seconds``: (answered 200, others,
    elapsed seconds from the start signal until the last client stopped, client CPU)."""
    context = multiprocessing.get_context("spawn")
    start, stop, results = context.Event(), context.Event(), context.Queue()
    procs = [
        context.Process(target=client, args=(server.process.port, start, stop, results))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    began = time.perf_counter()
    start.set()
    time.sleep(seconds)
    stop.set()
    answers = [results.get(timeout=REQUEST_TIMEOUT_S + 30) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join(timeout=30)
    return (
        sum(a[0] for a in answers),
        sum(a[1] for a in answers),
        elapsed,
        sum(a[2] for a in answers),
    )


# --------------------------------------------------------------------------- the run


def warm_up(server: Server, sizes: Sizes) -> None:
    """Load ``server`` in rounds until each of its workers did at least a quarter of an
    even share of the work in one round (a worker still starting does none)."""
    for _ in range(WARM_UP_ROUNDS):
        workers = children(server.process.pid)
        before = cpu_seconds(workers)
        load(server, sizes.warm_up_s, sizes.clients)
        used = [b - a for a, b in zip(before, cpu_seconds(workers), strict=True)]
        if len(workers) == server.workers and all(u > 0.25 * sum(used) / len(used) for u in used):
            return
    raise RuntimeError(
        f"{server.name}: not every worker served after {WARM_UP_ROUNDS} warm-up rounds:\n"
        + server.process.log_tail()
    )


def measure(server: Server, index: int, sizes: Sizes) -> Turn:
    """One measured turn of ``server``."""
    supervisor = server.process.pid
    workers = children(supervisor)
    pids = [supervisor, *workers] if workers != [supervisor] else workers
    before = cpu_seconds(pids)
    ok, bad, elapsed, client_cpu = load(server, sizes.seconds, sizes.clients)
    after = cpu_seconds(pids)
    used = [b - a for a, b in zip(before, after, strict=True)]
    worker_used = used[-len(workers) :]
    total = sum(worker_used) or 1.0
    turn = Turn(
        server.name,
        index,
        ok,
        bad,
        elapsed,
        sum(used),
        client_cpu,
        [u / total for u in worker_used],
        os.getloadavg()[0],
    )
    server.turns.append(turn)
    print(
        f"{server.name}, turn {index}: {ok:,} requests in {elapsed:.1f} s, "
        f"{turn.rate:,.1f} req/s (load average {turn.load1:.2f})",
        flush=True,
    )
    return turn


def same_answers(servers: Sequence[Server]) -> None:
    """Both servers answer ``GET PATH`` with the same cases in the same order."""
    answers = []
    for server in servers:
        conn = http.client.HTTPConnection(scaffold.HOST, server.process.port, timeout=60)
        try:
            conn.request("GET", PATH)
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        if answer.status != 200:
            raise scaffold.CheckFailed(f"{server.name}: GET {PATH} answered {answer.status}")
        page = json.loads(body)
        answers.append((page["total"], [f["id"] for f in page["features"]]))
    if answers[0] != answers[1] or not answers[0][1]:
        raise scaffold.CheckFailed(
            f"GET {PATH}: {servers[0].name} answered {answers[0]}, "
            f"{servers[1].name} answered {answers[1]}"
        )
    print(f"check: both answer GET {PATH} with the same {len(answers[0][1])} cases", flush=True)


def prepare(database_url: str, var_dir: Path) -> None:
    """The sample and its demo case history, as ``gridgov serve --sample-if-empty`` loads."""
    from cases.deadlines import utcnow
    from service.admin import demo
    from service.settings import Settings
    from store.db import make_engine

    scaffold.load_sample(database_url)
    engine = make_engine(database_url)
    try:
        done = demo(engine, Settings(database_url=database_url, var_dir=var_dir), utcnow())
    finally:
        engine.dispose()
    if not done.cases_loaded:
        raise RuntimeError("the demo case history was not loaded")


def start(name: str, workers: int, env: dict[str, str], work: Path) -> scaffold.ServerProcess:
    port = scaffold.free_port()
    argv = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        "--host",
        scaffold.HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = work / f"server-{workers}.log"
    return scaffold.ServerProcess(argv, env, log, port, startup_timeout=300)


def turns_table(servers: Sequence[Server]) -> str:
    turns = sorted((t for s in servers for t in s.turns), key=lambda t: (t.index, t.server))
    return column_table(
        turns,
        {
            "turn": lambda t: str(t.index),
            "server": lambda t: t.server,
            "requests": lambda t: f"{t.requests:,}",
            "not 200": lambda t: str(t.failures),
            "seconds": lambda t: f"{t.seconds:.1f}",
            "req/s": lambda t: f"{t.rate:,.1f}",
            "server CPU ms/req": lambda t: f"{1e3 * t.server_cpu_s / max(t.requests, 1):.2f}",
            "client CPU ms/req": lambda t: f"{1e3 * t.client_cpu_s / max(t.requests, 1):.2f}",
            "workers' CPU shares": lambda t: " / ".join(f"{s:.0%}" for s in t.worker_share),
            "load avg (1 min)": lambda t: f"{t.load1:.2f}",
        },
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "workers",
        "Read throughput of gridgov serve --workers 2 against one worker, on PostGIS.",
        f"one {QUICK.seconds:.0f} s turn per server",
    )
    parser.add_argument("--clients", type=scaffold.positive_int, help="client processes")
    parser.add_argument("--turns", type=scaffold.positive_int, help="measured turns per server")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, clients=args.clients, turns=args.turns)
    admin = scaffold.postgis_admin()
    redis = scaffold.workers_redis()
    scaffold.banner(
        "Worker processes benchmark (GET /api/v1/issues?limit=50, 1 worker against 2)",
        scaffold.environment(["uvicorn", "fastapi", "SQLAlchemy", "psycopg"]),
        f"mode {scaffold.mode(args.quick)}: {sizes.clients} client processes (a keep-alive "
        f"connection each, a new one every {REQUESTS_PER_CONNECTION} requests); "
        f"{sizes.turns} turn(s) of {sizes.seconds:.0f} s per server, in turns 1, 2, 1, 2, "
        "...; both servers on one PostGIS database with the sample and "
        "300 demo cases; rate limit in Redis",
    )
    try:
        with (
            tempfile.TemporaryDirectory(prefix="gridgov-bench-workers-") as tmp,
            scaffold.temporary_postgis(admin) as database_url,
        ):
            work = Path(tmp)
            prepare(database_url, work / "var")
            print(scaffold.postgres_versions(database_url), flush=True)
            env = {
                **os.environ,
                **redis,
                "GRIDGOV_DATABASE_URL": database_url,
                "GRIDGOV_VAR_DIR": str(work / "var"),
                "GRIDGOV_DB_POOL_SIZE": str(sizes.clients),
            }
            with (
                start(BASELINE, 1, env, work) as one,
                start(TWO, 2, env, work) as two,
            ):
                servers = [Server(BASELINE, 1, one), Server(TWO, 2, two)]
                same_answers(servers)
                for server in servers:
                    warm_up(server, sizes)
                for index in range(1, sizes.turns + 1):
                    for server in servers:
                        measure(server, index, sizes)
    finally:
        admin.dispose()
    scaffold.section("Turns", turns_table(servers))
    ratios = [b.rate / a.rate for a, b in zip(servers[0].turns, servers[1].turns, strict=True)]
    failures = sum(t.failures for s in servers for t in s.turns)
    scaffold.section(
        "2 workers against 1",
        f"req/s ratio per pair of turns: {', '.join(fmt_ratio(r) for r in ratios)}; "
        f"median {fmt_ratio(statistics.median(ratios))}",
    )
    scaffold.footer(started)
    scaffold.ratios(f"2 workers / 1 worker req/s: {fmt_ratio(statistics.median(ratios))}")
    if failures:
        raise scaffold.CheckFailed(f"{failures:,} requests were not answered 200")


if __name__ == "__main__":
    scaffold.run(main)
