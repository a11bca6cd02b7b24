"""Benchmark: report intake while the service is killed with ``kill -9`` and restarted.

A phone that sends a report and gets no answer sends it again under the same
``Idempotency-Key`` until it gets one.  This benchmark checks that, whatever
moment the service dies at, such retries never lose an acknowledged report and
never store one twice, on both backends:

* ``gridgov serve`` serves a fresh database with the sample: one worker on
  SQLite (several are refused there), ``--workers N`` on PostGIS, sharing the
  rate limit in Redis;
* client threads send reports, each with its own key and a marker in its
  description, and resend the same request (same key, same body) after a
  refused connection, a dropped answer, a timeout or a 5xx, until it is
  acknowledged with a 201;
* the **baseline** phase runs with no kill; the **kill** phase sends the whole
  service (supervisor and workers) ``SIGKILL`` at random moments and starts it
  again at once, as systemd's ``Restart=on-failure`` would;
* afterwards the database is read back: every acknowledged report must be there
  exactly once, under the id its answer named (``lost`` and ``duplicated`` must
  be 0), and no marker may appear on two rows.

The server runs with ``PYTHONFAULTHANDLER=1``; the run fails if any server
process wrote a fatal-error traceback (the probe once saw heap corruption under
load).  Throughput is printed, never judged; the ratio is the kill phase's
acknowledged reports per second over the baseline's.

Run with ``python -m bench.durability`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio
from bench.intake import make_bodies

SEED = 20261130
SQLITE, POSTGIS = "SQLite", "PostGIS"
REQUEST_TIMEOUT_S = 30.0
READ_BACK = """
    SELECT id, idempotency_key, description FROM issues WHERE idempotency_key LIKE :p
"""
FATAL = ("Fatal Python error", "Segmentation fault", "double free", "corrupted")


@dataclass(frozen=True)
class Sizes:
    clients: int  # client threads
    seconds: float  # length of each phase
    kills: int  # kill -9 of the whole service during the kill phase
    workers: int  # gridgov serve --workers


FULL = Sizes(clients=8, seconds=60.0, kills=6, workers=2)
QUICK = Sizes(clients=4, seconds=12.0, kills=2, workers=2)


@dataclass
class Phase:
    """What one phase sent, and what was acknowledged."""

    name: str
    seconds: float = 0.0
    sent: int = 0  # distinct reports (keys)
    attempts: int = 0  # requests, retries included
    acked: dict[str, int] = field(default_factory=dict)  # key -> id in the 201's Location
    replayed: int = 0  # acknowledged by a replay: stored before a kill cut the answer off
    unacked: list[str] = field(default_factory=list)  # keys still unanswered at the end
    kills: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong_id: int = 0

    @property
    def rate(self) -> float:
        return len(self.acked) / self.seconds if self.seconds else float("nan")


# --------------------------------------------------------------------------- the service


class Service:
    """``gridgov serve --workers N`` as its own process group, killed and restarted at will."""

    def __init__(self, database_url: str, work: Path, workers: int, extra: dict[str, str]) -> None:
        self.port = scaffold.free_port()
        self.log = work / "server.log"
        self.workers = workers
        self.env = {
            **os.environ,
            **extra,
            "GRIDGOV_DATABASE_URL": database_url,
            "GRIDGOV_VAR_DIR": str(work / "var"),
            "GRIDGOV_REPORT_RATE": "1000000",  # the clients share one address
            "PYTHONFAULTHANDLER": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=scaffold.ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill -9 takes every worker
            )
        self.starts += 1
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridgov serve exited:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection(scaffold.HOST, self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gridgov serve did not answer /healthz:\n{self.tail()}")

    def kill(self) -> None:
        """``kill -9`` the supervisor and all its workers at once."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def tail(self, lines: int = 30) -> str:
        written = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(written.splitlines()[-lines:])

    def fatal_lines(self) -> list[str]:
        written = self.log.read_text(encoding="utf-8", errors="replace")
        return [line for line in written.splitlines() if any(f in line for f in FATAL)]


# --------------------------------------------------------------------------- clients


