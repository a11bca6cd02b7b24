"""What the tests share that is not a fixture: sample places, clocks, waits, servers, pages.

Fixtures live in ``conftest.py`` and build on these; test modules import from here,
never from ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BOUNDARIES = DATA / "boundaries"
ARTIFACTS = ROOT / "artifacts"
STRICT = os.environ.get("GRIDGOV_STRICT") == "1"

# A fixed server clock: 10:00 on Thursday 26 November 2026 in Ningbo, an ordinary working day.
MORNING = datetime(2026, 11, 26, 2, 0)

HOSPITAL = (121.838591, 29.890289)  # District People's Hospital: dedicated grid 020
SHIMAO = (121.8452, 29.8940)  # 世茂世界湾一期: grid 016, district BD02
GOOD_REPORT = {
    "lon": SHIMAO[0],
    "lat": SHIMAO[1],
    "category": "stairwell_clutter",
    "description": "楼道里堆满了装修垃圾和旧家具",
    "channel": "mobile",
}
# the scripts and styles a page loads
LINKS = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)=["']([^"']+)["']""", re.I)
XSS = ["<script>alert(1)</script>", '<img src=x onerror="window.pwned=1">']


def auth(token: str) -> dict[str, str]:
    """The header a staff request carries."""
    return {"Authorization": f"Bearer {token}"}


def unavailable(what: str, why: str) -> None:
    """Skip for a missing service, or fail when CI requires it (``GRIDGOV_STRICT=1``)."""
    message = f"{what} not available ({why}); set up {what} or run in CI to cover this"
    if STRICT:
        pytest.fail(f"GRIDGOV_STRICT=1 but {message}")
    pytest.skip(message)


def wait_until(
    check: Callable[[], T | None], timeout_s: float = 30.0, what: str = "the condition"
) -> T:
    """Poll ``check`` until it returns something truthy, and return that; fail after
    ``timeout_s``. Every wait in the tests waits for a condition, never a fixed time."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def wait_for_js(page: Any, expression: str, timeout: float = 30_000) -> Any:
    """Wait until the JavaScript ``expression`` is truthy in ``page`` (``timeout`` in ms, as
    Playwright counts), and return its value.

    Playwright's ``page.wait_for_function`` polls with ``eval`` inside the page, which the
    pages' Content-Security-Policy blocks (no ``'unsafe-eval'``); ``page.evaluate`` goes
    through the DevTools protocol, which the policy does not govern.  As Playwright's
    own wait does, it keeps waiting across a navigation (a page that reloads itself).
    """

    def check() -> Any:
        try:
            return page.evaluate(expression)
        except Exception as exc:  # Playwright's Error (this module does not import it)
            if "Execution context was destroyed" in str(exc):
                return None
            raise

    return wait_until(check, timeout / 1000, what=expression)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL.

    Without uvicorn's proxy headers, as ``gridgov serve`` runs it: the app alone decides
    who the client is."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 20, "uvicorn to start")
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def vendor_modules() -> Path:
    """The installed map assets, or a skip (a failure in CI) when they are missing."""
    from layers.assets import AssetError, check
    from service.settings import Settings

    modules = Settings().vendor_dir / "node_modules"
    try:
        check(modules)
    except AssetError as exc:
        unavailable("map assets", str(exc))
    return modules


def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure in CI)."""
    chromium = shutil.which("chromium") or os.environ.get("GRIDGOV_CHROMIUM")
    if not chromium:
        unavailable("Chromium", "apt-get install chromium")
    assert chromium is not None
    return chromium


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def offline_page(browser: Any, base: str, **context: Any) -> tuple[Any, list[str]]:
    """A page that may reach only ``base`` (the local server, or ``"file:"``); returns it
    and what it tried outside. ``context`` goes to ``browser.new_page`` (viewport, device)."""
    context.setdefault("viewport", {"width": 1280, "height": 800})
    page = browser.new_page(**context)
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, outside


