"""The planner's parking page and the coverage report command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.helpers import ARTIFACTS, LINKS, XSS, offline_page, vendor_modules, wait_for_js

SHARE = '#gg-parking tr[data-figure="households_covered_share"] .gg-proposed'
MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"


def _rename_p01(sample_dir: Path, loaded_url: str, name: str) -> None:
    from store.db import make_engine
    from store.load import load_folder

    path = sample_dir / "parking.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(loaded_url)
    assert load_folder(engine, sample_dir).ok
    engine.dispose()


def test_page_is_chinese_by_default_english_on_request_and_local_only(api: TestClient) -> None:
    zh = api.get("/planning/parking")
    assert zh.status_code == 200
    assert '<html lang="zh">' in zh.text and "停车覆盖分析 · 黄山豪庭周边" in zh.text
    en = api.get("/planning/parking?lang=en").text
    assert '<html lang="en">' in en and "Parking coverage · around 黄山豪庭" in en
    for url in LINKS.findall(zh.text):
        assert url.startswith(("/vendor/", "/static/")), url
    assert "gridgov-parking.js" in zh.text and "chart.umd.js" in zh.text


def test_report_command_writes_map_figures_and_chart(
    api: TestClient, loaded_url: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    from api.cli import app

    vendor_modules()
    out = tmp_path / "report"
    args = ["coverage", "--radius", "400", "--out", str(out), "--database-url", loaded_url]
    result = CliRunner().invoke(app, [*args, "--suggest", "1"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "coverage.html",
        "coverage.png",
        "figures.csv",
        "figures.json",
        "curve.csv",
        "facilities.csv",
    }
    figures = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    live = api.get(
        "/api/v1/parking/coverage",
        params={"radius_m": 400, "scenario": "planned"},
        headers={"Authorization": f"Bearer {tokens['planner']}"},
    ).json()
    assert figures["figures"] == live["figures"] and figures["before"] == live["before"]
    assert figures["suggestion"]["sites_chosen"] == 1
    assert (out / "coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "coverage.html").read_text(encoding="utf-8")
    assert not LINKS.findall(html), "the report still links files"
    csv = (out / "figures.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0] == "figure,current,proposed"
    assert "households covered within 400 m" in result.output


def test_report_command_names_a_bad_scenario(loaded_url: str, tmp_path: Path) -> None:
    from api.cli import app

    vendor_modules()
    args = ["coverage", "--scenario", "dream", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, [*args, "--database-url", loaded_url])
    assert result.exit_code == 1 and "scenario 'dream'" in result.output


def test_names_in_the_page_cannot_close_its_script(
    api: TestClient, sample_dir: Path, loaded_url: str, tmp_path: Path
) -> None:
    from api.cli import app

    vendor_modules()
    _rename_p01(sample_dir, loaded_url, "</script>" + XSS[1])
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["coverage", "--out", str(out), "--database-url", loaded_url])
    assert result.exit_code == 0, result.output
    html = (out / "coverage.html").read_text(encoding="utf-8")
    assert XSS[1] not in html and "</script><img" not in html


# --- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
def test_planner_signs_in_changes_radius_and_scenario_and_sees_figures_change(
    browser: Any, settings: Any, tokens: dict[str, str], sample_dir: Path, loaded_url: str
) -> None:
    from api.app import create_app
    from tests.helpers import serving

    vendor_modules()
    _rename_p01(sample_dir, loaded_url, XSS[1])
    app = create_app(settings)
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/planning/parking?lang=zh", wait_until="load")
        wait_for_js(
            page, "document.querySelector('#gg-parking .gg-message').textContent.length > 0"
        )
        assert "规划人员令牌" in page.locator("#gg-parking .gg-message").inner_text()
        page.locator("#gg-parking .gg-token").fill(tokens["planner"])
        page.locator("#gg-parking .gg-signin").click()
        ready = "document.getElementById('gg-parking').dataset.ready === '1'"
        wait_for_js(page, ready, timeout=20_000)
        at300 = page.locator(SHARE).inner_text()
        assert at300.endswith("%")
        _check_legible(page)
        drawn = page.locator("path.leaflet-interactive").count()
        assert drawn > 260  # buildings, service areas and facilities
        # slide the radius to 500 m
        page.eval_on_selector(
            "#gg-parking .gg-radius",
            "el => { el.value = '500'; el.dispatchEvent(new Event('input')); }",
        )
        wait_for_js(
            page,
            "document.getElementById('gg-parking').dataset.radius === '500' && " + ready,
            timeout=20_000,
        )
        at500 = page.locator(SHARE).inner_text()
        assert float(at500.rstrip("%")) > float(at300.rstrip("%"))
        assert page.locator(".gg-radius-out").inner_text() == "500"
        # the planned smart lot: the proposal column moves, current stays
        now = page.locator('tr[data-figure="smart_covered_share"] .gg-now').inner_text()
        page.locator("#gg-parking .gg-scenario").select_option("planned")
        wait_for_js(
            page,
            "document.querySelector('tr[data-figure=\"smart_covered_share\"] .gg-change')"
            ".textContent.startsWith('+')",
            timeout=20_000,
        )
        assert page.locator('tr[data-figure="smart_covered_share"] .gg-now').inner_text() == now
        # what-if: add a proposed lot in the western gap, then take P01 out and back
        before_add = page.locator(SHARE).inner_text()
        page.locator("#gg-parking .gg-add").check()
        page.evaluate(
            f"""() => {{ {MAP}.fire('click', {{latlng: L.latLng(29.8949, 121.8245)}}); }}"""
        )
        wait_for_js(
            page,
            f"document.querySelector('{SHARE}').textContent !== '{before_add}' && " + ready,
            timeout=20_000,
        )
        assert float(page.locator(SHARE).inner_text().rstrip("%")) > float(before_add.rstrip("%"))
        assert "已添加 1 处拟建" in page.locator("#gg-parking .gg-changes").inner_text()
        with_new = page.locator(SHARE).inner_text()
        page.evaluate(
            f"""() => {{ {MAP}.eachLayer(l => {{
                 if (l.feature && l.feature.properties.id === 'P01') {{ l.fire('click'); }}
               }}); }}"""
        )
        page.wait_for_selector("#gg-parking .gg-restore")
        wait_for_js(
            page,
            f"document.querySelector('{SHARE}').textContent !== '{with_new}' && " + ready,
            timeout=20_000,
        )
        assert float(page.locator(SHARE).inner_text().rstrip("%")) < float(with_new.rstrip("%"))
        page.locator("#gg-parking .gg-restore").click()
        wait_for_js(
            page,
            f"document.querySelector('{SHARE}').textContent === '{with_new}' && " + ready,
            timeout=20_000,
        )
        page.locator("#gg-parking .gg-add").uncheck()
        # suggested sites appear with their gain
        page.locator("#gg-parking .gg-suggest").click()
        wait_for_js(
            page,
            "document.querySelector('#gg-parking .gg-suggestion').textContent.includes('→')",
            timeout=30_000,
        )
        sites = page.locator("#gg-parking .gg-sites tbody tr")
        assert sites.count() == 2 and "+" in sites.first.inner_text()
        with_sites = page.locator(SHARE).inner_text()
        sites.first.locator(".gg-add-site").click()  # one click puts the site in the plan
        wait_for_js(
            page,
            f"document.querySelector('{SHARE}').textContent !== '{with_sites}' && " + ready,
            timeout=20_000,
        )
        assert "已添加 2 处拟建" in page.locator("#gg-parking .gg-changes").inner_text()
        assert float(page.locator(SHARE).inner_text().rstrip("%")) > float(with_sites.rstrip("%"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "parking-map.png"))
        # the panel folds away to its title, and back
        toggle = page.locator("#gg-parking .gg-toggle")
        toggle.click()
        assert page.locator("#gg-parking table").first.is_hidden()
        assert toggle.inner_text() == "展开" and toggle.get_attribute("aria-expanded") == "false"
        folded = page.locator("#gg-parking").bounding_box()
        assert folded is not None and folded["height"] < 80
        toggle.click()
        assert page.locator("#gg-parking table").first.is_visible()
        # every tooltip open: a facility named with markup shows the markup as text
        page.evaluate(
            f"""() => {{ {MAP}.eachLayer(l => {{
                 if (l.getTooltip && l.getTooltip()) {{ l.openTooltip(); }}
               }}); }}"""
        )
        tooltips = page.locator(".leaflet-tooltip").all_inner_texts()
        assert any(XSS[1] in t for t in tooltips)
        assert page.evaluate("window.pwned") is None
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert page.evaluate(
            "Chart.getChart(document.querySelector('#gg-parking canvas')) !== undefined"
        )
        page.close()
    app.state.engine.dispose()
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside), outside


def _check_legible(page: Any) -> None:
    """Names, not ids; a legend; the facilities in view beside the panel; no clashing
    column names."""
    labels = page.locator(".gg-label").all_inner_texts()
    assert "黄山豪庭" in labels  # the compounds are named on the map
    facilities = page.evaluate(
        f"""() => {{ const out = []; {MAP}.eachLayer(l => {{
             if (l.feature && /^P\\d+$/.test(l.feature.properties.id)) {{
               const p = {MAP}.latLngToContainerPoint(l.getLatLng());
               out.push([l.feature.properties.name, p.x, p.y]); }} }});
           return out; }}"""
    )
    width = page.evaluate(f"{MAP}.getSize().x")
    panel = page.locator("#gg-parking").bounding_box()
    assert facilities and panel is not None
    for name, x, y in facilities:
        assert name in labels  # every facility is labelled with its name
        assert 0 <= x < panel["x"] and y >= 0, (name, x, panel)  # in view, clear of the panel
    assert x < width
    legend = page.locator("#gg-parking .gg-legend li").all_inner_texts()
    assert len(legend) == 9 and "智慧停车场" in legend and "300 米步行范围" in legend
    heads = page.locator("#gg-parking thead th").all_inner_texts()
    assert heads[:4] == ["指标", "调整前", "调整后", "变化"]
    panel_text = page.locator("#gg-parking").inner_text()
    assert "纳入设施" in panel_text and "现状" not in panel_text  # no "方案: 现状" over 现状 | 方案
    page.evaluate(
        f"""() => {{ {MAP}.eachLayer(l => {{
             if (l.feature && l.feature.properties.nearest && l.getTooltip()) {{ l.openTooltip(); }}
           }}); }}"""
    )
    nearest = [t for t in page.locator(".leaflet-tooltip").all_inner_texts() if "最近停车场" in t]
    assert nearest and not any(re.search(r"最近停车场: P\d", t) for t in nearest)
    page.evaluate(f"() => {MAP}.eachLayer(l => l.closeTooltip && l.closeTooltip())")


@pytest.mark.browser
def test_report_map_draws_offline(browser: Any, loaded_url: str, tmp_path: Path) -> None:
    from api.cli import app

    vendor_modules()
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["coverage", "--out", str(out), "--database-url", loaded_url])
    assert result.exit_code == 0, result.output
    page, outside = offline_page(browser, "file:")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / "coverage.html").as_uri(), wait_until="load")
    wait_for_js(page, "document.getElementById('gg-parking').dataset.ready === '1'")
    assert page.locator(SHARE).inner_text().endswith("%")
    assert "半径 300 米" in page.locator(".gg-static").inner_text()
    page.close()
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside)
