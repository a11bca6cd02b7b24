"""Fixtures: databases on each backend, users, the app, a live server and a browser.

Migrating and loading the sample costs most of a second, so each backend's
databases are built once per session as templates: an empty migrated one and
one with the Lingxiao sample loaded. Every test gets its own copy (a file copy
for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL), so tests stay
independent of each other and of their order.  Deployments of 1, 2 and 12
communities of the synthetic street (``deployment``) have templates of their
own, built when a test first asks for one.

Tests marked for PostGIS, and those that need Redis, skip with a notice when no
server is reachable, unless ``GRIDGOV_STRICT=1`` (set by CI), which turns the
skip into a failure. Helpers
that are not fixtures live in ``tests/helpers.py``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.db import create_schema, make_engine
from tests.helpers import (
    CHROMIUM_ARGS,
    DATA,
    GAOTANG_CODE,
    GAOTANG_NAME,
    Deployment,
    chromium_path,
    neighbour_community,
    serving,
    unavailable,
)

PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# a database of its own on the local Redis; each test's keys carry a prefix of their own too
REDIS_TEST_URL = os.environ.get("GRIDGOV_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite", "postgis"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Cancel the timers still pending when the tests end.

    The rate limit's in-memory storage (the ``limits`` library) keeps a non-daemon
    ``threading.Timer`` to expire its windows.  Under Debian's faketime (``make
    test-ahead``) that timer's wait does not end, and the process would wait for it
    at exit forever; nothing is left to expire once the tests are done.
    """
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the PostGIS backend carry the ``postgis`` mark, so they can be selected."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgis" in callspec.params.values():
            item.add_marker(pytest.mark.postgis)


# --- templates, built once per session ---------------------------------------------------


def _load_sample(url: str) -> None:
    from store.load import load_folder

    engine = make_engine(url)
    create_schema(engine)
    result = load_folder(engine, DATA)
    engine.dispose()
    assert result.ok, result.refused


def _settle_sqlite(path: Path) -> None:
    """Fold the write-ahead log into the file, so that a plain copy is the whole database."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two SQLite files: ``empty`` (migrated) and ``loaded`` (with the sample)."""
    folder = tmp_path_factory.mktemp("templates")
    out = {"empty": folder / "empty.sqlite3", "loaded": folder / "loaded.sqlite3"}
    engine = make_engine(f"sqlite:///{out['empty']}")
    create_schema(engine)
    engine.dispose()
    _load_sample(f"sqlite:///{out['loaded']}")
    for path in out.values():
        _settle_sqlite(path)
    return out


def _create_database(admin_url: str, name: str, template: str | None = None) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        like = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{like}'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _database_name(kind: str) -> str:
    """A new database's name; it carries this process's id, so that the databases of a
    run that was killed can be told apart and dropped by the next run."""
    return f"gridgov_{kind}_p{os.getpid()}_{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _drop_orphans(admin_url: str) -> None:
    """Drop the test databases whose process is gone (a run killed before its teardown)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        names = conn.scalars(text("SELECT datname FROM pg_database WHERE datname ~ '^gridgov_'"))
        orphans = []
        for name in names:
            match = re.search(r"_p(\d+)_[0-9a-f]{8}$", name)
            if match and not _alive(int(match.group(1))):
                orphans.append(name)
    admin.dispose()
    for name in orphans:
        _drop_database(admin_url, name)


def _drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgis_admin() -> Iterator[str]:
    """The server's admin URL, once PostgreSQL with PostGIS is known to be there."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
            available = conn.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except Exception as exc:  # any connection failure means: no server here
        admin.dispose()
        unavailable("PostgreSQL", f"{PG_ADMIN_URL}: {type(exc).__name__}")
    admin.dispose()
    if not available:
        unavailable("PostGIS", "the postgis extension is not installed on the server")
    yield PG_ADMIN_URL


