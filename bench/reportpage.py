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
  (``.gg-cat``) are there, which needs the document, Leaflet, gridgov-report.js and
  ``/api/v1/categories``;

under Chrome DevTools' "Fast 3G" preset (``Network.emulateNetworkConditions``:
562.5 ms latency, 1.6 Mbit/s x 0.9 down, 750 kbit/s x 0.9 up) and unthrottled.
Each load is a fresh browser context with the cache disabled; the median of the
loads is reported.  The baseline is the grid managers' map page ``/`` under the
same profiles (drawn when ``window.gridgovState.fetches > 0``).  Targets for
``/report`` (printed, never asserted): under 500 KB transferred and first render
under 2 s on Fast 3G.

Run with ``python -m bench.reportpage`` (``--quick`` for one load each).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._timing import fmt_seconds, markdown_table
from bench.intake import load_sample
from bench.mappage import (
    CHROMIUM,
    CHROMIUM_ARGS,
    check_outside,
    serving,
    vendor_dir,
    versions,
    warm_up,
)

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
PROFILES: dict[str, dict[str, Any] | None] = {"Fast 3G": FAST_3G, "unthrottled": None}
CATEGORIES = 16  # category buttons of the sample (data/categories.csv)

REPORT, MAP = "/report", "/"
PAGES = {
    REPORT: ("/report?lang=zh", f"document.querySelectorAll('.gg-cat').length >= {CATEGORIES}"),
    MAP: ("/?lang=zh", "window.gridgovState && window.gridgovState.fetches > 0"),
}
TARGET_BYTES = 500_000
TARGET_RENDER_S = 2.0
CAP_S = 180.0  # one page load gives up after this


@dataclass(frozen=True)
class Sizes:
    runs: int  # page loads per page and profile; the median is reported


FULL = Sizes(runs=3)
QUICK = Sizes(runs=1)


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
) -> Iterator[tuple[Any, Traffic, list[str], list[str]]]:
    """A phone page in a fresh context, cache disabled, throttled with ``conditions``,
    that may reach only ``base``; also its traffic, what it tried outside and its errors."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def refuse(r: Any) -> None:
        outside.append(r.request.url)
        r.abort()

    page.route(re.compile("^(?!" + re.escape(base + "/") + ")"), refuse)
    page.on("pageerror", lambda e: errors.append(str(e)))
    cdp = context.new_cdp_session(page)
    traffic = Traffic(base)
    traffic.attach(cdp)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if conditions is not None:
        cdp.send("Network.emulateNetworkConditions", conditions)
    try:
        yield page, traffic, outside, errors
    finally:
        context.close()


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
    with phone_page(browser, base, PROFILES[profile]) as (page, traffic, outside, errors):
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
        check_outside(f"{page_name} ({profile})", outside, errors)
    return Load(dcl_ms / 1e3, first_ms / 1e3, transferred, uncompressed, by_type)


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


def results_table(results: Sequence[Result]) -> str:
    headers = [
        "page",
        "profile",
        "KB transferred",
        "KB uncompressed",
        "DOMContentLoaded ms",
        "first render ms",
        "loads",
    ]
    rows = [
        [
            f"`{r.page}`",
            r.profile,
            f"{r.median('transferred') / 1e3:,.1f}",
            f"{r.median('uncompressed') / 1e3:,.1f}",
            f"{r.median('dcl_s') * 1e3:,.0f}",
            f"{r.median('first_render_s') * 1e3:,.0f}",
            f"{len(r.loads)}",
        ]
        for r in results
    ]
    return markdown_table(headers, rows)


def verdict(results: Sequence[Result]) -> str:
    report = next(r for r in results if r.page == REPORT and r.profile == "Fast 3G")
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
    parser = argparse.ArgumentParser(
        prog="python -m bench.reportpage",
        description="The phone report page's weight and first render on Fast 3G.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: one load each")
    parser.add_argument("--runs", type=int, metavar="R", help="page loads per row (default 3)")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    from api.app import create_app
    from api.settings import Settings

    args = parse_args(argv)
    started = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = Sizes(args.runs)
    vendor = vendor_dir()  # fail early when the map assets are not installed
    results = [Result(page, profile) for profile in PROFILES for page in PAGES]
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-reportpage-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'gridgov.sqlite3'}"
        load_sample(url)
        app = create_app(Settings(database_url=url, var_dir=Path(tmp) / "var", vendor_dir=vendor))
        try:
            with serving()(app) as base, sync_playwright() as p:
                warm_up(base)
                with urllib.request.urlopen(base + PAGES[REPORT][0], timeout=120) as answer:
                    answer.read()
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    print("# Report page benchmark: /report on a phone, Fast 3G and unthrottled")
                    print()
                    print(f"- {versions(browser.version)}")
                    print(
                        f"- load average at the start {os.getloadavg()[0]:.2f} (1 min): other "
                        "work on the machine shares its CPUs"
                    )
                    print(
                        f"- mode {'quick' if args.quick else 'full'}; {sizes.runs} load(s) per "
                        "row, each in a fresh phone context (375x667, mobile, touch), cache "
                        "disabled, requests not to the local server aborted; Fast 3G = "
                        f"{FAST_3G['latency']} ms latency, "
                        f"{FAST_3G['downloadThroughput']:,.0f} B/s down, "
                        f"{FAST_3G['uploadThroughput']:,.0f} B/s up (CDP emulation)"
                    )
                    print()
                    for _ in range(sizes.runs):  # interleaved, so drift hits every row alike
                        for result in results:
                            load = load_page(browser, base, result.page, result.profile)
                            result.loads.append(load)
                            print(describe(result, load), flush=True)
                finally:
                    browser.close()
        finally:
            app.state.engine.dispose()

    print()
    print("## Report page against the map page (median of the loads)")
    print()
    print(results_table(results))
    print()
    load1, load5, _ = os.getloadavg()
    print(
        f"total runtime: {fmt_seconds(time.perf_counter() - started)}; load average at the "
        f"end {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs"
    )
    print(verdict(results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
