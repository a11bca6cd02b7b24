"""Benchmark: the phone report page ``/report`` on a slow phone network.

Residents open ``/report`` on their phones, often on a poor mobile connection, so
the page should be light and draw quickly.  This measures, in headless Chromium
(Playwright, Debian's ``/usr/bin/chromium``) in a phone context (viewport 375x667,
``is_mobile``, ``has_touch``), over a database loaded with the Lingxiao sample
(``gridgov load data``):

- the page's weight: bytes transferred for the document and everything it loads
  from the server (scripts, stylesheets, API JSON, images), from the Chrome
  DevTools Protocol (``Network.loadingFinished`` ``encodedDataLength``: body as
  sent, gzip when the answer is over 2 KB, plus headers), and the uncompressed
  bodies (sum of ``Network.dataReceived`` ``dataLength``).  Requests to other
  hosts (map tiles) are aborted and not counted;
- DOMContentLoaded and the first render, from navigation start (in-page
  ``performance.now()``): ``/report`` has drawn when its 16 category buttons
  (``.gg-cat``) are there, which needs the document, Leaflet and
  gridgov-report.js (the document carries the category catalogue);

under Chrome DevTools' "Fast 3G" preset (``Network.emulateNetworkConditions``:
562.5 ms latency, 1.6 Mbit/s x 0.9 down, 750 kbit/s x 0.9 up) and unthrottled.
Each load is a fresh browser context with the cache disabled; the median of the
loads is reported.  The baseline is the grid managers' map page ``/`` under the
same profiles (drawn when ``window.gridgovState.fetches > 0``), and the table
gives ``/`` over ``/report`` for the bytes and the first render.  ``/report`` is
also loaded with its basemap (``/api/v1/basemap``, the community drawn without tiles)
refused, as it was before it had one, and the run prints what the basemap adds.  Targets for
``/report`` (printed, never judged): under 500 KB transferred and first render
under 2 s on Fast 3G.  The run fails when a page throws script errors.

Run with ``python -m bench.reportpage`` (``--quick``: one load each, Fast 3G
only).  It needs Playwright, Chromium and the map assets; without them it is
skipped (exit status 77), or fails under ``GRIDGOV_STRICT=1``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import _scaffold as scaffold
from bench._timing import column_table, fmt_ratio, fmt_seconds

PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# Chrome DevTools' "Fast 3G" preset (front_end/core/sdk/NetworkManager.ts)
FAST_3G = {
    "offline": False,
    "latency": 150 * 3.75,  # ms
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,  # bytes/s
    "uploadThroughput": 750 * 1000 / 8 * 0.9,  # bytes/s
}
FAST, UNTHROTTLED = "Fast 3G", "unthrottled"
PROFILES: dict[str, dict[str, Any] | None] = {FAST: FAST_3G, UNTHROTTLED: None}
CATEGORIES = 16  # category buttons of the sample (data/categories.csv)

REPORT, BARE, MAP = "/report", "/report, no basemap", "/"
PAGES = {
    REPORT: ("/report?lang=zh", f"document.querySelectorAll('.gg-cat').length >= {CATEGORIES}"),
    BARE: ("/report?lang=zh", f"document.querySelectorAll('.gg-cat').length >= {CATEGORIES}"),
    MAP: ("/?lang=zh", "window.gridgovState && window.gridgovState.fetches > 0"),
}
# what a page row is loaded without: /report as it was before it drew its community
# without tiles, to weigh the basemap against it in the same run
BLOCKED = {BARE: "/api/v1/basemap"}
TARGET_BYTES = 500_000
TARGET_RENDER_S = 2.0
CAP_S = 180.0  # one page load gives up after this


@dataclass(frozen=True)
class Sizes:
    runs: int  # page loads per page and profile; the median is reported
    profiles: tuple[str, ...]


FULL = Sizes(runs=3, profiles=(FAST, UNTHROTTLED))
# quick: the profile the targets are set for; the unthrottled loads add little to a smoke run
QUICK = Sizes(runs=1, profiles=(FAST,))


@dataclass
class Load:
    """One page load in a fresh browser context."""

    dcl_s: float
    first_render_s: float
    transferred: int  # encodedDataLength, headers included
    uncompressed: int  # decoded bodies
    by_type: dict[str, tuple[int, int, int]]  # resource type: requests, transferred, decoded


@dataclass
class Result:
    page: str
    profile: str
    loads: list[Load] = field(default_factory=list)

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(ld, name) for ld in self.loads))


# --------------------------------------------------------------------------- browser


class Traffic:
    """What the page fetched from ``base``, from the CDP Network events."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.urls: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.decoded: dict[str, int] = {}
        self.encoded: dict[str, int] = {}
        self.failed: set[str] = set()

    def attach(self, cdp: Any) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", lambda e: self.failed.add(e["requestId"]))

    def _sent(self, e: dict[str, Any]) -> None:
        if e["request"]["url"].startswith(self.base + "/"):
            self.urls[e["requestId"]] = e["request"]["url"]
            self.types[e["requestId"]] = e.get("type", "Other")

    def _data(self, e: dict[str, Any]) -> None:
        rid = e["requestId"]
        if rid in self.urls:
            self.decoded[rid] = self.decoded.get(rid, 0) + int(e["dataLength"])

    def _finished(self, e: dict[str, Any]) -> None:
        if e["requestId"] in self.urls:
            self.encoded[e["requestId"]] = int(e["encodedDataLength"])

    def pending(self) -> int:
        return len(set(self.urls) - set(self.encoded) - self.failed)

    def summary(self) -> tuple[int, int, dict[str, tuple[int, int, int]]]:
        by_type: dict[str, tuple[int, int, int]] = {}
        for rid, enc in self.encoded.items():
            n, t, d = by_type.get(self.types[rid], (0, 0, 0))
            by_type[self.types[rid]] = (n + 1, t + enc, d + self.decoded.get(rid, 0))
        total = sum(self.encoded.values())
        return total, sum(self.decoded.get(rid, 0) for rid in self.encoded), by_type