class _PostgisCopies:
    """Copies of the template databases, made ahead of time on background threads.

    A copy takes about a third of a second of the server's time; made while the
    previous test runs, it is ready when the next test asks. Used copies are
    dropped in the background too, and whatever is left at the end.

    No wait here has a timeout: under ``faketime`` a timed wait never ends.
    """

    def __init__(self, admin_url: str, templates: dict[str, str], depth: int = 2) -> None:
        self._admin_url = admin_url
        self._ready = {
            which: queue.Queue[str | BaseException](maxsize=depth) for which in templates
        }
        self._used: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._fillers = [
            threading.Thread(target=self._fill, args=(which, name), daemon=True)
            for which, name in templates.items()
        ]
        self._dropper = threading.Thread(target=self._drop_used, daemon=True)
        for thread in [*self._fillers, self._dropper]:
            thread.start()

    def _fill(self, which: str, template: str) -> None:
        ready = self._ready[which]
        while not self._stop.is_set():
            name = _database_name("test")
            try:
                _create_database(self._admin_url, name, template)
            except Exception as exc:  # handed to the test that asks next
                ready.put(exc)
                return
            ready.put(name)  # blocks while enough copies wait

    def _drop_used(self) -> None:
        while (name := self._used.get()) is not None:
            _drop_database(self._admin_url, name)

    def take(self, which: str) -> str:
        """The name of a fresh copy of template ``which``; dropped after ``give_back``."""
        got = self._ready[which].get()
        if isinstance(got, BaseException):
            raise RuntimeError(f"could not copy the {which} template database") from got
        return got

    def give_back(self, name: str) -> None:
        self._used.put(name)

    def _drain(self) -> None:
        for ready in self._ready.values():
            while not ready.empty():
                got = ready.get_nowait()
                if isinstance(got, str):
                    self._used.put(got)

    def close(self) -> None:
        """Stop making copies and drop every copy that is left."""
        self._stop.set()
        self._drain()  # a filler blocked on a full queue puts its last copy and stops
        for thread in self._fillers:
            thread.join()
        self._drain()
        self._used.put(None)
        self._dropper.join()


@pytest.fixture(scope="session")
def postgis_copies(postgis_admin: str) -> Iterator[_PostgisCopies]:
    """Template databases (``empty`` and ``loaded``) and their copies, made once a session
    and dropped at its end."""
    _drop_orphans(postgis_admin)
    names = {"empty": _database_name("tpl_empty"), "loaded": _database_name("tpl_loaded")}
    copies = None
    try:
        empty = make_engine(_create_database(postgis_admin, names["empty"]))
        create_schema(empty)
        empty.dispose()
        _load_sample(_create_database(postgis_admin, names["loaded"], names["empty"]))
        copies = _PostgisCopies(postgis_admin, names)
        yield copies
    finally:
        if copies is not None:
            copies.close()
        for name in names.values():
            _drop_database(postgis_admin, name)


@pytest.fixture()
def fresh_postgis(
    postgis_admin: str, postgis_copies: _PostgisCopies
) -> Iterator[Callable[[], str]]:
    """Make new, empty PostgreSQL databases; dropped afterwards in the background (a
    DROP DATABASE waits for a checkpoint, which takes seconds on a busy server)."""
    made: list[str] = []

    def make() -> str:
        name = _database_name("test")
        made.append(name)
        return _create_database(postgis_admin, name)

    yield make
    for name in made:
        postgis_copies.give_back(name)


