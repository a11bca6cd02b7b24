"""Benchmark: case intake (``POST /api/v1/issues``) while large photos are uploaded.

A photo upload decodes and re-encodes the image.  Done while holding the
database's write lock, that stalls every report behind it; done many at a time,
it adds up in memory.  This benchmark measures what intake feels of it, against
intake on the same server with no uploads, in the same run:

* **quiet**: ``clients`` threads send reports one after another (``http.client``,
  one keep-alive connection each, as ``bench.intake`` does); nothing else runs;
* **uploads**: the same clients go on sending reports while ``uploads`` photos,
  each an 8000×5000 PNG (40 megapixels, mostly flat, so about 120 kB on the
  wire) are posted at once to cases reported just before, each on its own
  connection; reports sent until the last upload is answered are counted.

Each target is ``gridgov serve`` in a process of its own on 127.0.0.1 on the
Lingxiao sample: SQLite, then, in the full run, PostGIS on a fresh database
dropped afterwards (skipped with a notice when no server is reachable; a
failure instead under ``GRIDGOV_STRICT=1``).  The server's peak resident memory (``VmHWM``) is read
from ``/proc`` after each phase, reset between them where the kernel allows it.

Run with ``python -m bench.photos`` (``--quick`` for a smoke run).  Timings are
printed, never judged.  The run fails when a report is not answered 201, an
upload is answered anything but 201 or 503 (busy: retry later), the database
holds a different number of photos than were answered 201, or the photo folder
holds anything but each stored photo and its thumbnail.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, text

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds
from bench.intake import Outcome, make_bodies, send, server_env, with_keys

SEED = 20261130
PHOTO_SIZE = (8000, 5000)  # 40 megapixels: inside the limit, as large as a photo gets
UPLOAD_TIMEOUT_S = 300.0  # socket timeout of one upload
SQLITE, POSTGIS = "SQLite", "PostGIS"


@dataclass(frozen=True)
class Sizes:
    quiet: int  # reports measured with no uploads
    warmup: int
    clients: int  # report threads, in both phases
    uploads: int  # photos posted at once
    rounds: int  # upload phases, one after another, measured together
    postgis: bool  # PostGIS as a second target (the full run only: a quick run stays short)


FULL = Sizes(quiet=400, warmup=40, clients=4, uploads=6, rounds=3, postgis=True)
QUICK = Sizes(quiet=60, warmup=10, clients=4, uploads=6, rounds=1, postgis=False)


@dataclass(frozen=True)
class Upload:
    status: int  # 0 when no answer came
    latency_s: float
    detail: str = ""
    retry_after: str | None = None


@dataclass
class Phase:
    name: str
    reports: list[Outcome]
    uploads: list[Upload] = field(default_factory=list)
    peak_rss_kb: int | None = None
    elapsed_s: float = 0.0

    def p(self, q: float) -> float:
        ok = [o.latency_s for o in self.reports if o.status == 201]
        return float(np.percentile(ok, q)) * 1e3 if ok else float("nan")


@dataclass
class Result:
    target: str
    phases: list[Phase]
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)


# --------------------------------------------------------------------------- the photo


def large_png(size: tuple[int, int]) -> bytes:
    """A PNG of ``size`` pixels, flat but for two shapes: tiny to send, huge to decode."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (196, 198, 190))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 8, h // 5, w // 3, h // 2), fill=(40, 90, 160))
    draw.ellipse((w * 5 // 8, h * 2 // 5, w * 7 // 8, h * 9 // 10), fill=(180, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(data: bytes, name: str, content_type: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with ``data`` as its ``file`` field, and its type."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


# --------------------------------------------------------------------------- clients


def report_case(port: int, body: bytes) -> tuple[int, str]:
    """Report one case; its id and photo token."""
    conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=60)
    try:
        request = with_keys([body])[0]
        conn.request("POST", "/api/v1/issues", body=request.body, headers=request.headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    if response.status != 201:
        raise RuntimeError(f"reporting a case for the uploads answered {response.status}: {answer}")
    return int(answer["id"]), str(answer["photo_token"])


def upload(port: int, case_id: int, token: str, body: bytes, kind: str) -> Upload:
    """Post one photo to case ``case_id`` on a connection of its own."""
    conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=UPLOAD_TIMEOUT_S)
    start = time.perf_counter()
    try:
        conn.request(
            "POST",
            f"/api/v1/issues/{case_id}/photos",
            body=body,
            headers={"Content-Type": kind, "X-Photo-Token": token},
        )
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return Upload(0, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    latency = time.perf_counter() - start
    detail = "" if response.status == 201 else payload[:200].decode("utf-8", "replace")
    return Upload(response.status, latency, detail, response.getheader("Retry-After"))


class Reporters:
    """``clients`` threads sending reports, each on its own keep-alive connection."""

    def __init__(self, port: int, clients: int, bodies: Sequence[bytes]) -> None:
        self.connections = [
            http.client.HTTPConnection(scaffold.HOST, port, timeout=120) for _ in range(clients)
        ]
        self.bodies = bodies
        self._next = 0
        self._lock = threading.Lock()

    def _take(self) -> bytes:
        with self._lock:
            body = self.bodies[self._next % len(self.bodies)]
            self._next += 1
            return body

    def run(self, count: int | None = None, until: threading.Event | None = None) -> list[Outcome]:
        """Send ``count`` reports in all, or send until ``until`` is set."""
        left = [count if count is not None else -1]
        lock = threading.Lock()
        per_thread: list[list[Outcome]] = [[] for _ in self.connections]

        def more() -> bool:
            if until is not None:
                return not until.is_set()
            with lock:
                left[0] -= 1
                return left[0] >= 0

        def work(conn: http.client.HTTPConnection, out: list[Outcome]) -> None:
            while more():
                out.append(send(conn, with_keys([self._take()])[0]))

        threads = [
            threading.Thread(target=work, args=(c, out), daemon=True)
            for c, out in zip(self.connections, per_thread, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [o for out in per_thread for o in out]

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


# --------------------------------------------------------------------------- server memory


def status_kb(pid: int, key: str) -> int | None:
    """A memory figure of the process from ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``),
    in kB; None when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_kb(pid: int) -> int | None:
    """The process's peak resident memory so far (``VmHWM``, kB), None when unknown."""
    return status_kb(pid, "VmHWM")


def reset_peak_rss(pid: int) -> bool:
    """Start the process's peak resident memory afresh (``clear_refs`` 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def fmt_mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:,.0f} MB"


# --------------------------------------------------------------------------- bench


def stored(database_url: str) -> int:
    """``SELECT count(*) FROM issue_photos``."""
    from store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM issue_photos")).scalar_one())
    finally:
        engine.dispose()


def upload_round(
    port: int, cases: Sequence[tuple[int, str]], photo: bytes, reporters: Reporters
) -> tuple[list[Outcome], list[Upload]]:
    """Post the photo to each of ``cases`` at once, reports going on until all are answered."""
    body, kind = multipart(photo, "photo.png", "image/png")
    answers: list[Upload] = []
    done = threading.Event()

    def post(case_id: int, token: str) -> None:
        answers.append(upload(port, case_id, token, body, kind))

    def post_all() -> None:
        threads = [threading.Thread(target=post, args=case, daemon=True) for case in cases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()

    poster = threading.Thread(target=post_all, daemon=True)
    poster.start()
    reports = reporters.run(until=done)
    poster.join()
    return reports, answers


def run_target(name: str, database_url: str, work: Path, photo: bytes, sizes: Sizes) -> Result:
    """``gridgov load data`` into ``database_url``, ``gridgov serve`` it, then both phases."""
    scaffold.load_sample(database_url)
    if name == POSTGIS:
        print(f"- {scaffold.postgres_versions(database_url)}")
    port = scaffold.free_port()
    argv = [sys.executable, "-m", "api.cli", "serve", "--host", scaffold.HOST, "--port", str(port)]
    var = work / f"var-{name.lower()}"
    env = server_env(database_url, var)
    log = work / f"photos-{name.lower()}-server.log"
    bodies = make_bodies(500, SEED)
    phases: list[Phase] = []
    with scaffold.ServerProcess(argv, env, log, port) as server:
        reporters = Reporters(port, sizes.clients, bodies)
        try:
            reporters.run(sizes.warmup)
            reset_peak_rss(server.pid)
            started = time.perf_counter()
            quiet = Phase("quiet", reporters.run(sizes.quiet))
            quiet.elapsed_s = time.perf_counter() - started
            quiet.peak_rss_kb = peak_rss_kb(server.pid)
            phases.append(quiet)
            busy = Phase("uploads", [])
            reset_ok = reset_peak_rss(server.pid)
            started = time.perf_counter()
            for _ in range(sizes.rounds):
                cases = [report_case(port, bodies[i]) for i in range(sizes.uploads)]
                reports, answers = upload_round(port, cases, photo, reporters)
                busy.reports += reports
                busy.uploads += answers
            busy.elapsed_s = time.perf_counter() - started
            busy.peak_rss_kb = peak_rss_kb(server.pid)
            phases.append(busy)
        finally:
            reporters.close()
    result = Result(name, phases)
    if not reset_ok:
        result.checks.append("peak memory could not be reset: both peaks count from the start")
    check(result, database_url, var / "photos")
    return result


def check(result: Result, database_url: str, folder: Path) -> None:
    """Every report 201; uploads 201 or 503; the database and the photo folder agree."""
    reports = [o for p in result.phases for o in p.reports]
    failed = [o for o in reports if o.status != 201]
    if failed:
        status, detail = Counter((o.status, o.detail) for o in failed).most_common(1)[0][0]
        result.problems.append(
            f"{result.target}: {len(failed):,} of {len(reports):,} reports not answered 201 "
            f"(most often {status or 'no answer'}: {detail})"
        )
    uploads = result.phase("uploads").uploads
    statuses = Counter(u.status for u in uploads)
    result.checks.append(
        "uploads answered: "
        + ", ".join(f"{n} x {s or 'none'}" for s, n in sorted(statuses.items()))
    )
    odd = [u for u in uploads if u.status not in (201, 503)]
    if odd:
        result.problems.append(
            f"{result.target}: {len(odd)} uploads answered neither 201 nor 503 "
            f"(first: {odd[0].status or 'no answer'}: {odd[0].detail})"
        )
    busy = [u for u in uploads if u.status == 503]
    if any(not (u.retry_after or "").isdigit() for u in busy):
        result.problems.append(f"{result.target}: a 503 upload answer without Retry-After")
    rows = stored(database_url)
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    accepted = statuses.get(201, 0)
    verdict = "OK" if rows == accepted and len(files) == 2 * rows else "MISMATCH"
    result.checks.append(
        f"storage check {verdict}: {rows} photo rows for {accepted} uploads answered 201, "
        f"{len(files)} files in the photo folder (a photo and its thumbnail each)"
    )
    if verdict != "OK":
        result.problems.append(
            f"{result.target}: {rows} photo rows and {len(files)} files for {accepted} "
            "uploads answered 201"
        )


# --------------------------------------------------------------------------- report


def results_table(results: Sequence[Result]) -> str:
    rows = [(r, p) for r in results for p in r.phases]

    def uploads(p: Phase) -> str:
        if not p.uploads:
            return "-"
        counts = Counter(u.status for u in p.uploads)
        return ", ".join(f"{n} x {s or 'none'}" for s, n in sorted(counts.items()))

    def slowest(p: Phase) -> str:
        return fmt_seconds(max(u.latency_s for u in p.uploads)) if p.uploads else "-"

    return column_table(
        rows,
        {
            "target": lambda rp: rp[0].target,
            "phase": lambda rp: rp[1].name,
            "reports": lambda rp: f"{len(rp[1].reports):,}",
            "report p50 ms": lambda rp: f"{rp[1].p(50):,.1f}",
            "report p99 ms": lambda rp: f"{rp[1].p(99):,.1f}",
            "uploads": lambda rp: uploads(rp[1]),
            "slowest upload": lambda rp: slowest(rp[1]),
            "phase time": lambda rp: fmt_seconds(rp[1].elapsed_s),
            "server peak RSS": lambda rp: fmt_mb(rp[1].peak_rss_kb),
        },
    )


def headline(results: Sequence[Result]) -> str:
    parts = []
    for r in results:
        quiet, busy = r.phase("quiet"), r.phase("uploads")
        parts.append(f"{r.target} {fmt_ratio(busy.p(50) / quiet.p(50))}")
    return "report p50 with uploads / without: " + ", ".join(parts)


def versions() -> str:
    return scaffold.environment(
        ("fastapi", "uvicorn", "SQLAlchemy", "psycopg", "pillow"),
        f"SQLite {sqlite3.sqlite_version}",
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "photos",
        "Case intake with and without large photo uploads, on SQLite and PostGIS.",
        f"{QUICK.quiet} quiet reports, {QUICK.rounds} round of {QUICK.uploads} uploads, "
        "SQLite only",
    )
    parser.add_argument(
        "--uploads",
        type=scaffold.positive_int,
        metavar="N",
        help=f"photos posted at once (default {FULL.uploads})",
    )
    parser.add_argument(
        "--rounds",
        type=scaffold.positive_int,
        metavar="R",
        help=f"upload rounds, one after another (default {FULL.rounds})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, uploads=args.uploads, rounds=args.rounds)
    photo = large_png(PHOTO_SIZE)
    scaffold.banner(
        "Photo uploads against case intake (POST /api/v1/issues over loopback HTTP)",
        versions(),
        f"mode {scaffold.mode(args.quick)}; per target: {sizes.warmup} warm-up reports, then "
        f"{sizes.quiet} reports with no uploads (quiet), then {sizes.rounds} round(s) of "
        f"{sizes.uploads} photo uploads at once with reports sent until they are answered; "
        f"{sizes.clients} report threads (http.client, keep-alive)",
        f"photo: {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} PNG, {len(photo) / 1000:,.0f} kB, each "
        "upload on a connection of its own",
        "servers: gridgov serve, one uvicorn process per target on 127.0.0.1, default "
        "photo settings, no per-client report limit",
    )
    admin: Engine | None = None
    if not sizes.postgis:
        print("NOTICE: PostGIS is measured in the full run only (python -m bench.photos)")
    else:
        try:
            admin = scaffold.postgis_admin()
        except scaffold.Unavailable as missing:
            scaffold.skip_part(POSTGIS, missing)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-photos-") as tmp:
            work = Path(tmp)
            results.append(run_target(SQLITE, scaffold.sqlite_url(work), work, photo, sizes))
            if admin is not None:
                with scaffold.temporary_postgis(admin) as pg_url:
                    results.append(run_target(POSTGIS, pg_url, work, photo, sizes))
    finally:
        if admin is not None:
            admin.dispose()
    for r in results:
        for line in r.checks:
            print(f"  {r.target}: {line}")
    scaffold.section(
        "Report latency without and with photo uploads (201 answers; peak RSS of the "
        "server process during the phase)",
        results_table(results),
    )
    scaffold.footer(started)
    scaffold.ratios(headline(results))
    problems = [p for r in results for p in r.problems]
    if problems:
        raise scaffold.CheckFailed("; ".join(problems))


if __name__ == "__main__":
    scaffold.run(main)