@contextmanager
def phone_page(
    browser: Any, base: str, conditions: dict[str, Any] | None
) -> Iterator[tuple[Any, Traffic, scaffold.LocalOnly]]:
    """A phone page in a fresh context, cache disabled, throttled with ``conditions``,
    that may reach only ``base``; also its traffic and its watch."""
    with scaffold.local_page(browser, base, **PHONE) as (page, watch):
        cdp = page.context.new_cdp_session(page)
        traffic = Traffic(base)
        traffic.attach(cdp)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if conditions is not None:
            cdp.send("Network.emulateNetworkConditions", conditions)
        yield page, traffic, watch


def quiet(page: Any, traffic: Traffic, timeout_s: float) -> None:
    """Wait until every request to the server has finished and none started for 1 s."""
    deadline = time.perf_counter() + timeout_s
    seen, since = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        page.wait_for_timeout(250)  # lets Playwright dispatch the CDP events
        now = len(traffic.urls)
        if now != seen or traffic.pending():
            seen, since = now, time.perf_counter()
        elif time.perf_counter() - since >= 1.0:
            return
    print(f"  NOTICE: requests still pending after {timeout_s:.0f} s; bytes so far counted")


def load_page(browser: Any, base: str, page_name: str, profile: str) -> Load:
    path, drawn = PAGES[page_name]
    # the first time the condition holds, in ms since navigation start
    probe = f"() => {{ if ({drawn}) {{ window.__ggDrawn ??= performance.now(); return true; }} }}"
    with phone_page(browser, base, PROFILES[profile]) as (page, traffic, watch):
        if page_name in BLOCKED:  # matched before the local-only rule, added earlier
            page.route(re.compile("^" + re.escape(base + BLOCKED[page_name])), _abort)
        page.goto(base + path, wait_until="commit", timeout=CAP_S * 1e3)
        page.wait_for_function(probe, timeout=CAP_S * 1e3)
        page.wait_for_load_state("domcontentloaded", timeout=CAP_S * 1e3)
        first_ms = float(page.evaluate("window.__ggDrawn"))
        dcl_ms = float(
            page.evaluate(
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventStart"
            )
        )
        quiet(page, traffic, CAP_S)
        transferred, uncompressed, by_type = traffic.summary()
        watch.check(f"{page_name} ({profile})")
    return Load(dcl_ms / 1e3, first_ms / 1e3, transferred, uncompressed, by_type)


def _abort(route: Any) -> None:
    route.abort()


def describe(result: Result, load: Load) -> str:
    parts = ", ".join(
        f"{kind} {n} × {t / 1e3:,.1f} KB ({d / 1e3:,.1f} KB)"
        for kind, (n, t, d) in sorted(load.by_type.items(), key=lambda kv: -kv[1][1])
    )
    return (
        f"  {result.page} ({result.profile}): DOMContentLoaded {fmt_seconds(load.dcl_s)}, "
        f"first render {fmt_seconds(load.first_render_s)}, {load.transferred / 1e3:,.1f} KB "
        f"transferred ({load.uncompressed / 1e3:,.1f} KB uncompressed): {parts}"
    )


# --------------------------------------------------------------------------- report


def over_report(result: Result, results: Sequence[Result], name: str) -> str:
    """``/``'s median of ``name`` over ``/report``'s on the same profile ("-" for ``/report``)."""
    if result.page == REPORT:
        return "-"
    report = next(r for r in results if r.page == REPORT and r.profile == result.profile)
    return fmt_ratio(result.median(name) / report.median(name))