def _url_of(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _copy(request: pytest.FixtureRequest, tmp_path: Path, which: str) -> Iterator[str]:
    if request.param == "sqlite":
        templates: dict[str, Path] = request.getfixturevalue("sqlite_templates")
        target = tmp_path / "gridgov.sqlite3"
        shutil.copyfile(templates[which], target)
        yield f"sqlite:///{target}"
        return
    copies: _PostgisCopies = request.getfixturevalue("postgis_copies")
    name = copies.take(which)
    try:
        yield _url_of(name)
    finally:
        copies.give_back(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with the schema, on each backend in turn."""
    yield from _copy(request, tmp_path, "empty")


@pytest.fixture(params=BACKENDS)
def loaded_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database on each backend with the Lingxiao sample loaded."""
    yield from _copy(request, tmp_path, "loaded")


# --- deployments of one, two and 12 communities ---------------------------------------------

STREET_SIZES = [1, 2, 12]  # how many of the synthetic street's communities a deployment holds


def _backend_marks(backend: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.postgis] if backend == "postgis" else []


@pytest.fixture(scope="session")
def street_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic street of 12 communities (``data.street``), written once a session."""
    from data.street import write_street

    out = tmp_path_factory.mktemp("street") / "xinqi"
    write_street(out, communities=12)
    return out


def _load_street(url: str, folder: Path, n: int) -> None:
    from store.load import load_street

    about = json.loads((folder / "street.json").read_text(encoding="utf-8"))
    codes = [c["code"] for c in about["communities"]][:n]
    engine = make_engine(url)
    result = load_street(engine, folder, communities=codes)
    engine.dispose()
    assert result.ok and list(result.communities) == codes, result
    assert not [w for r in result.communities.values() for w in r.warnings]


class _DeploymentTemplates:
    """One template database a backend and a size, built when a test first asks for it
    and copied for each test (as the sample's templates are); dropped at the end."""

    def __init__(self, folder: Path, tmp: Path) -> None:
        self._folder = folder
        self._tmp = tmp
        self._built: dict[tuple[str, int], str] = {}
        self._made: list[str] = []  # PostGIS databases to drop, built or not

    def sqlite(self, n: int, empty: Path) -> Path:
        """The template's file, built from ``empty`` (a migrated database)."""
        if ("sqlite", n) not in self._built:
            path = self._tmp / f"street-{n}.sqlite3"
            shutil.copyfile(empty, path)
            _load_street(f"sqlite:///{path}", self._folder, n)
            _settle_sqlite(path)
            self._built["sqlite", n] = str(path)
        return Path(self._built["sqlite", n])

    def postgis(self, n: int, copies: _PostgisCopies) -> str:
        """The template database's name, built on a copy of the empty template."""
        if ("postgis", n) not in self._built:
            name = copies.take("empty")
            self._made.append(name)
            _load_street(_url_of(name), self._folder, n)
            self._built["postgis", n] = name
        return self._built["postgis", n]

    def close(self) -> None:
        """Drop the PostGIS templates, side by side (each drop waits for a checkpoint)."""
        drops = [
            threading.Thread(target=_drop_database, args=(PG_ADMIN_URL, name))
            for name in self._made
        ]
        for thread in drops:
            thread.start()
        for thread in drops:
            thread.join()


@pytest.fixture(scope="session")
def _deployment_templates(
    street_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_DeploymentTemplates]:
    templates = _DeploymentTemplates(street_folder, tmp_path_factory.mktemp("streets"))
    yield templates
    templates.close()


@pytest.fixture(
    params=[
        pytest.param((backend, n), id=f"{backend}-{n}", marks=_backend_marks(backend))
        for backend in BACKENDS
        for n in STREET_SIZES
    ]
)
def deployment(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    street_folder: Path,
    _deployment_templates: _DeploymentTemplates,
) -> Iterator[Deployment]:
    """A fresh database with the first 1, 2 or 12 communities of the synthetic street
    and the street itself loaded, on each backend in turn (no cases)."""
    backend, n = request.param
    about = json.loads((street_folder / "street.json").read_text(encoding="utf-8"))
    codes = [c["code"] for c in about["communities"]][:n]
    if backend == "sqlite":
        sqlite: dict[str, Path] = request.getfixturevalue("sqlite_templates")
        target = tmp_path / "gridgov.sqlite3"
        shutil.copyfile(_deployment_templates.sqlite(n, sqlite["empty"]), target)
        yield Deployment(f"sqlite:///{target}", backend, codes, street_folder, about)
        return
    admin: str = request.getfixturevalue("postgis_admin")
    copies: _PostgisCopies = request.getfixturevalue("postgis_copies")
    template = _deployment_templates.postgis(n, copies)
    name = _database_name("test")
    try:
        yield Deployment(
            _create_database(admin, name, template), backend, codes, street_folder, about
        )
    finally:
        copies.give_back(name)


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis's URL (``GRIDGOV_TEST_REDIS_URL``), once a server answers there."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", f"{REDIS_TEST_URL}: {type(exc).__name__}")
    finally:
        client.close()
    return REDIS_TEST_URL


@pytest.fixture()
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the test Redis; its keys are deleted afterwards,
    and nobody else's are touched (other runs may share the server)."""
    import redis

    prefix = f"gridgov-test:{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- users, settings, app ------------------------------------------------------------------


@pytest.fixture()
def tokens(loaded_url: str) -> dict[str, str]:
    """A bearer token for a user of each role, by role name."""
    from sqlalchemy.orm import Session

    from cases.deadlines import utcnow
    from cases.lifecycle import Role
    from store.users import add_user

    engine = make_engine(loaded_url)
    out = {}
    with Session(engine) as session, session.begin():
        for role in Role:
            _, out[role.value] = add_user(session, f"test {role.value}", role.value, utcnow())
    engine.dispose()
    return out


@pytest.fixture()
def settings(loaded_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Service settings on the loaded database, with files under a temporary folder."""
    from service.settings import Settings

    return Settings(database_url=loaded_url, var_dir=tmp_path / "var", report_rate=10_000)


@pytest.fixture()
def street(loaded_url: str, tmp_path: Path) -> str:
    """Lingxiao and a neighbour (Gaotang, illustrative) loaded in one deployment, on
    each backend in turn."""
    from store.load import load_folder

    folder = neighbour_community(tmp_path / "gaotang", GAOTANG_CODE, GAOTANG_NAME, 0.05, "GT-")
    engine = make_engine(loaded_url)
    assert load_folder(engine, folder).ok
    engine.dispose()
    return loaded_url


@pytest.fixture()
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the sample data folder."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture()
def api(settings):  # type: ignore[no-untyped-def]
    """A TestClient on the app over the loaded sample."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture()
def live_server(settings):  # type: ignore[no-untyped-def]
    """The app over the loaded sample, served on a loopback port; yields its base URL."""
    from api.app import create_app

    app = create_app(settings)
    with serving(app) as url:
        yield url
    app.state.engine.dispose()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright", "pip install playwright")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def _chromium(_playwright: Any) -> Iterator[Any]:
    """One Chromium for the session; each test gets its own context (``browser``)."""
    launched = _playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture()
def browser(_chromium: Any) -> Iterator[Any]:
    """The session's Chromium; every page a test opens (``browser.new_page``) has a
    context of its own, and all of them are closed when the test ends."""
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()
