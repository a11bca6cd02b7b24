"""Maps without tiles: the report, case and planner pages draw the community from
gridgov's own layers when nothing outside answers (an intranet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    ARTIFACTS,
    GOOD_REPORT,
    SHIMAO,
    offline_page,
    serving,
    vendor_modules,
    wait_for_js,
    watch_csp,
)

GROUND = ".leaflet-gg-ground-pane"  # buildings and streets, under the tiles
LINES = ".leaflet-gg-lines-pane"  # the outline and grids, over the tiles
# how many paths each of the basemap's panes draws
PATHS = (
    "[document.querySelectorAll('" + GROUND + " path').length,"
    " document.querySelectorAll('" + LINES + " path').length]"
)


def watched(page: Any) -> tuple[list[str], Callable[[], list[str]]]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors, watch_csp(page)


def drawn(page: Any, at_least: tuple[int, int]) -> list[int]:
    """Wait until both panes hold at least so many paths; their counts."""
    ground, lines = at_least
    counts: list[int] = wait_for_js(
        page, f"(function(c){{return c[0] >= {ground} && c[1] >= {lines} && c}})({PATHS})"
    )
    return counts


def keep(page: Any, name: str) -> None:
    """A screenshot of the page without tiles, in ``artifacts/no-tiles/``."""
    folder = ARTIFACTS / "no-tiles"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def below_overlays(page: Any) -> bool:
    """Whether the ground lies under the tiles, and the lines over the tiles and under
    every overlay (Leaflet's tile pane at 200, overlays from 400)."""
    z = page.evaluate(
        "["
        + ",".join(
            f"+getComputedStyle(document.querySelector('{s}')).zIndex"
            for s in (GROUND, ".leaflet-tile-pane", LINES, ".leaflet-overlay-pane")
        )
        + "]"
    )
    ground, tiles, lines, overlays = z
    return bool(ground < tiles < lines < overlays)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_page_reads_without_tiles_on_a_phone(
    browser: Any, _playwright: Any, settings: Any, lang: str
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    profile = {
        k: v for k, v in _playwright.devices["Pixel 5"].items() if k != "default_browser_type"
    }
    with serving(app) as base:
        page, outside = offline_page(
            browser,
            base,
            **profile,
            locale="zh-CN",
            permissions=["geolocation"],
            geolocation={"longitude": SHIMAO[0], "latitude": SHIMAO[1]},
        )
        errors, violations = watched(page)
        page.goto(f"{base}/report?lang={lang}", wait_until="load")
        ground, lines = drawn(page, (2, 23))  # streets (casing, white); outline + 22 grids
        assert below_overlays(page)
        labels = page.locator(".gg-bm-label")
        assert labels.count() == 22
        assert sorted(labels.all_inner_texts())[:2] == ["001", "002"]
        # buildings from zoom 16 (the page opens at 16): a third layer of the ground
        assert page.evaluate(f"document.querySelectorAll('{GROUND} svg g path').length") >= 3
        page.evaluate("window.gridgovReportState && 0")  # the page's own script ran
        page.locator(".gg-locate").tap()
        wait_for_js(page, "window.gridgovReportState.inside === true")
        # the pin's community is already drawn: nothing is drawn twice
        assert drawn(page, (ground, lines)) == [ground, lines]
        keep(page, f"report-{lang}")
        assert errors == [] and violations() == []
        assert outside  # the tiles were asked for, and refused
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_the_case_page_reads_without_tiles(browser: Any, settings: Any) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    case_id = TestClient(app).post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    with serving(app) as base:
        page, _ = offline_page(
            browser, base, viewport={"width": 1440, "height": 900}, locale="zh-CN"
        )
        errors, violations = watched(page)
        page.goto(f"{base}/issues/{case_id}", wait_until="load")
        drawn(page, (3, 23))  # buildings at zoom 18, streets; the outline and grids
        assert below_overlays(page)
        # the case's marker is an overlay, over the basemap
        assert page.locator(".leaflet-overlay-pane path").count() == 1
        assert page.locator(".gg-bm-label").count() == 0  # numbers only on the report page
        keep(page, "case-zh")
        assert errors == [] and violations() == []
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_the_planner_page_reads_without_tiles(browser: Any, settings: Any) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        errors, violations = watched(page)
        page.goto(f"{base}/planning/parking?lang=en", wait_until="load")
        drawn(page, (2, 23))
        assert below_overlays(page)
        keep(page, "parking-en")
        assert errors == [] and violations() == []
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_a_street_draws_the_community_of_the_case(browser: Any, street: str, tmp_path: Any) -> None:
    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import GAOTANG_CODE

    vendor_modules()
    app = create_app(Settings(database_url=street, var_dir=tmp_path / "var"))
    there = {**GOOD_REPORT, "lon": GOOD_REPORT["lon"] + 0.05}  # the same spot in Gaotang
    case = TestClient(app).post("/api/v1/issues", json=there).json()
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/basemap" in r.url else None)
        page.goto(f"{base}/issues/{case['id']}", wait_until="load")
        drawn(page, (3, 23))
        assert len(asked) == 1 and "area=" + GAOTANG_CODE in asked[0]
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_follow_page_shows_where_the_case_is(
    browser: Any, _playwright: Any, settings: Any, lang: str
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    case_id = TestClient(app).post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    profile = {
        k: v for k, v in _playwright.devices["Pixel 5"].items() if k != "default_browser_type"
    }
    with serving(app) as base:
        page, outside = offline_page(browser, base, **profile)
        errors, violations = watched(page)
        page.goto(f"{base}/report/{case_id}?lang={lang}", wait_until="load")
        sketch = page.locator("svg.gg-sketch")
        box = sketch.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert sketch.locator("path").count() > 10 and sketch.locator("circle").count() == 1
        keep(page, f"follow-{lang}")
        assert errors == [] and violations() == [] and outside == []
        page.close()
    app.state.engine.dispose()