def _send_until_acked(
    port: int, body: bytes, key: str, stop_at: float
) -> tuple[int, int, bool] | None:
    """Send one report, resending it unchanged until a 201; (id, attempts, replayed)."""
    attempts = 0
    while time.monotonic() < stop_at:
        attempts += 1
        conn = http.client.HTTPConnection(scaffold.HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            headers = {"Content-Type": "application/json", "Idempotency-Key": key}
            conn.request("POST", "/api/v1/issues", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            if answer.status == 201:
                replayed = answer.headers.get("Idempotent-Replayed") == "true"
                return int(answer.headers["Location"].rsplit("/", 1)[1]), attempts, replayed
            if answer.status < 500 and answer.status != 429:
                raise scaffold.CheckFailed(f"report {key} answered {answer.status}")
        except (OSError, http.client.HTTPException):
            pass  # refused, reset or cut off mid-answer: the phone tries again
        finally:
            conn.close()
        time.sleep(0.05 + random.random() * 0.1)
    return None


def run_phase(
    name: str, service: Service, bodies: Sequence[bytes], sizes: Sizes, kills: int
) -> Phase:
    """Clients send reports for ``sizes.seconds``; ``kills`` times the service is killed."""
    phase = Phase(name)
    lock = threading.Lock()
    stop_sending = time.monotonic() + sizes.seconds
    give_up = stop_sending + 300  # time for reports in flight to get their answer
    counter = iter(range(10**9))

    def client() -> None:
        while time.monotonic() < stop_sending:
            with lock:
                n = next(counter)
                phase.sent += 1
            key = f"durability-{name}-{n}-{uuid.uuid4().hex[:8]}"
            marked = json.loads(bodies[n % len(bodies)])
            marked["description"] = f"{marked['description']} [{key}]"
            body = json.dumps(marked, ensure_ascii=False).encode()
            got = _send_until_acked(service.port, body, key, give_up)
            with lock:
                if got is None:
                    phase.unacked.append(key)
                else:
                    phase.acked[key] = got[0]
                    phase.attempts += got[1]
                    phase.replayed += got[2]

    rng = random.Random(SEED + kills)
    moments = sorted(rng.uniform(0.1, 0.9) * sizes.seconds for _ in range(kills))
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(sizes.clients)]
    for t in threads:
        t.start()
    for moment in moments:
        time.sleep(max(0.0, started + moment - time.monotonic()))
        service.kill()
        phase.kills += 1
        service.start()
    for t in threads:
        t.join()
    phase.seconds = time.monotonic() - started
    return phase


# --------------------------------------------------------------------------- checks


def verify(phase: Phase, database_url: str) -> None:
    """Read the reports back: each acknowledged one stored once, under its id."""
    from store.db import make_engine

    engine: Engine = make_engine(database_url)
    prefix = f"durability-{phase.name}-%"
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(READ_BACK),
                {"p": prefix},
            ).all()
    finally:
        engine.dispose()
    stored: dict[str, list[int]] = {}
    for row_id, key, description in rows:
        stored.setdefault(key, []).append(int(row_id))
        if f"[{key}]" not in description:
            phase.wrong_id += 1
    markers: dict[str, int] = {}
    for _row_id, _key, description in rows:
        marker = description.rsplit("[", 1)[-1].rstrip("]")
        markers[marker] = markers.get(marker, 0) + 1
    phase.duplicated = sum(n - 1 for n in markers.values() if n > 1) + sum(
        len(ids) - 1 for ids in stored.values() if len(ids) > 1
    )
    phase.lost = sum(1 for key in phase.acked if key not in stored)
    phase.wrong_id += sum(
        1 for key, got in phase.acked.items() if key in stored and stored[key] != [got]
    )


# --------------------------------------------------------------------------- a run