# runs before any script of every document the page loads
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.effectiveDirective + " " + (e.blockedURI || "inline"));
});
"""


def watch_csp(page: Any) -> Callable[[], list[str]]:
    """Record the Content-Security-Policy violations of ``page`` from now on; returns a
    function listing them: each ``securitypolicyviolation`` event of the current document
    (``directive blocked-address``) and each message Chromium wrote to the console about
    the policy (from any document the page loaded, workers' included)."""
    page.add_init_script(CSP_LISTENER)
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return lambda: [*page.evaluate("window.__csp || []"), *console]


def pin_browser_clock(page: Any, at: datetime) -> None:
    """Start the page's clock at ``at`` (naive UTC), running from there.

    The test then owns the page's time: ``page.clock.fast_forward(ms)`` fires the
    page's polls at once instead of waiting for them, and a page that wrongly
    trusted the browser's clock instead of the server's shows it.
    """
    from datetime import UTC

    page.clock.install(time=at.replace(tzinfo=UTC))


LINGXIAO_CODE = "330206002016"
GAOTANG_CODE = "330206002017"  # an illustrative neighbour: the sample moved east (``street``)
GAOTANG_NAME = "高塘社区(示意)"


def neighbour_community(
    target: Path, code: str, name: str, dx_deg: float, tag: str, source: Path | None = None
) -> Path:
    """A copy of a community's folder (the sample's by default) moved ``dx_deg`` east, as
    community ``code``.

    Division codes (the community's and its grids', and every ``grid`` a row names)
    get the new community's code in place of the source's; every other id (squads,
    merchants, business districts, members ...) gets ``tag`` in front, by the street
    generator's own rule (``data.street.own_ids``), since ids are unique across a
    deployment.  The community's name becomes ``name``.
    """
    from data.street import own_ids

    source = source or DATA
    outline = json.loads((source / "boundaries" / "community.geojson").read_text(encoding="utf-8"))
    old = str(outline["features"][0]["properties"]["code"])

    def recoded(value: object) -> object:
        if isinstance(value, str) and value.isdigit() and value.startswith(old):
            return code + value[len(old) :]
        return value

    for path in [*source.glob("*.geojson"), *(source / "boundaries").glob("*.geojson")]:
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data["features"]:
            props = feature["properties"]
            for key in ("code", "grid"):
                if key in props:
                    props[key] = recoded(props[key])
            feature["geometry"] = _shifted(feature["geometry"], dx_deg)
        if path.parent.name == "boundaries" and path.stem == "community":
            data["features"][0]["properties"].update(name=name, name_en=name)
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for table in ("members.csv", "categories.csv"):
        if not (source / table).exists():
            continue
        rows = list(csv.DictReader((source / table).open(encoding="utf-8")))
        for row in rows:
            if row.get("grid"):
                row["grid"] = str(recoded(row["grid"]))
        with (target / table).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    own_ids(target, tag)
    return target


def _shifted(geometry: dict[str, Any], dx: float) -> dict[str, Any]:
    def move(node: Any) -> Any:
        if isinstance(node, list) and node and isinstance(node[0], (int, float)):
            return [node[0] + dx, *node[1:]]
        return [move(n) for n in node]

    return {**geometry, "coordinates": move(geometry["coordinates"])}


@dataclass(frozen=True)
class Deployment:
    """A database holding the first ``len(codes)`` communities of the synthetic street
    (Lingxiao first, Gaotang second, in ``street.json``'s order), with the street's
    teams and the street's and district's departments."""

    url: str
    backend: str
    codes: list[str]  # the communities loaded
    folder: Path  # the whole street's folder: street.json lists all 12
    about: dict[str, Any]  # street.json

    @property
    def street(self) -> str:
        return str(self.about["code"])

    @property
    def unloaded(self) -> list[str]:
        """The street's communities that are not loaded, in ``street.json``'s order."""
        return [c["code"] for c in self.about["communities"] if c["code"] not in self.codes]


def community_rows(url: str, community: str) -> list[tuple[object, ...]]:
    """Every stored row of one community (or street, or district: its teams and
    departments), every column of it, as comparable values."""
    import shapely
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import LayerFeature, Member

    engine = make_engine(url)
    with Session(engine) as session:
        features = [
            (r.id, r.layer, r.key, r.name, json.dumps(r.props, sort_keys=True),
             shapely.to_wkb(r.geom), r.min_lon, r.min_lat, r.max_lon, r.max_lat)
            for r in session.scalars(
                select(LayerFeature)
                .where(LayerFeature.community_code == community)
                .order_by(LayerFeature.layer, LayerFeature.key)
            )
        ]  # fmt: skip
        members = [
            (m.id, m.kind, m.grid_code, m.squad_id, m.post)
            for m in session.scalars(
                select(Member).where(Member.community_code == community).order_by(Member.id)
            )
        ]
    engine.dispose()
    return [*features, *members]


def staff_headers(url: str, role: str, area: str) -> dict[str, str]:
    """The headers of a new user of ``role`` within ``area`` ("" for the whole deployment)."""
    from sqlalchemy.orm import Session

    from cases.deadlines import utcnow
    from store.db import make_engine
    from store.users import add_user

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        _, token = add_user(session, f"{role} of {area or 'all'}", role, utcnow(), area=area)
    engine.dispose()
    return auth(token)


# --- cases written straight into the database, and counted straight from it ---------------

REPORTED = MORNING - timedelta(days=7)
DEADLINE = REPORTED + timedelta(days=3)  # passed by MORNING: every filed case is due
ON_TIME = DEADLINE - timedelta(days=1)
LATE = DEADLINE + timedelta(days=1)
# the stats' default period: the 90 days up to the (fixed) clock, as service.stats.period sets it
UNTIL = MORNING + timedelta(seconds=1)
SINCE = UNTIL - timedelta(days=90)
COUNTS = ("reported", "filed", "due", "closed", "closed_on_time", "open", "overdue")


def stored_case(
    community: str,
    closed_at: datetime | None = None,
    grid: str | None = None,
    at: tuple[float, float] = SHIMAO,
) -> dict[str, Any]:
    """A filed case of ``community`` (in ``grid``, its grid 016 by default, at ``at``)
    handled by ``DEADLINE``: closed at ``closed_at``, or still in progress (and so
    overdue at ``MORNING``); a row to insert as it is."""
    import shapely

    return {
        **GOOD_REPORT,
        "input_crs": "wgs84",
        "input_lon": at[0],
        "input_lat": at[1],
        "lon": at[0],
        "lat": at[1],
        "geom": shapely.Point(at),
        "grid_code": grid or f"{community}016",
        "community_code": community,
        "status": "in_progress" if closed_at is None else "closed",
        "squad_id": None,
        "reported_at": REPORTED,
        "updated_at": closed_at or REPORTED,
        "filed_at": REPORTED,
        "resolved_at": closed_at,
        "closed_at": closed_at,
        "file_deadline": REPORTED + timedelta(days=2),
        "handle_deadline": DEADLINE,
        "due_at": DEADLINE,
        "rework_count": 0,
        "version": 1,
    }


def insert_cases(url: str, rows: list[dict[str, Any]]) -> None:
    """Write case rows (``stored_case``) straight into the database."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import Issue

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(insert(Issue), rows)
    engine.dispose()


def direct_counts(url: str, prefix: str) -> dict[str, int]:
    """Counts of the cases whose community code starts with ``prefix`` and which were
    reported in the stats' default period, straight from SQL (``COUNTS``)."""
    from sqlalchemy import and_, func, or_, select
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import Issue

    like = Issue.community_code.like(f"{prefix}%")
    closed = Issue.status == "closed"
    conditions = {
        "reported": [],
        "filed": [Issue.filed_at.is_not(None)],
        "closed": [closed],
        "closed_on_time": [closed, Issue.closed_at <= Issue.handle_deadline],
        "due": [
            Issue.filed_at.is_not(None),
            or_(Issue.handle_deadline < MORNING, closed),
        ],
        "open": [Issue.status.not_in(["closed", "rejected", "duplicate"])],
        "overdue": [
            Issue.status.not_in(["closed", "rejected", "duplicate"]),
            Issue.due_at < MORNING,
        ],
    }
    engine = make_engine(url)
    with Session(engine) as session:
        out = {
            name: int(
                session.scalar(
                    select(func.count())
                    .select_from(Issue)
                    .where(
                        and_(like, Issue.reported_at >= SINCE, Issue.reported_at < UNTIL, *where)
                    )
                )
                or 0
            )
            for name, where in conditions.items()
        }
    engine.dispose()
    return out
