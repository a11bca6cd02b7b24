"""Benchmark: the grid managers' map page with many cases, against a naive folium map.

gridgov's map page at ``/`` embeds no cases: its script asks the API for the
cases in view (``/api/v1/issues?bbox=…&limit=1000``) at detailed zoom (16 and
more) and for counts per lattice square (``/api/v1/issues/cells``) when zoomed
out.  The baseline is what one would write first: a folium map with one
``folium.Marker`` (and popup) per case in a ``MarkerCluster``, all in the HTML.

For each case count (1,000 and 100,000 by default) this builds a SQLite database
(``gridgov load data`` plus cases bulk-inserted with SQLAlchemy Core), writes the
naive page from the same cases in a child process, serves both from one
loopback server, and opens each in headless Chromium (Playwright, Debian's
``/usr/bin/chromium``) with every request not to that server aborted (so map
tiles are not loaded).  Each page load is a fresh browser context (cold cache).

Measured per page load: the document's size, the bytes of everything the page
fetched from the server, the time from ``page.goto`` to the first render (grids
and cases drawn; markers or clusters for the naive map) and, for gridgov, from
``setZoom(14)`` to the counts per square on the map.  Printed, never judged.
The run fails when a page does not show all the cases (counts per square at
zoom 13 add up to the cases in the database; the naive cluster holds every
marker) or throws script errors.

Run with ``python -m bench.mappage`` (``--quick`` for a smoke run).  It needs
Playwright, Chromium and the map assets; without them it is skipped (exit
status 77), or fails under ``GRIDGOV_STRICT=1``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import insert, select

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds
from bench.intake import DESCRIPTIONS
from cases.deadlines import utcnow
from cases.lifecycle import Status
from gis.index import AreaIndex
from store.db import make_engine
from store.models import Issue

COMMUNITY_PATH = scaffold.DATA / "boundaries" / "community.geojson"
GRIDS_PATH = scaffold.DATA / "boundaries" / "grids.geojson"
VIEWPORT = {"width": 1280, "height": 800}
SEED = 20261126
CHUNK = 10_000  # rows per INSERT executemany
GRIDS = 22  # grid polygons of the sample: the page has drawn when they are there
DAYS = 180  # cases reported over the last half year (the stats panel looks at 90 days)
REPEAT_BUDGET_S = 120.0  # no further naive loads once its loads have taken this long

GRIDGOV, NAIVE = "gridgov", "naive folium"

# (status, share): most cases open, a quarter closed, some rejected or duplicates
STATUSES = (
    (Status.REPORTED, 0.15),
    (Status.FILED, 0.10),
    (Status.DISPATCHED, 0.10),
    (Status.IN_PROGRESS, 0.15),
    (Status.ESCALATED, 0.05),
    (Status.RESOLVED, 0.10),
    (Status.CLOSED, 0.25),
    (Status.REJECTED, 0.05),
    (Status.DUPLICATE, 0.05),
)
CHANNELS = ("mobile", "web", "patrol", "phone")

# the page has drawn: the first answer of the case layer is in and the grids are on the map
GRIDGOV_DRAWN = (
    "window.gridgovState && window.gridgovState.fetches > 0 && "
    f"document.querySelectorAll('path.leaflet-interactive').length >= {GRIDS}"
)
NAIVE_DRAWN = "document.querySelector('.leaflet-marker-icon, .marker-cluster') !== null"
MAP_NAME = "Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)"
CELL_SUM = (
    "[...document.querySelectorAll('.gg-cell span')].reduce((s, e) => s + Number(e.textContent), 0)"
)
# room for every request of a page in the Resource Timing buffer (250 by default)
RESOURCE_BUFFER = "performance.setResourceTimingBufferSize(100000)"
# what the page fetched from the server, from the Resource Timing entries
ENTRIES = """base => {
  const pick = e => ({name: e.name, type: e.initiatorType || 'navigation',
    transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize,
    wait: e.responseStart - e.requestStart, took: e.responseEnd - e.startTime});
  const nav = performance.getEntriesByType('navigation')[0];
  const own = performance.getEntriesByType('resource').filter(e => e.name.startsWith(base));
  return [pick(nav), ...own.map(pick)];
}"""


@dataclass(frozen=True)
class Sizes:
    counts: tuple[int, ...]
    runs: int  # page loads per target and case count; the median is reported
    load_cap_s: float  # one naive page load gives up after this
    write_cap_s: float  # writing one naive page gives up after this


FULL = Sizes(counts=(1_000, 100_000), runs=3, load_cap_s=180.0, write_cap_s=300.0)
# one count in quick mode: above the case layer's 1,000 a view, so the page's switch
# to counts per square is exercised as well
QUICK = Sizes(counts=(2_000,), runs=1, load_cap_s=60.0, write_cap_s=60.0)


@dataclass
class Load:
    """One page load in a fresh browser context."""

    first_render_s: float | None  # None: not drawn within the cap
    html_bytes: int = 0
    page_bytes: int = 0
    requests: int = 0
    cells_s: float | None = None  # gridgov: setZoom(14) until the squares are drawn
    shown: int | None = None  # gridgov: cases loaded at zoom 16; naive: markers in the cluster
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Target:
    cases: int
    name: str
    loads: list[Load] = field(default_factory=list)
    capped: str = ""  # why there is no figure
    cap_s: float | None = None  # the load cap, when a load was not drawn within it
    html_file_bytes: int | None = None  # the naive page's size on disk
    note: str = ""

    def _median(self, values: Sequence[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        if not known or len(known) < len(values):
            return None
        return statistics.median(known)

    @property
    def first_render_s(self) -> float | None:
        return self._median([ld.first_render_s for ld in self.loads]) if self.loads else None

    @property
    def cells_s(self) -> float | None:
        return self._median([ld.cells_s for ld in self.loads]) if self.loads else None

    @property
    def html_bytes(self) -> int | None:
        sizes = [ld.html_bytes for ld in self.loads if ld.html_bytes]
        return sizes[-1] if sizes else self.html_file_bytes

    @property
    def page_bytes(self) -> int | None:
        sizes = [ld.page_bytes for ld in self.loads if ld.page_bytes]
        return int(statistics.median(sizes)) if sizes else None


# --------------------------------------------------------------------------- cases


def case_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points uniform inside the community, each with the code of its grid."""
    outline = gpd.read_file(COMMUNITY_PATH).geometry.iloc[0]
    shapely.prepare(outline)
    grids = AreaIndex.from_frame(gpd.read_file(GRIDS_PATH), code_column="code")
    x0, y0, x1, y1 = outline.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    have = 0
    while have < n:
        x = np.round(rng.uniform(x0, x1, 2 * (n - have) + 16), 7)
        y = np.round(rng.uniform(y0, y1, len(x)), 7)
        pos = grids.locate_many(x, y)
        keep = shapely.contains_xy(outline, x, y) & (pos >= 0)
        xs.append(x[keep])
        ys.append(y[keep])
        codes.append(grids.codes_of(pos[keep]))
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n], np.concatenate(codes)[:n]