def results_table(results: Sequence[Result]) -> str:
    return column_table(
        results,
        {
            "page": lambda r: f"`{r.page}`",
            "profile": lambda r: r.profile,
            "KB transferred": lambda r: f"{r.median('transferred') / 1e3:,.1f}",
            "KB uncompressed": lambda r: f"{r.median('uncompressed') / 1e3:,.1f}",
            "DOMContentLoaded ms": lambda r: f"{r.median('dcl_s') * 1e3:,.0f}",
            "first render ms": lambda r: f"{r.median('first_render_s') * 1e3:,.0f}",
            "loads": lambda r: f"{len(r.loads)}",
            "KB transferred / /report": lambda r: over_report(r, results, "transferred"),
            "first render / /report": lambda r: over_report(r, results, "first_render_s"),
        },
    )


def basemap_weight(results: Sequence[Result]) -> list[str]:
    """What the basemap adds to /report on each profile: without it, with it."""
    lines = []
    for bare in (r for r in results if r.page == BARE):
        full = next(r for r in results if r.page == REPORT and r.profile == bare.profile)
        before, after = bare.median("transferred"), full.median("transferred")
        lines.append(
            f"/report on {bare.profile}: {before / 1e3:,.1f} KB without the basemap, "
            f"{after / 1e3:,.1f} KB with it (+{(after - before) / 1e3:,.1f} KB)"
        )
    return lines


def verdict(results: Sequence[Result]) -> str:
    report = next(r for r in results if r.page == REPORT and r.profile == FAST)
    size, first = report.median("transferred"), report.median("first_render_s")
    size_ok, first_ok = size < TARGET_BYTES, first < TARGET_RENDER_S
    met = "MET" if size_ok and first_ok else "NOT MET"
    return (
        f"targets for /report on Fast 3G {met}: {size / 1e3:,.1f} KB transferred "
        f"({'<' if size_ok else '>='} {TARGET_BYTES / 1e3:,.0f} KB), first render "
        f"{first * 1e3:,.0f} ms ({'<' if first_ok else '>='} {TARGET_RENDER_S * 1e3:,.0f} ms)"
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "reportpage",
        "The phone report page's weight and first render on Fast 3G.",
        "one load per row, Fast 3G only",
    )
    parser.add_argument(
        "--runs", type=scaffold.positive_int, metavar="R", help="page loads per row (default 3)"
    )
    return parser.parse_args(argv)


def measure(browser: Any, url: str, var_dir: Path, sizes: Sizes, quick: bool) -> list[Result]:
    """Serve gridgov over the loaded database ``url`` and load each page on each profile."""
    from api.app import create_app
    from service.settings import Settings

    results = [Result(page, profile) for profile in sizes.profiles for page in PAGES]
    app = create_app(Settings(database_url=url, var_dir=var_dir, vendor_dir=scaffold.vendor_dir()))
    try:
        with scaffold.serve_app(app) as base:
            # the first request to the API builds the community's areas: not measured
            scaffold.warm_up(base, "/?lang=zh", "/api/v1/issues?limit=1", PAGES[REPORT][0])
            scaffold.banner(
                f"Report page benchmark: /report on a phone, {' and '.join(sizes.profiles)}",
                scaffold.page_environment(browser),
                f"mode {scaffold.mode(quick)}; {sizes.runs} load(s) per row, each in a fresh "
                "phone context (375x667, mobile, touch), cache disabled, requests not to the "
                f"local server aborted; profiles {', '.join(sizes.profiles)}; Fast 3G = "
                f"{FAST_3G['latency']} ms latency, {FAST_3G['downloadThroughput']:,.0f} B/s "
                f"down, {FAST_3G['uploadThroughput']:,.0f} B/s up (CDP emulation)",
            )
            for _ in range(sizes.runs):  # interleaved, so drift hits every row alike
                for result in results:
                    load = load_page(browser, base, result.page, result.profile)
                    result.loads.append(load)
                    print(describe(result, load), flush=True)
    finally:
        app.state.engine.dispose()
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, runs=args.runs)
    with (
        tempfile.TemporaryDirectory(prefix="gridgov-bench-reportpage-") as tmp,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        url = scaffold.sqlite_url(Path(tmp))
        # set-up only: gridgov load (a process of its own) runs while Chromium starts and
        # the app's modules are imported; the app is built, and anything measured, after it
        loading = pool.submit(scaffold.load_sample, url)
        with scaffold.chromium() as browser:
            importlib.import_module("api.app")
            loading.result()
            results = measure(browser, url, Path(tmp) / "var", sizes, args.quick)

    scaffold.section(
        "Report page against the map page (median of the loads)", results_table(results)
    )
    scaffold.footer(started)
    print(verdict(results))
    for line in basemap_weight(results):
        print(line)
    scaffold.ratios(
        *(
            f"/ over /report on {r.profile}: KB transferred "
            f"{over_report(r, results, 'transferred')}, first render "
            f"{over_report(r, results, 'first_render_s')}"
            for r in results
            if r.page == MAP
        )
    )


if __name__ == "__main__":
    scaffold.run(main)