def run_target(
    target: str,
    database_url: str,
    work: Path,
    bodies: Sequence[bytes],
    sizes: Sizes,
    redis: dict[str, str] | None,
) -> list[Phase]:
    """Both phases on one backend; ``redis`` given, with ``sizes.workers`` workers sharing
    it, else with one (SQLite: ``gridgov serve`` refuses several workers there)."""
    work.mkdir(parents=True, exist_ok=True)
    scaffold.load_sample(database_url)
    workers = sizes.workers if redis is not None else 1
    service = Service(database_url, work, workers, redis or {})
    service.start()
    try:
        phases = [
            run_phase("baseline", service, bodies, sizes, kills=0),
            run_phase("kill", service, bodies, sizes, kills=sizes.kills),
        ]
    finally:
        service.stop()
    for phase in phases:
        verify(phase, database_url)
        phase.name = f"{target}: {phase.name}"
    fatal = service.fatal_lines()
    if fatal:
        raise scaffold.CheckFailed(
            f"{target}: a server process died of a fatal error:\n" + "\n".join(fatal[:10])
        )
    return phases


def main(argv: Sequence[str] | None = None) -> None:
    parser = scaffold.arguments(
        "durability",
        "Report intake under kill -9: no acknowledged report lost or stored twice.",
        "a short run with two kills",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK)
    scaffold.banner(
        "Durability benchmark (POST /api/v1/issues while the service is killed with -9)",
        scaffold.environment(["uvicorn", "sqlalchemy"]),
        f"mode {scaffold.mode(args.quick)}; per backend: {sizes.clients} clients, "
        f"{sizes.seconds:.0f} s without kills (baseline), then {sizes.seconds:.0f} s with "
        f"{sizes.kills} kills of the whole service; gridgov serve on SQLite with one "
        f"worker (several are refused there), on PostGIS with --workers {sizes.workers} "
        "sharing the rate limit in Redis",
        "a client resends the same request (same Idempotency-Key and body) after a "
        "refused connection, a dropped answer, a timeout or a 5xx, until a 201",
    )
    admin: Engine | None = None
    redis: dict[str, str] = {}
    try:
        admin = scaffold.postgis_admin()
        redis = scaffold.workers_redis()
    except scaffold.Unavailable as missing:
        scaffold.skip_part(POSTGIS, missing)
        if admin is not None:
            admin.dispose()
            admin = None
    bodies = make_bodies(500, SEED)
    phases: list[Phase] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-durability-") as tmp:
            work = Path(tmp)
            sqlite = scaffold.sqlite_url(work)
            phases += run_target(SQLITE, sqlite, work / "sqlite", bodies, sizes, None)
            if admin is not None:
                with scaffold.temporary_postgis(admin) as pg_url:
                    phases += run_target(POSTGIS, pg_url, work / "postgis", bodies, sizes, redis)
    finally:
        if admin is not None:
            admin.dispose()
    scaffold.section(
        "Reports acknowledged (201) and read back from the database",
        column_table(
            phases,
            {
                "phase": lambda p: p.name,
                "kills": lambda p: str(p.kills),
                "reports sent": lambda p: f"{p.sent:,}",
                "acknowledged": lambda p: f"{len(p.acked):,}",
                "requests (with retries)": lambda p: f"{p.attempts:,}",
                "replayed": lambda p: f"{p.replayed:,}",
                "acked / s": lambda p: f"{p.rate:,.1f}",
                "lost": lambda p: str(p.lost),
                "duplicated": lambda p: str(p.duplicated),
                "wrong id": lambda p: str(p.wrong_id),
                "never answered": lambda p: str(len(p.unacked)),
            },
        ),
    )
    bad = [p for p in phases if p.lost or p.duplicated or p.wrong_id or p.unacked]
    scaffold.footer(started)
    pairs = [(phases[i], phases[i + 1]) for i in range(0, len(phases), 2)]
    scaffold.ratios(
        "acked/s with kills / without: "
        + ", ".join(
            f"{kill.name.split(':')[0]} {fmt_ratio(kill.rate / base.rate)}" for base, kill in pairs
        )
        + f"; lost {sum(p.lost for p in phases)}, duplicated {sum(p.duplicated for p in phases)}"
    )
    if bad:
        raise scaffold.CheckFailed(
            "reports lost, stored twice, under the wrong id, or never answered in: "
            + ", ".join(p.name for p in bad)
        )


if __name__ == "__main__":
    scaffold.run(main)