def case_rows(n: int, seed: int, now: datetime) -> list[dict[str, Any]]:
    """``n`` cases as rows of ``issues``: spread over statuses, categories and half a year."""
    rng = np.random.default_rng(seed)
    lon, lat, grid = case_points(n, rng)
    cats = scaffold.category_codes()
    statuses = [s.value for s, _ in STATUSES]
    shares = np.array([p for _, p in STATUSES])
    status = rng.choice(len(statuses), n, p=shares / shares.sum())
    category = rng.integers(0, len(cats), n)
    description = rng.integers(0, len(DESCRIPTIONS), n)
    channel = rng.integers(0, len(CHANNELS), n)
    age_s = rng.uniform(3600, DAYS * 86400, n)
    since_s = rng.uniform(0, 3 * 86400, n)  # last change after the report
    due_s = rng.uniform(1 * 86400, 10 * 86400, n)  # some open cases are overdue
    points = shapely.points(lon, lat)
    rows = []
    for i in range(n):
        reported = now - timedelta(seconds=float(age_s[i]))
        rows.append(
            {
                "category": cats[category[i]],
                "description": DESCRIPTIONS[description[i]],
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "geom": points[i],
                "input_crs": "wgs84",
                "input_lon": float(lon[i]),
                "input_lat": float(lat[i]),
                "grid_code": str(grid[i]),
                "community_code": str(grid[i])[:12],  # the map asks for its community's
                "channel": CHANNELS[channel[i]],
                "status": statuses[status[i]],
                "reported_at": reported,
                "updated_at": min(now, reported + timedelta(seconds=float(since_s[i]))),
                "file_deadline": reported + timedelta(days=2),
                "due_at": reported + timedelta(seconds=float(due_s[i])),
                "rework_count": 0,
                "version": 1,
            }
        )
    return rows


