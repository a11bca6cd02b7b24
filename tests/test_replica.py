"""The read replica (``GRIDGOV_DATABASE_READ_URL``) against a real one: a streaming
standby of the test server (``deploy/replica.sh``: cluster ``15 replica`` on port 5433).

Every database the tests create on the primary is replayed onto the replica under the
same name, so a test's replica URL is its primary URL on the replica's port.  To see
which database a route read, replay is paused (``pg_wal_replay_pause``): what is
written meanwhile is on the primary only.  Replay is always resumed in a ``finally``,
and catching up is waited for by comparing WAL positions, never by sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from service.settings import Settings
from store.db import ReadOnlyUnsupported, make_engine
from tests.helpers import GOOD_REPORT, auth, unavailable, wait_until

REPLICA_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_REPLICA_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"
)
CATCH_UP_S = 120.0  # a busy CI server replays a template database's copy in seconds


@pytest.fixture(scope="module")
def replica_admin() -> Iterator[Engine]:
    """An admin connection to the replica, once it is known to be a standby in recovery."""
    engine = create_engine(REPLICA_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            in_recovery = conn.scalar(text("SELECT pg_is_in_recovery()"))
    except Exception as exc:  # any connection failure means: no replica here
        engine.dispose()
        unavailable("PostgreSQL read replica", f"{REPLICA_ADMIN_URL}: {type(exc).__name__}")
    if not in_recovery:
        engine.dispose()
        unavailable("PostgreSQL read replica", f"{REPLICA_ADMIN_URL} is not in recovery")
    yield engine
    engine.dispose()


def on_replica(primary_url: str) -> str:
    """The same database as ``primary_url``, on the replica."""
    replica = make_url(REPLICA_ADMIN_URL)
    url = make_url(primary_url).set(host=replica.host, port=replica.port)
    return url.render_as_string(hide_password=False)


def catch_up(primary_url: str, replica_admin: Engine) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    primary = create_engine(primary_url)
    with primary.connect() as conn:
        lsn = conn.scalar(text("SELECT pg_current_wal_lsn()::text"))
    primary.dispose()

    def replayed() -> bool:
        with replica_admin.connect() as conn:
            return bool(
                conn.scalar(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
                )
            )

    wait_until(replayed, CATCH_UP_S, f"the replica to replay the primary's WAL up to {lsn}")


@contextmanager
def replay_paused(replica_admin: Engine) -> Iterator[None]:
    """Nothing the primary writes within reaches the replica until the block ends."""
    with replica_admin.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
    try:
        wait_until(
            lambda: _scalar(replica_admin, "SELECT pg_get_wal_replay_pause_state()") == "paused",
            CATCH_UP_S,
            "the replica's replay to pause",
        )
        yield
    finally:
        with replica_admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.scalar(text(sql))


@dataclass
class Statements:
    """The SQL statements an engine ran, counted as they are sent."""

    count: int = 0
    sent: list[str] = field(default_factory=list)

    def watch(self, engine: Engine) -> None:
        def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.count += 1
            self.sent.append(statement)

        event.listen(engine, "before_cursor_execute", sent)


@dataclass
class Replicated:
    """The app with a read replica, and what each of its engines ran."""

    api: TestClient
    primary_url: str
    replica: Engine
    on_primary: Statements
    on_replica: Statements


@pytest.fixture()
def replicated(
    loaded_url: str, tokens: dict[str, str], replica_admin: Engine, tmp_path: Path
) -> Iterator[Replicated]:
    """The app over a copy of the loaded sample, reading through the replica."""
    catch_up(loaded_url, replica_admin)  # the copy and the users made for it
    settings = Settings(
        database_url=loaded_url,
        database_read_url=on_replica(loaded_url),
        var_dir=tmp_path / "var",
        report_rate=10_000,
    )
    app = create_app(settings)
    on_primary, on_replica_ = Statements(), Statements()
    on_primary.watch(app.state.engine)
    on_replica_.watch(app.state.read_engine)
    try:
        with TestClient(app) as client:
            yield Replicated(client, loaded_url, replica_admin, on_primary, on_replica_)
    finally:
        app.state.read_engine.dispose()
        app.state.engine.dispose()


postgis_only = pytest.mark.parametrize("loaded_url", ["postgis"], indirect=True)


def _listed_ids(api: TestClient, **params: Any) -> set[int]:
    answer = api.get("/api/v1/issues", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return {feature["id"] for feature in answer.json()["features"]}


@postgis_only
def test_the_list_reads_the_replica_and_the_report_answers_from_the_primary(
    replicated: Replicated,
) -> None:
    api = replicated.api
    with replay_paused(replicated.replica):
        made = api.post("/api/v1/issues", json=GOOD_REPORT)
        assert made.status_code == 201, made.text  # written, and read back, on the primary
        case_id = made.json()["id"]
        assert api.get(f"/api/v1/issues/{case_id}").status_code == 200  # one case: primary
        assert case_id not in _listed_ids(api)  # the list: the replica, which lags
        open311 = api.get("/open311/v2/requests.json", params={"service_request_id": case_id})
        assert open311.status_code == 200 and open311.json() == []
    catch_up(replicated.primary_url, replicated.replica)
    assert case_id in _listed_ids(api)
    open311 = api.get("/open311/v2/requests.json", params={"service_request_id": case_id})
    assert [one["service_request_id"] for one in open311.json()] == [str(case_id)]


@postgis_only
def test_a_transition_answers_from_the_primary_while_replay_is_paused(
    replicated: Replicated, tokens: dict[str, str]
) -> None:
    api = replicated.api
    case_id = api.post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    catch_up(replicated.primary_url, replicated.replica)
    staff = auth(tokens["grid_worker"])
    with replay_paused(replicated.replica):
        moved = api.post(
            f"/api/v1/issues/{case_id}/transitions",
            json={"to": "filed"},
            headers=staff,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "filed"
        assert case_id not in _listed_ids(api, status="filed")
        assert case_id in _listed_ids(api, status="reported")
    catch_up(replicated.primary_url, replicated.replica)
    assert case_id in _listed_ids(api, status="filed")


@postgis_only
def test_writes_never_touch_the_replica_and_reads_do(replicated: Replicated) -> None:
    api, on_replica = replicated.api, replicated.on_replica
    before = on_replica.count
    assert api.post("/api/v1/issues", json=GOOD_REPORT).status_code == 201
    form = {
        "service_code": GOOD_REPORT["category"],
        "lat": str(GOOD_REPORT["lat"]),
        "long": str(GOOD_REPORT["lon"]),
        "description": GOOD_REPORT["description"],
        "attribute[floor]": "5",
    }
    submitted = api.post("/open311/v2/requests.json", data=form)
    assert submitted.status_code == 201, submitted.text
    assert on_replica.count == before, on_replica.sent[before:]
    assert replicated.on_primary.count > 0
    assert api.get("/api/v1/issues").status_code == 200
    assert on_replica.count > before


READ_ROUTES = [
    "/",
    "/api/v1/issues",
    "/api/v1/issues/cells",
    "/api/v1/stats",
    "/ogc/collections",
    "/ogc/collections/cases/items",
    "/open311/v2/services.json",
    "/open311/v2/services/stairwell_clutter.json",
    "/open311/v2/requests.json",
]


@postgis_only
@pytest.mark.parametrize("path", READ_ROUTES)
def test_each_read_route_answers_from_the_read_only_replica(
    replicated: Replicated, path: str
) -> None:
    """Each route sent to the replica reads there, and writes nothing (a write would
    fail: the replica is in recovery and its sessions are read-only)."""
    before = replicated.on_replica.count
    answer = replicated.api.get(path)
    assert answer.status_code == 200, answer.text
    assert replicated.on_replica.count > before, f"{path} did not read the replica"


@postgis_only
def test_an_export_streams_from_the_replica(replicated: Replicated, tokens: dict[str, str]) -> None:
    before = replicated.on_replica.count
    answer = replicated.api.get("/api/v1/exports/issues.csv", headers=auth(tokens["manager"]))
    assert answer.status_code == 200, answer.text
    assert replicated.on_replica.count > before


@postgis_only
def test_a_replica_session_refuses_writes(replicated: Replicated) -> None:
    sessions = replicated.api.app.state.read_sessions  # type: ignore[attr-defined]
    with sessions() as session:
        assert session.scalar(text("SELECT pg_is_in_recovery()")) is True
        with pytest.raises(DBAPIError, match="read-only transaction"):
            session.execute(text("CREATE TABLE nothing_here (id int)"))


def test_a_read_only_engine_on_a_primary_refuses_writes(loaded_url: str) -> None:
    """Even pointed at a primary by mistake, the read engine writes nothing."""
    if make_url(loaded_url).get_backend_name() == "sqlite":
        with pytest.raises(ReadOnlyUnsupported, match="'sqlite'"):
            make_engine(loaded_url, read_only=True)
        return
    engine = make_engine(loaded_url, read_only=True)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError, match="read-only transaction"):
            conn.execute(text("CREATE TABLE nothing_here (id int)"))
    finally:
        engine.dispose()


def test_a_read_url_is_refused_on_sqlite() -> None:
    with pytest.raises(ValidationError, match="GRIDGOV_DATABASE_URL is 'sqlite'"):
        Settings(
            database_url="sqlite:///var/gridgov.sqlite3",
            database_read_url="postgresql://gridgov@127.0.0.1:5433/gridgov",
        )
    with pytest.raises(ValidationError, match="GRIDGOV_DATABASE_READ_URL is 'sqlite'"):
        Settings(
            database_url="postgresql://gridgov@127.0.0.1:5432/gridgov",
            database_read_url="sqlite:///var/replica.sqlite3",
        )


def test_no_read_url_reads_from_the_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDGOV_DATABASE_READ_URL", raising=False)
    assert Settings(database_read_url="").database_read_url is None
    assert Settings().database_read_url is None
