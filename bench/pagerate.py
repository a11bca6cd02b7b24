"""Benchmark: how many requests a second the managers' map page ``/`` serves to 10 clients,
kept once rendered (``service.page_cache``) against rendered on every request.

gridgov's map page holds the layers and words only: cases and their counts come from
the API, so the page is rendered once per version of the layers (language, area and
basemap settings) and kept; each answer only gets its own CSP nonce.  The baseline,
in the same run, is the same server with the cache switched off
(``GRIDGOV_PAGE_CACHE=0``): every request reads the layers and renders Folium, as
``/`` did before.

The database is the sample (``gridgov load data``) with cases bulk-inserted as
``bench.mappage`` makes them.  Each target is ``gridgov serve`` (one process), asked
for ``/?lang=zh`` by 10 client threads with keep-alive connections, each taking
the next request when its answer is in, as a browser asks (``Accept-Encoding:
gzip``), for a fixed time after two warm-up requests.  Printed: answers, requests
per second, latency p50/p95 and the server's CPU seconds per answer; the ratio of
the two rates.  The run fails when an answer is not 200, when two answers share a
nonce, or when the kept page differs from the rendered one (nonces and Folium's
random element names aside).

Run with ``python -m bench.pagerate`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio
from bench.intake import proc_cpu_seconds, server_env
from bench.mappage import build_database

CLIENTS = 10
PATH = "/?lang=zh"
HEADERS = {"Accept-Encoding": "gzip", "Accept": "text/html"}
NONCE = re.compile(rb' nonce="([^"]+)"')
FOLIUM_ID = re.compile(rb"_[0-9a-f]{32}(?![0-9a-f])")  # a rendering's element names: map_<uuid> ...
REQUEST_TIMEOUT_S = 60.0
KEPT, RENDERED = "kept (page cache)", "rendered every request"


@dataclass(frozen=True)
class Sizes:
    cases: int
    seconds: float  # how long the clients ask, per target


FULL = Sizes(cases=20_000, seconds=20.0)
QUICK = Sizes(cases=2_000, seconds=5.0)


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    nonces: set[bytes] = field(default_factory=set)
    bodies: set[bytes] = field(default_factory=set)  # the pages less nonces and element ids
    seconds: float = 0.0
    cpu_s: float = float("nan")
    wire_bytes: int = 0

    @property
    def answers(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[int(q * 100) - 1]


def ask(conn: http.client.HTTPConnection, result: Result, lock: threading.Lock) -> None:
    """One request for the page; its latency, nonce and body go into ``result``."""
    start = time.perf_counter()
    try:
        conn.request("GET", PATH, headers=HEADERS)
        answer = conn.getresponse()
        payload = answer.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        with lock:
            result.failures.append(f"{type(exc).__name__}: {exc}")
        return
    latency = time.perf_counter() - start
    if answer.status != 200:
        with lock:
            result.failures.append(f"{answer.status}: {payload[:200]!r}")
        return
    page = gzip.decompress(payload) if answer.getheader("Content-Encoding") == "gzip" else payload
    nonces = set(NONCE.findall(page))
    with lock:
        result.latencies.append(latency)
        result.wire_bytes += len(payload)
        if len(nonces) != 1 or nonces & result.nonces:
            result.failures.append(f"nonces {sorted(nonces)!r}: one per answer, never reused")
        result.nonces |= nonces
        result.bodies.add(FOLIUM_ID.sub(b"_", NONCE.sub(b' nonce=""', page)))


def hammer(port: int, result: Result, seconds: float) -> None:
    """``CLIENTS`` threads asking for the page back to back for ``seconds``."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work() -> None:
        conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            while time.perf_counter() < deadline:
                ask(conn, result, lock)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started