def insert_cases(database_url: str, rows: Sequence[dict[str, Any]]) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(Issue), list(rows[start : start + CHUNK]))
    finally:
        engine.dispose()


def build_database(database_url: str, n: int) -> int:
    """``gridgov load data`` and ``n`` cases; returns how many cases the database holds."""
    started = time.perf_counter()
    scaffold.load_sample(database_url)
    loaded = time.perf_counter()
    rows = case_rows(n, SEED + n, utcnow())
    made = time.perf_counter()
    insert_cases(database_url, rows)
    done = time.perf_counter()
    total = scaffold.count_issues(database_url)
    print(
        f"{n:,} cases: gridgov load data {fmt_seconds(loaded - started)}, cases made "
        f"{fmt_seconds(made - loaded)}, inserted {fmt_seconds(done - made)}; "
        f"{total:,} cases in the database",
        flush=True,
    )
    return total


# --------------------------------------------------------------------------- naive page


def community_centre() -> tuple[float, float]:
    x0, y0, x1, y1 = gpd.read_file(COMMUNITY_PATH).total_bounds
    return (y0 + y1) / 2, (x0 + x1) / 2


def write_naive(database_url: str, out: str, info: str) -> None:
    """The naive page (runs in a child process): every case a marker in one cluster."""
    import folium
    from folium import plugins

    from layers.assets import localise

    started = time.perf_counter()
    engine = make_engine(database_url)
    with engine.connect() as conn:
        cases = conn.execute(
            select(Issue.lat, Issue.lon, Issue.status, Issue.description).order_by(Issue.id)
        ).all()
    engine.dispose()
    read = time.perf_counter()
    fmap = folium.Map(location=list(community_centre()), zoom_start=16)
    cluster = plugins.MarkerCluster().add_to(fmap)
    for lat, lon, status, description in cases:
        popup = folium.Popup(f"<b>{escape(status)}</b><br>{escape(description)}", max_width=250)
        folium.Marker([lat, lon], popup=popup).add_to(cluster)
    built = time.perf_counter()
    html = localise(fmap.get_root().render())
    rendered = time.perf_counter()
    size = Path(out).write_text(html, encoding="utf-8")
    del html, fmap, cluster
    written = time.perf_counter()
    Path(info).write_text(
        json.dumps(
            {
                "markers": len(cases),
                "read_s": read - started,
                "build_s": built - read,
                "render_s": rendered - built,
                "write_s": written - rendered,
                "total_s": written - started,
                "chars": size,
            }
        )
    )


def naive_page(database_url: str, folder: Path, n: int, cap_s: float) -> tuple[str | None, str]:
    """Write the naive page in a child process; its file name, or None and why not.

    A writer that runs past ``cap_s`` is stopped and the baseline reported as
    capped; a writer that breaks fails the run, which would otherwise have no
    baseline to compare with.
    """
    name = f"naive-{n}.html"
    info = folder / f"naive-{n}.json"
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=write_naive, args=(database_url, str(folder / name), str(info)))
    started = time.perf_counter()
    child.start()
    child.join(cap_s)
    if child.is_alive():
        child.terminate()
        child.join()
        return None, f"writing the page took > {cap_s:.0f} s (stopped)"
    if child.exitcode != 0 or not info.exists():
        raise RuntimeError(
            f"{n:,} cases: writing the naive page failed (exit code {child.exitcode}); "
            "its error is above"
        )
    facts = json.loads(info.read_text())
    size = (folder / name).stat().st_size
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest child so far
    print(
        f"{n:,} cases: naive page written in {fmt_seconds(time.perf_counter() - started)} "
        f"(child process: read {fmt_seconds(facts['read_s'])}, folium objects "
        f"{fmt_seconds(facts['build_s'])}, render + localise {fmt_seconds(facts['render_s'])}, "
        f"write {fmt_seconds(facts['write_s'])}; peak RSS of the largest writer so far "
        f"{peak_kb / 1e6:,.1f} GB); {facts['markers']:,} markers, {size / 1e6:,.1f} MB",
        flush=True,
    )
    return name, f"written by folium in {fmt_seconds(facts['total_s'])}"


