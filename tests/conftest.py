"""Shared fixtures: sample data paths and a database on each backend.

Tests marked for PostGIS skip with a notice when no server is reachable, unless
``GRIDGOV_STRICT=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.db import create_schema, make_engine

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BOUNDARIES = DATA / "boundaries"
PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
STRICT = os.environ.get("GRIDGOV_STRICT") == "1"

HOSPITAL = (121.838591, 29.890289)  # District People's Hospital: dedicated grid 020
SHIMAO = (121.8452, 29.8940)  # 世茂世界湾一期: grid 016, district BD02
GOOD_REPORT = {
    "lon": SHIMAO[0],
    "lat": SHIMAO[1],
    "category": "stairwell_clutter",
    "description": "楼道里堆满了装修垃圾和旧家具",
    "channel": "mobile",
}


def unavailable(what: str, why: str) -> None:
    """Skip for a missing service, or fail when CI requires it."""
    message = f"{what} not available ({why}); set up {what} or run in CI to cover this"
    if STRICT:
        pytest.fail(f"GRIDGOV_STRICT=1 but {message}")
    pytest.skip(message)


@pytest.fixture()
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the sample data folder."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture(scope="session")
def postgis_admin() -> Iterator[str]:
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
    if not available:
        admin.dispose()
        unavailable("PostGIS", "the postgis extension is not installed on the server")
    yield PG_ADMIN_URL
    admin.dispose()


def _fresh_postgis(admin_url: str) -> Iterator[str]:
    name = f"gridgov_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with the schema, on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gridgov.sqlite3'}"
        create_schema(make_engine(url))
        yield url
        return
    admin_url = request.getfixturevalue("postgis_admin")
    for url in _fresh_postgis(admin_url):
        engine = make_engine(url)
        create_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture()
def loaded_url(database_url: str) -> str:
    """A database on each backend with the Lingxiao sample loaded."""
    from store.load import load_folder

    engine = make_engine(database_url)
    result = load_folder(engine, DATA)
    engine.dispose()
    assert result.ok, result.refused
    return database_url


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
    from api.settings import Settings

    return Settings(database_url=loaded_url, var_dir=tmp_path / "var", report_rate=10_000)


@pytest.fixture()
def api(settings):  # type: ignore[no-untyped-def]
    """A TestClient on the app over the loaded sample."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def serving(app):  # type: ignore[no-untyped-def]
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture()
def live_server(settings):  # type: ignore[no-untyped-def]
    """The app over the loaded sample, served on a loopback port; yields its base URL."""
    from api.app import create_app

    app = create_app(settings)
    with serving(app) as url:
        yield url
    app.state.engine.dispose()


def vendor_modules() -> Path:
    """The installed map assets, or a skip (a failure in CI) when they are missing."""
    from api.settings import Settings
    from layers.assets import AssetError, check

    modules = Settings().vendor_dir / "node_modules"
    try:
        check(modules)
    except AssetError as exc:
        unavailable("map assets", str(exc))
    return modules


@pytest.fixture()
def browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright", "pip install playwright")
    chromium = shutil.which("chromium") or os.environ.get("GRIDGOV_CHROMIUM")
    if not chromium:
        unavailable("Chromium", "apt-get install chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def offline_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    """A page that may reach only ``base`` (the local server, or ``"file:"``); returns it
    and what it tried outside."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, outside
