"""Running supervised: two worker processes on PostGIS answering and a killed one replaced,
several workers refused on SQLite or without Redis, a locked SQLite write answered 503,
one secret across processes, and the systemd unit."""

from __future__ import annotations

import configparser
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.settings import Settings
from store.db import DatabaseBusy, atomic, make_engine, session_factory
from tests.helpers import GOOD_REPORT, ROOT, free_port, wait_until

UNIT = ROOT / "deploy" / "gridgov.service"


def _workers(pid: int) -> set[int]:
    """The live worker processes uvicorn's supervisor ``pid`` runs (Linux /proc)."""
    from bench.workers import worker_processes

    return set(worker_processes(pid))


def _tcp_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == server_port and int(remote, 16) == client_port:
            return int(fields[9])
    return None


def _holder(inode: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open."""
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if f"socket:[{inode}]" in links:
            return pid
    return None


def _answering_workers(port: int, workers: set[int], tries: int = 16) -> set[int]:
    """The workers that answered ``GET /healthz`` on connections held open side by side,
    opened until two different workers answered or ``tries`` connections were made; read
    from /proc, which process holds each connection's server end (no header of ours)."""
    held: list[http.client.HTTPConnection] = []
    answered: set[int] = set()
    try:
        while len(held) < tries and len(answered) < 2:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            held.append(conn)
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["status"] == "ok"
            assert conn.sock is not None  # kept alive
            inode = _tcp_inode(port, conn.sock.getsockname()[1])
            pid = _holder(inode, workers) if inode else None
            assert pid is not None, "no worker holds the connection"
            answered.add(pid)
    finally:
        for conn in held:
            conn.close()
    return answered


@pytest.mark.parametrize("loaded_url", ["postgis"], indirect=True)
def test_serve_with_two_workers_on_postgis_answers_from_both_and_replaces_a_killed_one(
    loaded_url: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    port = free_port()
    # the supervisor runs on the real clock: under Debian's faketime (a suite run on
    # another date) its timed waits would never end, and no worker would be replaced
    real_clock = {
        k: v for k, v in os.environ.items() if not k.startswith(("FAKETIME", "LD_PRELOAD"))
    }
    env = {
        **real_clock,
        "GRIDGOV_DATABASE_URL": loaded_url,
        "GRIDGOV_VAR_DIR": str(tmp_path / "var"),
        "GRIDGOV_REDIS_URL": redis_url,
        "GRIDGOV_RATE_LIMIT_PREFIX": redis_prefix,
        "GRIDGOV_DB_POOL_SIZE": "2",
    }
    argv = [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                return bool(json.load(answer)["status"] == "ok")
        except OSError:
            return False

    def two_workers() -> set[int] | None:
        workers = _workers(proc.pid)
        return workers if len(workers) == 2 else None

    try:
        wait_until(healthy, 300, "the workers to answer /healthz")
        workers = wait_until(two_workers, 300, "two worker processes")
        # a worker still importing takes no connection yet: ask until both have answered
        wait_until(lambda: _answering_workers(port, workers) == workers, 300, "answers from both")
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_until(
            lambda: (w := two_workers()) and victim not in w and w, 300, "a replacement worker"
        )
        assert len(replaced) == 2 and victim not in replaced
        wait_until(healthy, 300, "the service to answer after the kill")
        key = (tmp_path / "var" / "secret.key").stat()
        assert key.st_mode & 0o777 == 0o600
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "2 workers" in out


def _read_secret(var_dir: str, start: Any, out: Any) -> None:
    start.wait()
    out.put(Settings(var_dir=Path(var_dir)).secret.decode())


def test_processes_starting_together_share_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    var = tmp_path / "var"
    procs = [context.Process(target=_read_secret, args=(str(var), start, out)) for _ in range(6)]
    for p in procs:
        p.start()
    start.set()
    secrets = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(timeout=60)
    assert len(secrets) == 1 and len(secrets.pop()) >= 40
    assert sorted(p.name for p in var.iterdir()) == ["secret.key"]  # no draft left behind
    assert (var / "secret.key").stat().st_mode & 0o777 == 0o600


@pytest.fixture()
def locked_sqlite(loaded_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Another process's open write transaction on the SQLite file, and a short busy wait."""
    if not loaded_url.startswith("sqlite"):
        pytest.skip("SQLite's file lock only")
    import store.db

    monkeypatch.setattr(store.db, "SQLITE_BUSY_MS", 50)
    engine = make_engine(loaded_url)  # the first connection switches the file to WAL
    engine.connect().close()
    engine.dispose()
    other = sqlite3.connect(loaded_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield loaded_url
    other.execute("ROLLBACK")
    other.close()


def test_a_write_that_finds_the_database_locked_is_rolled_back(locked_sqlite: str) -> None:
    engine = make_engine(locked_sqlite)
    sessions = session_factory(engine)
    with (
        sessions() as session,
        pytest.raises(DatabaseBusy, match="nothing was written"),
        atomic(session),
    ):
        session.execute(text("UPDATE categories SET name_en = 'x'"))
    engine.dispose()


def test_the_api_answers_503_with_retry_after_when_the_database_is_locked(
    locked_sqlite: str, settings: Settings
) -> None:
    from api.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        before = client.get("/api/v1/issues?limit=1").json()["total"]
        answer = client.post("/api/v1/issues", json=GOOD_REPORT)
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["error"]["code"] == "database_busy"
        assert client.get("/api/v1/issues?limit=1").json()["total"] == before
    app.state.engine.dispose()


def test_the_systemd_unit_restarts_on_failure_and_runs_workers() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert " serve " in service["ExecStart"] and "--workers" in service["ExecStart"]
    assert service["UMask"] == "0077" and service["NoNewPrivileges"] == "yes"
    assert "PYTHONFAULTHANDLER=1" in service["Environment"]
    for name in (service["EnvironmentFile"],):
        assert (ROOT / "deploy" / Path(name).name).exists()


def test_the_systemd_units_workers_are_allowed_by_its_settings(tmp_path: Path) -> None:
    from service.serving import check_workers

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    argv = unit["Service"]["ExecStart"].split()
    workers = int(argv[argv.index("--workers") + 1])
    lines = (ROOT / "deploy" / "gridgov.env").read_text(encoding="utf-8").splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    settings = Settings(
        database_url=env["GRIDGOV_DATABASE_URL"],
        redis_url=env["GRIDGOV_REDIS_URL"],
        var_dir=tmp_path / "var",
    )
    assert workers > 1
    check_workers(settings, workers)  # PostGIS and a shared rate limit: not refused


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    gridgov = Path(sys.executable).with_name("gridgov")
    unit = UNIT.read_text(encoding="utf-8")
    unit = unit.replace("/opt/gridgov/.venv/bin/gridgov", str(gridgov))
    unit = unit.replace("/etc/gridgov.env", str(ROOT / "deploy" / "gridgov.env"))
    (tmp_path / "gridgov.service").write_text(unit, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(tmp_path / "gridgov.service")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_shared_spatial_objects_answer_alike_from_many_threads(loaded_url: str) -> None:
    """The objects every request thread shares (the community snapshot's grid index,
    pyproj's cached transformers, the walking network) give each thread the answers one
    thread gets alone: the check behind "no fix needed" for the probe's one crash."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from sqlalchemy.orm import Session

    from gis.crs import to_metric
    from service.community import SnapshotCache

    if not loaded_url.startswith("sqlite"):
        pytest.skip("the shared objects are the same on both backends")
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        snapshot = SnapshotCache().require(session)
    engine.dispose()
    rng = np.random.default_rng(20261130)
    west, south, east, north = snapshot.outline.bounds
    lons = rng.uniform(west, east, 400)
    lats = rng.uniform(south, north, 400)

    def work(_: int) -> list[Any]:
        out: list[Any] = []
        for lon, lat in zip(lons, lats, strict=True):
            out.append(snapshot.locate(float(lon), float(lat)))
            x, y = to_metric(float(lon), float(lat), metric_crs=snapshot.metric_crs)
            out.append((round(float(x), 3), round(float(y), 3)))
            if snapshot.network is not None:
                out.append(int(snapshot.network.snap(np.atleast_1d(x), np.atleast_1d(y)).edge[0]))
        return out

    alone = work(0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(work, range(16)))
    assert all(answer == alone for answer in together)
    assert sum(1 for a in alone[::3] if a[0] is not None) > 200  # most lie in a grid


def test_serve_refuses_several_workers_on_sqlite_naming_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("uvicorn was started"))
    url = f"sqlite:///{tmp_path / 'gridgov.sqlite3'}"
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", url)
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GRIDGOV_REDIS_URL", "redis://127.0.0.1:6379/15")  # not the reason
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "--workers 2 refused on SQLite" in result.output and url in result.output
    assert "PostGIS" in result.output
    assert not (tmp_path / "gridgov.sqlite3").exists()  # refused before touching anything


def test_serve_refuses_several_workers_without_a_shared_rate_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("uvicorn was started"))
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", "postgresql://gridgov@127.0.0.1:5432/gridgov")
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GRIDGOV_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--workers", "3"])
    assert result.exit_code == 2, result.output
    assert "refused without GRIDGOV_REDIS_URL" in result.output
    assert "up to 3 times the report limit" in result.output


def test_serve_passes_several_workers_an_app_factory_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", "postgresql://gridgov@127.0.0.1:5432/gridgov")
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GRIDGOV_REDIS_URL", "redis://127.0.0.1:6379/15")
    result = CliRunner().invoke(cli, ["serve", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert served["app"] == "api.app:create_app" and served["factory"] is True
    assert served["workers"] == 3 and "3 workers" in result.output
    assert (tmp_path / "var" / "secret.key").exists()  # made once, before the workers


def test_serve_help_documents_workers() -> None:
    from typer.testing import CliRunner

    from api.cli import app as cli

    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--workers" in text and "GRIDGOV_REDIS_URL" in text and "SQLite" in text


def test_a_database_password_is_never_shown() -> None:
    from service.serving import shown_url

    shown = shown_url("postgresql+psycopg://gridgov:s3cret@db.example:5432/gridgov")
    assert "s3cret" not in shown and shown.startswith("postgresql+psycopg://gridgov:***@db")
    assert shown_url("sqlite:///var/gridgov.db") == "sqlite:///var/gridgov.db"
