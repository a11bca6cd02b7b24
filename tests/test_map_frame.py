"""What every map carries: a metric-only scale bar and a credit in the page's language,
without Leaflet's flag."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import GOOD_REPORT, offline_page, vendor_modules, wait_for_js


@pytest.mark.browser
def test_every_map_has_a_metric_scale_and_a_credit_in_its_language(
    browser: Any, live_server: str
) -> None:
    import httpx

    vendor_modules()
    case = httpx.post(live_server + "/api/v1/issues", json=GOOD_REPORT).json()["id"]
    pages = ["/", "/?area=330206002016", "/report", f"/issues/{case}", "/planning/parking"]
    page, outside = offline_page(browser, live_server)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for lang, credit, osm in (
        ("zh", "gridgov 网格治理地图", "© OpenStreetMap 贡献者"),
        ("en", "gridgov grid governance map", "© OpenStreetMap contributors"),
    ):
        for path in pages:
            url = live_server + path + ("&" if "?" in path else "?") + f"lang={lang}"
            page.goto(url, wait_until="load")
            wait_for_js(page, "document.querySelector('.leaflet-control-scale') !== null")
            scale = page.locator(".leaflet-control-scale-line").all_inner_texts()
            assert len(scale) == 1 and scale[0].endswith(("m", "km")), (url, scale)
            attribution = page.locator(".leaflet-control-attribution").inner_text()
            assert credit in attribution and osm in attribution, (url, attribution)
            assert "Leaflet" not in attribution, (url, attribution)
            assert page.locator(".leaflet-control-attribution svg").count() == 0  # the flag
    page.close()
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside), outside
