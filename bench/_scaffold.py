"""What every benchmark in ``bench/`` runs inside, kept in one place.

A benchmark module holds its measurement: what it times, against which
baseline, and the checks that the two give the same answer.  This module holds
what goes around a measurement, so that every benchmark starts, reports, skips
and fails the same way (``bench._timing`` holds the timing and the formatting
of figures and tables).  One section per concern:

* **outcome**: the exit status.  0 when the run went through; 1 when a check
  failed (``CheckFailed``: gridgov and its baseline disagree, or a page is
  broken), never because of a time; ``SKIPPED`` (77) when a service the
  benchmark needs is missing (``Unavailable``), which is a failure instead when
  ``GRIDGOV_STRICT=1`` is set, as in CI;
* **command line**: ``--quick``, the type of the size options, and the
  sizes of a run (quick or full, with the options given);
* **report**: the banner (versions, machine, load average), sections with a
  table, the closing runtime line and the ``ratios:`` line that
  ``python -m bench`` repeats in its summary;
* **servers**: a server process or an in-process app on a free loopback port;
* **databases**: the Lingxiao sample loaded with ``gridgov load``, temporary
  PostGIS databases, the Redis several workers share a rate limit in;
* **browser**: headless Chromium through Playwright, with pages that may reach
  only the local server.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import http.client
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Protocol, TypeVar

from bench._timing import fmt_seconds

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# --------------------------------------------------------------------------- outcome

SKIPPED = 77  # exit status of a benchmark that could not run (the automake convention)
STRICT_VARIABLE = "GRIDGOV_STRICT"


class CheckFailed(AssertionError):
    """A correctness check failed; the message says what disagreed with what.

    Raised when gridgov's answer differs from its baseline's, or when what was
    measured is not what was meant to be (a page with script errors, a case
    the database did not keep).  ``run`` turns it into exit status 1.  It is an
    ``AssertionError``, as the checks raised before, for any caller of a
    benchmark's ``main`` that catches those; being raised explicitly rather than
    by ``assert``, it is not dropped under ``python -O``.
    """


class Unavailable(RuntimeError):
    """A service a benchmark needs is missing: PostgreSQL with PostGIS, Chromium, map assets."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} not available: {reason}")
        self.service = service


def strict() -> bool:
    """Whether a missing service is a failure (``GRIDGOV_STRICT=1``, set in CI)."""
    return os.environ.get(STRICT_VARIABLE) == "1"


def skip_part(part: str, missing: Unavailable) -> None:
    """Go on without an optional part of a run, saying so; under strict mode, fail instead."""
    if strict():
        raise missing
    print(f"NOTICE: {part} skipped: {missing}", flush=True)


def run(main: Callable[[], None]) -> NoReturn:
    """Run a benchmark's ``main`` as a program and exit with the status it earned.

    1 with a ``CHECK FAILED`` line when a check failed; ``SKIPPED`` with a
    ``SKIPPED`` line when a service was missing (1 under ``GRIDGOV_STRICT=1``);
    any other exception propagates with its traceback (status 1).
    """
    try:
        main()
    except CheckFailed as failed:
        _leave(f"CHECK FAILED: {failed}", 1)
    except Unavailable as missing:
        if strict():
            _leave(f"FAILED: {missing} ({STRICT_VARIABLE}=1: a missing service is a failure)", 1)
        _leave(f"SKIPPED: {missing}", SKIPPED)
    sys.stdout.flush()
    raise SystemExit(0)


def _leave(message: str, status: int) -> NoReturn:
    sys.stdout.flush()  # the report so far comes before the verdict
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(status)


# --------------------------------------------------------------------------- command line


def arguments(module: str, description: str, quick: str) -> argparse.ArgumentParser:
    """A parser for ``python -m bench.<module>`` with the ``--quick`` option every one has.

    ``quick`` says what the smoke run does differently; the benchmark adds its
    own size options.
    """
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run, as CI runs it (python -m bench --quick): {quick}",
    )
    return parser


def positive_int(text: str) -> int:
    """The type of a size option: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def mode(quick: bool) -> str:
    """The word for a run's mode in its banner."""
    return "quick" if quick else "full"


