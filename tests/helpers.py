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
from datetime import datetime
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