# --------------------------------------------------------------------------- browser


def settle(page: Any, base: str, load: Load, timeout_ms: float) -> None:
    """Wait for the network to go quiet, then count what came from the server."""
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    entries = page.evaluate(ENTRIES, base)
    load.entries = entries
    load.html_bytes = int(entries[0]["body"])
    load.page_bytes = int(sum(e["transfer"] for e in entries))
    load.requests = len(entries)


def show_every_case(page: Any, timeout_ms: float) -> None:
    """Choose "all" in the map's status filter (it opens on open cases), so that its
    counts can be held against every case in the database, as the naive page shows."""
    before = page.evaluate("window.gridgovState.fetches")
    # set in the page: at this width the dock starts folded, and a folded select can't be
    # clicked
    page.evaluate(
        "() => { const s = document.querySelector('#gg-filters select[name=status]');"
        " s.value = 'all'; s.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    page.wait_for_function(f"window.gridgovState.fetches > {before}", timeout=timeout_ms)


def zoom_to(page: Any, map_name: str, zoom: int, timeout_ms: float) -> float:
    """setZoom, then wait until fresh counts per square are drawn; returns the seconds."""
    before = page.evaluate("window.gridgovState.fetches")
    started = time.perf_counter()
    # void: setZoom returns the map, which Playwright would try to serialise
    page.evaluate(f"void window['{map_name}'].setZoom({zoom})")
    page.wait_for_function(
        f"window.gridgovState.mode === 'cells' && window.gridgovState.fetches > {before} && "
        "document.querySelector('.gg-cell') !== null",
        timeout=timeout_ms,
    )
    return time.perf_counter() - started


def load_gridgov(browser: Any, base: str, expected: int | None, timeout_s: float) -> Load:
    """One load of ``/``; with ``expected``, also check the counts per square at zoom 13."""
    timeout_ms = timeout_s * 1e3
    with scaffold.local_page(browser, base, viewport=VIEWPORT) as (page, watch):
        page.add_init_script(RESOURCE_BUFFER)
        started = time.perf_counter()
        page.goto(base + "/?lang=zh", wait_until="commit", timeout=timeout_ms)
        page.wait_for_function(GRIDGOV_DRAWN, timeout=timeout_ms)
        load = Load(time.perf_counter() - started)
        settle(page, base, load, timeout_ms)
        load.shown = int(page.evaluate("Object.keys(window.gridgovState.byId).length"))
        map_name = page.evaluate(MAP_NAME)
        load.cells_s = zoom_to(page, map_name, 14, timeout_ms)
        if expected is not None:
            show_every_case(page, timeout_ms)
            zoom_to(page, map_name, 13, timeout_ms)
            total = int(page.evaluate(CELL_SUM))
            squares = int(page.evaluate("document.querySelectorAll('.gg-cell').length"))
            if total != expected:
                raise scaffold.CheckFailed(
                    f"{expected:,} cases: gridgov's map at zoom 13 counts {total:,} cases in "
                    f"its {squares:,} squares; the database holds {expected:,}"
                )
            print(f"  gridgov: at zoom 13, {squares:,} squares counting {total:,} cases (all)")
        watch.check(GRIDGOV)
    return load


def load_naive(browser: Any, base: str, url: str, expected: int | None, cap_s: float) -> Load:
    """One load of the naive page; ``first_render_s`` is None when not drawn within the cap."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with scaffold.local_page(browser, base, viewport=VIEWPORT) as (page, watch):
        page.add_init_script(RESOURCE_BUFFER)
        started = time.perf_counter()
        try:
            page.goto(url, wait_until="commit", timeout=cap_s * 1e3)
            left = cap_s - (time.perf_counter() - started)
            page.wait_for_function(NAIVE_DRAWN, timeout=max(left, 0.001) * 1e3)
        except PlaywrightTimeout:
            return Load(None)
        first = time.perf_counter() - started
        load = Load(first)
        left = cap_s - first
        try:
            settle(page, base, load, max(left, 1.0) * 1e3)
        except PlaywrightTimeout:
            print("  NOTICE: naive page: network not quiet within the cap; bytes not counted")
        cluster = "Object.keys(window).find(k => k.startsWith('marker_cluster_'))"
        load.shown = int(page.evaluate(f"window[{cluster}].getLayers().length"))
        if expected is not None and load.shown != expected:
            raise scaffold.CheckFailed(
                f"{expected:,} cases: the naive page's cluster holds {load.shown:,} markers; "
                f"the database holds {expected:,} cases"
            )
        watch.check(NAIVE)
    return load


def api_summary(load: Load) -> str:
    """The API answers of one load: size and time until the answer started."""
    parts = []
    for e in load.entries:
        if "/api/" not in e["name"]:
            continue
        path = e["name"].split("/api/v1", 1)[1]
        short = path.split("&")[0] if path.startswith("/stats") else path.split("?")[0]
        parts.append(f"{short} {e['transfer'] / 1e3:,.0f} KB, wait {e['wait']:,.0f} ms")
    return "; ".join(parts)


def describe(target: Target, load: Load) -> str:
    first = "> cap" if load.first_render_s is None else fmt_seconds(load.first_render_s)
    text = f"  {target.name}: first render {first}"
    if load.page_bytes:
        text += (
            f", document {load.html_bytes / 1e3:,.0f} KB (server wait "
            f"{load.entries[0]['wait']:,.0f} ms), {load.requests} requests "
            f"{load.page_bytes / 1e3:,.0f} KB"
        )
    if load.cells_s is not None:
        text += f", zoomed-out squares {fmt_seconds(load.cells_s)}"
    if load.shown is not None:
        what = "cases loaded at zoom 16" if target.name == GRIDGOV else "markers in the cluster"
        text += f", {load.shown:,} {what}"
    return text


# --------------------------------------------------------------------------- bench


def bench_count(browser: Any, n: int, sizes: Sizes, work: Path) -> list[Target]:
    from fastapi.staticfiles import StaticFiles

    from api.app import create_app
    from service.settings import Settings

    folder = work / f"n{n}"
    folder.mkdir()
    url = scaffold.sqlite_url(folder)
    total = build_database(url, n)
    gridgov, naive = Target(n, GRIDGOV), Target(n, NAIVE)
    name, naive.note = naive_page(url, folder, n, sizes.write_cap_s)
    if name is None:
        naive.capped = naive.note
        print(f"{n:,} cases: naive page: {naive.note}")
    else:
        naive.html_file_bytes = (folder / name).stat().st_size
    settings = Settings(database_url=url, var_dir=folder / "var", vendor_dir=scaffold.vendor_dir())
    app = create_app(settings)
    app.mount("/naive", StaticFiles(directory=folder), name="naive")
    try:
        with scaffold.serve_app(app) as base:
            # the first request to the API builds the community's areas: not measured
            scaffold.warm_up(base, "/?lang=zh", "/api/v1/issues?limit=1")
            naive_spent = 0.0
            for attempt in range(sizes.runs):
                last = attempt == sizes.runs - 1
                load = load_gridgov(browser, base, total if last else None, sizes.load_cap_s)
                gridgov.loads.append(load)
                print(describe(gridgov, load), flush=True)
                if last:
                    print(f"  gridgov API answers (last load): {api_summary(load)}")
                if name is None or naive.capped:
                    continue
                if attempt > 0 and naive_spent > REPEAT_BUDGET_S:
                    continue
                started = time.perf_counter()
                load = load_naive(
                    browser,
                    base,
                    f"{base}/naive/{name}",
                    total if attempt == 0 else None,
                    sizes.load_cap_s,
                )
                naive_spent += time.perf_counter() - started
                if load.first_render_s is None:
                    naive.capped = f"not drawn within {sizes.load_cap_s:.0f} s"
                    naive.cap_s = sizes.load_cap_s
                    print(f"  {NAIVE}: {naive.capped}", flush=True)
                    continue
                naive.loads.append(load)
                print(describe(naive, load), flush=True)
            if naive.loads and len(naive.loads) < sizes.runs and not naive.capped:
                naive.note += (
                    f"; {len(naive.loads)} load(s) only: the loads took "
                    f"{fmt_seconds(naive_spent)} (> {REPEAT_BUDGET_S:.0f} s budget)"
                )
    finally:
        app.state.engine.dispose()
    if not naive.loads and not naive.capped:
        naive.capped = "no load"
    return [gridgov, naive]


# --------------------------------------------------------------------------- report


def kb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e3:,.0f}"


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return fmt_ratio(a / b)


def html_ratio(t: Target, targets: Sequence[Target]) -> str:
    """The naive page's HTML over gridgov's at the same case count."""
    if t.name == GRIDGOV:
        return "-"
    return ratio(t.html_bytes, gridgov_at(t.cases, targets).html_bytes)


def first_render_ratio(t: Target, targets: Sequence[Target]) -> str:
    """The naive page's first render over gridgov's (a lower bound when it was capped)."""
    if t.name == GRIDGOV:
        return "-"
    ours = gridgov_at(t.cases, targets).first_render_s
    if t.cap_s is not None:  # not drawn within the cap
        return "> " + ratio(t.cap_s, ours)
    return ratio(t.first_render_s, ours)


def gridgov_at(cases: int, targets: Sequence[Target]) -> Target:
    return next(g for g in targets if g.cases == cases and g.name == GRIDGOV)


def results_table(targets: Sequence[Target]) -> str:
    def first_render(t: Target) -> str:
        if t.name != GRIDGOV and t.cap_s is not None:  # not drawn within the cap
            return f"> {t.cap_s * 1e3:,.0f}"
        return ms(t.first_render_s)

    return column_table(
        targets,
        {
            "cases": lambda t: f"{t.cases:,}",
            "target": lambda t: t.name,
            "HTML KB": lambda t: kb(t.html_bytes),
            "page bytes KB": lambda t: kb(t.page_bytes),
            "first render ms (median)": first_render,
            "zoomed-out cells ms": lambda t: ms(t.cells_s) if t.name == GRIDGOV else "-",
            "loads": lambda t: f"{len(t.loads)}",
            "HTML naive / gridgov": lambda t: html_ratio(t, targets),
            "first render naive / gridgov": lambda t: first_render_ratio(t, targets),
        },
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "mappage",
        "The managers' map page with many cases against a naive folium map.",
        f"{', '.join(f'{n:,}' for n in QUICK.counts)} cases, one load each",
    )
    parser.add_argument(
        "--cases",
        type=lambda text: tuple(scaffold.positive_int(v) for v in text.split(",")),
        metavar="N,N",
        help="case counts (default 1000,100000)",
    )
    parser.add_argument(
        "--runs", type=scaffold.positive_int, metavar="R", help="page loads per target (default 3)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, counts=args.cases, runs=args.runs)
    targets: list[Target] = []
    with scaffold.chromium() as browser:
        scaffold.banner(
            "Map page benchmark: gridgov's live map against a naive folium map",
            scaffold.page_environment(browser),
            f"mode {scaffold.mode(args.quick)}; cases {', '.join(f'{n:,}' for n in sizes.counts)}; "
            f"{sizes.runs} page load(s) per target, each in a fresh browser context (viewport "
            "1280x800, requests not to the local server aborted); naive page capped at "
            f"{sizes.write_cap_s:.0f} s to write and {sizes.load_cap_s:.0f} s to draw; seed {SEED}",
        )
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-mappage-") as tmp:
            for n in sizes.counts:
                targets += bench_count(browser, n, sizes, Path(tmp))

    scaffold.section(
        "Map page: first render (goto until drawn) and bytes from the server (median of the loads)",
        results_table(targets),
    )
    print()
    for t in targets:
        if t.name == NAIVE and (t.note or t.capped):
            print(f"- {t.cases:,} cases, naive page: {t.capped or t.note}")
    scaffold.footer(started)
    scaffold.ratios(
        *(
            f"naive / gridgov at {t.cases:,} cases: HTML {html_ratio(t, targets)}, "
            f"first render {first_render_ratio(t, targets)}"
            for t in targets
            if t.name == NAIVE
        )
    )


if __name__ == "__main__":
    scaffold.run(main)