def measure(name: str, database_url: str, work: Path, cache: int, seconds: float) -> Result:
    """``gridgov serve`` with ``GRIDGOV_PAGE_CACHE=cache``, asked for the page."""
    port = scaffold.free_port()
    argv = [sys.executable, "-m", "api.cli", "serve", "--host", scaffold.HOST, "--port", str(port)]
    env = {**server_env(database_url, work / f"var-{cache}"), "GRIDGOV_PAGE_CACHE": str(cache)}
    result = Result(name)
    with scaffold.ServerProcess(argv, env, work / f"server-{cache}.log", port) as server:
        scaffold.warm_up(f"http://{scaffold.HOST}:{port}", PATH, PATH)
        cpu = proc_cpu_seconds(server.pid)
        hammer(port, result, seconds)
        result.cpu_s = proc_cpu_seconds(server.pid) - cpu
    return result


def check(results: Sequence[Result]) -> None:
    for result in results:
        if result.failures:
            raise scaffold.CheckFailed(
                f"{result.name}: {len(result.failures)} bad answers, first {result.failures[0]}"
            )
        if not result.answers:
            raise scaffold.CheckFailed(f"{result.name}: no answer in {result.seconds:.1f} s")
    pages = {body for result in results for body in result.bodies}
    if len(pages) != 1:
        raise scaffold.CheckFailed(
            f"{len(pages)} different pages (nonces and Folium's element ids aside): "
            "the kept page must be the rendered one"
        )


def results_table(results: Sequence[Result]) -> str:
    return column_table(
        results,
        {
            "target": lambda r: r.name,
            "answers": lambda r: f"{r.answers:,}",
            "seconds": lambda r: f"{r.seconds:.1f}",
            "req/s": lambda r: f"{r.rate:,.1f}",
            "p50": lambda r: f"{r.quantile(0.5) * 1000:,.1f} ms",
            "p95": lambda r: f"{r.quantile(0.95) * 1000:,.1f} ms",
            "server CPU / answer": lambda r: f"{r.cpu_s / max(r.answers, 1) * 1000:,.1f} ms",
            "bytes / answer (gzip)": lambda r: f"{r.wire_bytes // max(r.answers, 1):,}",
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = scaffold.arguments(
        "pagerate",
        "Requests per second of the map page '/', kept against rendered every request.",
        f"{QUICK.cases:,} cases, {QUICK.seconds:.0f} s per target",
    )
    parser.add_argument("--cases", type=scaffold.positive_int, help="cases in the database")
    parser.add_argument("--seconds", type=float, help="how long the clients ask, per target")
    args = parser.parse_args(argv)
    sizes = scaffold.sizes(args.quick, FULL, QUICK, cases=args.cases, seconds=args.seconds)
    started = time.perf_counter()
    scaffold.banner(
        "bench.pagerate: the map page '/' to 10 clients, kept against rendered",
        scaffold.environment(("folium", "fastapi", "uvicorn", "SQLAlchemy")),
        f"mode {scaffold.mode(args.quick)}: {sizes.cases:,} cases, {CLIENTS} clients, "
        f"{sizes.seconds:.0f} s per target, GET {PATH} with Accept-Encoding: gzip",
    )
    with tempfile.TemporaryDirectory(prefix="gridgov-pagerate-") as tmp:
        work = Path(tmp)
        database_url = scaffold.sqlite_url(work)
        build_database(database_url, sizes.cases)
        loads = [os.getloadavg()[0]]
        rendered = measure(RENDERED, database_url, work, 0, sizes.seconds)
        loads.append(os.getloadavg()[0])
        kept = measure(KEPT, database_url, work, 64, sizes.seconds)
        loads.append(os.getloadavg()[0])
    results = [rendered, kept]
    scaffold.section("SQLite, the sample", results_table(results))
    print(
        f"\nload average (1 min) before, between and after: {', '.join(f'{x:.2f}' for x in loads)}"
    )
    check(results)
    ratio = kept.rate / rendered.rate if rendered.rate else float("inf")
    scaffold.ratios(
        f"/ req/s kept vs rendered {fmt_ratio(ratio)} ({kept.rate:,.0f} vs {rendered.rate:,.1f})"
    )
    scaffold.footer(started)


if __name__ == "__main__":
    scaffold.run(main)