class Dataclass(Protocol):
    """Any dataclass instance, as ``dataclasses.replace`` takes (a benchmark's ``Sizes``)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


S = TypeVar("S", bound=Dataclass)
R = TypeVar("R")


def sizes(quick: bool, full: S, smoke: S, **given: object) -> S:
    """The sizes of a run: ``smoke`` in quick mode, else ``full`` (frozen dataclasses),
    with the size options given on the command line (None: not given) in their place."""
    chosen = smoke if quick else full
    return dataclasses.replace(chosen, **{k: v for k, v in given.items() if v is not None})


# --------------------------------------------------------------------------- report

RATIOS = "ratios: "  # the line python -m bench repeats in its summary starts so


def environment(packages: Sequence[str], *extras: str) -> str:
    """The versions line of a banner: Python, ``packages``, ``extras``, CPUs, machine."""
    listed = [f"{p} {version(p)}" for p in packages] + list(extras)
    return (
        f"Python {platform.python_version()}, {', '.join(listed)}; "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def page_environment(browser: Any) -> str:
    """The versions line of the page benchmarks: the stack that serves and draws the pages."""
    import sqlite3

    return environment(
        ("folium", "playwright", "fastapi", "starlette", "uvicorn", "SQLAlchemy"),
        f"SQLite {sqlite3.sqlite_version}",
        f"Chromium {browser.version}",
    )


def geos() -> str:
    """GEOS's version, which shapely's does not tell (the geometry benchmarks' banners)."""
    import shapely

    return f"GEOS {'.'.join(str(v) for v in shapely.geos_version)}"


def banner(title: str, versions: str, *details: str) -> None:
    """The head of a report: its title, the versions, the load average, then ``details``.

    The load average is there because the benchmarks run on shared machines:
    it tells a reader how much else was running.
    """
    print(f"# {title}")
    print()
    print(f"- {versions}")
    print(
        f"- load average at the start {os.getloadavg()[0]:.2f} (1 min): other work on the "
        "machine shares its CPUs"
    )
    for line in details:
        print(f"- {line}")
    print(flush=True)


def section(title: str, body: str) -> None:
    """A titled part of the report, usually a Markdown table."""
    print()
    print(f"## {title}")
    print()
    print(body, flush=True)


def footer(started: float) -> None:
    """The closing line: the runtime since ``started`` (``perf_counter``) and the load."""
    load1, load5, _ = os.getloadavg()
    print()
    print(
        f"total runtime: {fmt_seconds(time.perf_counter() - started)}; load average at the "
        f"end {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs",
        flush=True,
    )


def ratios(*parts: str) -> None:
    """The run's headline ratios against the baseline, on one line (printed, not judged)."""
    print(RATIOS + "; ".join(parts), flush=True)


# --------------------------------------------------------------------------- servers

HOST = "127.0.0.1"  # every server and request stays on loopback
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on just now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server started as its own process on ``HOST``, up once ``GET /healthz`` answers 200.

    Used as a context manager: it is started on entry and stopped (terminate,
    then kill after 15 s) on exit, also when it fails to come up.  Its output
    goes to ``log``, whose tail is shown when it does not come up.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log: Path,
        port: int,
        startup_timeout: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.argv, self.env, self.log, self.port = list(argv), env, log, port
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the server is not started"
        return self.proc.pid

    def __enter__(self) -> ServerProcess:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()  # never leave a half-started server behind
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise RuntimeError(
            f"no answer on /healthz in {self.startup_timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the server wrote."""
        written = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(written.splitlines()[-lines:])


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread of this process; yields its base URL.

    The socket is bound here, on a free loopback port, and handed to uvicorn,
    so no other process can take the port in between.  The server stops when
    the block ends.
    """
    import uvicorn

    sock = socket.socket()
    sock.bind((HOST, 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {HOST}:{port}")
            time.sleep(0.05)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def warm_up(base: str, *paths: str) -> None:
    """One request to each of ``paths``, so that no measured load is the server's first."""
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=120) as answer:
            answer.read()


# --------------------------------------------------------------------------- databases

PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def sqlite_url(folder: Path) -> str:
    """The URL of a SQLite database file in ``folder``."""
    return f"sqlite:///{folder / 'gridgov.sqlite3'}"


def load_sample(database_url: str) -> None:
    """``gridgov load data``: the schema and the Lingxiao sample, as an operator loads them."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "load", str(DATA), "--database-url", database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise RuntimeError(f"gridgov load failed ({done.returncode}):\n{tail}")


def count_issues(database_url: str) -> int:
    """``SELECT count(*) FROM issues``."""
    from sqlalchemy import text

    from store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM issues")).scalar_one())
    finally:
        engine.dispose()


def category_codes() -> list[str]:
    """The category codes of the sample's catalogue (``data/categories.csv``)."""
    with (DATA / "categories.csv").open(encoding="utf-8", newline="") as f:
        return [row["code"] for row in csv.DictReader(f)]


def postgis_admin() -> Engine:
    """An AUTOCOMMIT engine on the PostgreSQL server (``GRIDGOV_BENCH_PG_URL``).

    Raises
    ------
    Unavailable
        When the server is unreachable or has no PostGIS extension to offer.
    """
    from sqlalchemy import create_engine, text

    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            available = conn.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar_one()
    except Exception as exc:  # any connection failure means: no server here
        admin.dispose()
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise Unavailable("PostgreSQL", f"unreachable at {PG_ADMIN_URL}: {reason}") from exc
    if not available:
        admin.dispose()
        raise Unavailable("PostGIS", "the postgis extension is not installed on the server")
    return admin


@contextmanager
def temporary_postgis(admin: Engine) -> Iterator[str]:
    """A new, empty database ``gridgov_bench_<random>`` for one run; dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"gridgov_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(PG_ADMIN_URL)
        .set(drivername="postgresql", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


REDIS_URL = os.environ.get("GRIDGOV_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def on_postgis(part: str, measure: Callable[[str], R]) -> R | None:
    """``measure`` run on a fresh PostGIS database (dropped after), its result; the server's
    versions printed. None, with :func:`skip_part`'s notice, when no PostgreSQL with
    PostGIS answers (a failure under strict mode)."""
    try:
        admin = postgis_admin()
    except Unavailable as missing:
        skip_part(part, missing)
        return None
    try:
        with temporary_postgis(admin) as url:
            result = measure(url)
            print(f"- {postgres_versions(url)}", flush=True)
            return result
    finally:
        admin.dispose()


def workers_redis() -> dict[str, str]:
    """The settings several workers of ``gridgov serve`` need to share one rate limit:
    ``GRIDGOV_REDIS_URL`` (``GRIDGOV_BENCH_REDIS_URL``, by default the test database 15
    of the local Redis) and a key prefix of this run's own.

    Raises
    ------
    Unavailable
        When no Redis answers there (``gridgov serve`` refuses ``--workers 2`` without).
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise Unavailable("Redis", f"unreachable at {REDIS_URL}: {type(exc).__name__}") from exc
    finally:
        client.close()
    return {
        "GRIDGOV_REDIS_URL": REDIS_URL,
        "GRIDGOV_RATE_LIMIT_PREFIX": f"gridgov-bench:{uuid.uuid4().hex[:10]}",
    }


def postgres_versions(database_url: str) -> str:
    """PostgreSQL's and PostGIS's versions, for the report."""
    from sqlalchemy import text

    from store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {str(server).split()[0]}, PostGIS {postgis}"


# --------------------------------------------------------------------------- browser

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own downloads are not used
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
TILE_HOSTS = "tile.openstreetmap.org"  # refused as expected: the basemap is not measured


def vendor_dir() -> Path:
    """The installed map assets the pages are served with (``GRIDGOV_VENDOR_DIR``).

    Raises
    ------
    Unavailable
        When ``gridgov assets install`` has not put them there.
    """
    from layers.assets import AssetError, check

    folder = Path(os.environ.get("GRIDGOV_VENDOR_DIR", ROOT / "var" / "vendor"))
    try:
        check(folder / "node_modules")
    except AssetError as exc:
        raise Unavailable("map assets", str(exc)) from exc
    return folder


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium through Playwright's sync API; yields the ``Browser``.

    Raises
    ------
    Unavailable
        When Playwright, Chromium or the map assets are missing, before anything
        is started, or when Chromium does not launch.
    """
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise Unavailable("Playwright", "pip install playwright") from exc
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise Unavailable("Chromium", f"no {CHROMIUM}; apt-get install chromium")
    vendor_dir()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        except PlaywrightError as exc:
            reason = (str(exc).splitlines() or ["launch failed"])[0]
            raise Unavailable("Chromium", reason) from exc
        try:
            yield browser
        finally:
            browser.close()


class LocalOnly:
    """Keeps a page to the local server at ``base``, and notes what it did wrong.

    Every request not to ``base`` is aborted and noted (the map tiles; anything
    else is reported).  The rule is a regular expression matched in
    Playwright's driver, so the page's own requests go straight on and do not
    wait for this process, where the server may run too.  Script errors are
    noted as well: a page that throws is broken, whatever its timings.
    """

    def __init__(self, page: Any, base: str) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.route(re.compile("^(?!" + re.escape(base + "/") + ")"), self._refuse)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _refuse(self, route: Any) -> None:
        self.outside.append(route.request.url)
        route.abort()

    def check(self, name: str) -> None:
        """Print the requests refused other than map tiles; fail on script errors."""
        other = sorted({u for u in self.outside if TILE_HOSTS not in u})
        if other:
            print(f"  NOTICE: {name} tried to reach {', '.join(other[:5])}")
        if self.errors:
            raise CheckFailed(f"{name}: script errors on the page: {'; '.join(self.errors[:3])}")


@contextmanager
def local_page(browser: Any, base: str, **options: Any) -> Iterator[tuple[Any, LocalOnly]]:
    """A page in a fresh browser context (``options``: viewport, phone...), cold cache,
    that may reach only ``base``; yields it and its ``LocalOnly`` watch.

    The pages' Content-Security-Policy is bypassed here, and only here: Playwright's
    ``wait_for_function``, which the benchmarks time with, polls by ``eval`` inside
    the page, which the policy refuses.  The policy changes nothing that is measured
    (it is a list of allowed sources); the tests check it is kept.
    """
    context = browser.new_context(bypass_csp=True, **options)
    try:
        page = context.new_page()
        yield page, LocalOnly(page, base)
    finally:
        context.close()
