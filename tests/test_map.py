"""The grid managers' map page: local assets only, escaped text, and (in Chromium) live cases."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from layers.assets import AssetError, localise, needed_files
from tests.helpers import (
    ARTIFACTS,
    GOOD_REPORT,
    LINKS,
    MORNING,
    SHIMAO,
    STRICT,
    XSS,
    auth,
    offline_page,
    pin_browser_clock,
    serving,
    vendor_modules,
    wait_for_js,
)


def test_every_page_link_is_served_locally(api: TestClient) -> None:
    vendor_modules()
    page = api.get("/")
    assert page.status_code == 200
    links = LINKS.findall(page.text)
    assert links, "the page loads no scripts?"
    assert not [u for u in links if re.match(r"(?i)(https?:)?//", u)]
    for url in links:
        assert api.get(url).status_code == 200, url
    assert re.search(r"/vendor/leaflet/dist/leaflet\.js", page.text)


def test_localise_refuses_unknown_outside_links() -> None:
    html = '<script src="https://example.org/evil.js"></script>'
    with pytest.raises(AssetError, match="no local copy"):
        localise(html)
    known = '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>'
    assert 'href="/vendor/leaflet/dist/leaflet.css"' in localise(known)
    assert "leaflet/dist/leaflet.js" in needed_files()


def test_page_speaks_chinese_by_default_and_english_on_request(api: TestClient) -> None:
    zh = api.get("/").text
    assert '<html lang="zh">' in zh and "<title>凌霄网格治理地图</title>" in zh
    en = api.get("/", params={"lang": "en"}).text
    assert '<html lang="en">' in en and "<title>Lingxiao grid governance map</title>" in en
    assert "Grids: open cases" in en


def test_layer_text_is_escaped(api: TestClient, sample_dir: Path, loaded_url: str) -> None:
    from store.db import make_engine
    from store.load import load_folder

    path = sample_dir / "merchants.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = XSS[0]
    data["features"][1]["properties"]["free_service"] = XSS[1]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(loaded_url)
    assert load_folder(engine, sample_dir).ok
    engine.dispose()
    page = api.get("/").text
    assert XSS[0] not in page and XSS[1] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_holds_no_case_counts(api: TestClient) -> None:
    """The page is kept for many answers (``service.page_cache``): its grids carry no
    counts (the fills start at none; the script asks /stats), its squads no load."""
    before = api.get("/").text
    for _ in range(3):
        assert api.post("/api/v1/issues", json=GOOD_REPORT).status_code == 201
    page = api.get("/").text
    grid16 = re.search(r'"code": "330206002016016"[^}]*', page)
    assert grid16 is not None and '"open_cases": 0' in grid16.group(0)
    assert re.sub(r' nonce="[^"]+"', "", page) == re.sub(r' nonce="[^"]+"', "", before)


# --- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
def test_map_in_chromium_draws_layers_and_shows_new_cases_live(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    bad = client.post("/api/v1/issues", json={**GOOD_REPORT, "description": XSS[1]}).json()
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        # the browser's own clock is three days ahead: ages must still come from the server's
        pin_browser_clock(page, MORNING + timedelta(days=3))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        assert page.locator("path.leaflet-interactive").count() >= 22 + 1 + 2
        assert page.locator(".gg-grid-label").count() == 22
        assert page.locator(".leaflet-control-layers").count() >= 1
        assert page.evaluate("Object.keys(window.gridgovState.byId).length") == 1
        markers = ".marker-cluster, .awesome-marker"
        with_merchants = page.locator(markers).count()
        assert with_merchants > 0
        # toggle the overdue choropleth on (22 more grid shapes) and the merchants off
        shapes = page.locator("path.leaflet-interactive").count()
        _layer(page, "网格：超期案件")
        wait_for_js(
            page, f"document.querySelectorAll('path.leaflet-interactive').length === {shapes + 22}"
        )
        _layer(page, "商户")
        wait_for_js(page, f"document.querySelectorAll('{markers}').length < {with_merchants}")
        # a new case appears without a reload
        fresh = client.post(
            "/api/v1/issues",
            json={
                **GOOD_REPORT,
                "lon": 121.8300,
                "lat": 29.8960,
                "category": "parking",
                "description": XSS[0],
            },
        ).json()
        page.clock.fast_forward(10_000)  # the map's next poll
        wait_for_js(page, f"window.gridgovState.byId[{fresh['id']}] !== undefined")
        # a resident's markup shows as text in the popup
        page.evaluate(f"window.gridgovState.byId[{bad['id']}].openPopup()")
        popup = page.locator(".gg-case .gg-description")
        popup.wait_for(timeout=5_000)
        assert popup.inner_text() == XSS[1]
        # the marker carries its category's glyph, the popup the case's age
        icon = page.evaluate(f"window.gridgovState.byId[{bad['id']}].options.icon.options.html")
        assert ">楼<" in icon
        shown = page.locator(".gg-case").inner_text()
        assert "(0 小时)" in shown
        # reported 10:00 on 26 November in Ningbo (02:00 UTC), not the API's ISO instant
        assert "2026年11月26日 10:00" in shown and "T02:00" not in shown, shown
        assert page.evaluate("window.pwned === undefined")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "manager-map.png"))
        page.close()
    app.state.engine.dispose()
    tiles = [u for u in outside if "tile.openstreetmap.org" in u]
    assert outside == tiles, f"the page tried to reach {set(outside) - set(tiles)}"
    assert errors == []


def test_strict_mode_requires_browser_tests() -> None:
    if STRICT:
        assert shutil.which("chromium"), "GRIDGOV_STRICT=1 needs chromium installed"


@pytest.mark.browser
def test_amap_basemap_moves_overlays_by_the_gcj02_offset(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app
    from gis.crs import wgs84_to_gcj02

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        label = page.locator(".gg-grid-label").first
        before = label.bounding_box()
        map_name = page.evaluate(
            "Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)"
        )
        # where the label's WGS84 point is, and where its GCJ-02 image should be drawn
        wgs = page.evaluate(
            f"(() => {{ let p; window['{map_name}'].eachLayer(l => {{"
            "if (!p && l.options && l.options.icon && l.options.icon.options"
            " && /gg-grid-label/.test(l.options.icon.options.html || ''))"
            " p = l.getLatLng(); }); return [p.lng, p.lat]; })()"
        )
        glon, glat = wgs84_to_gcj02(*wgs)
        expect = page.evaluate(
            f"(() => {{ const m = window['{map_name}'];"
            f" const a = m.latLngToContainerPoint([{wgs[1]}, {wgs[0]}]);"
            f" const b = m.latLngToContainerPoint([{float(glat)}, {float(glon)}]);"
            " return [b.x - a.x, b.y - a.y]; })()"
        )
        _layer(page, "高德地图（GCJ-02）")
        label_x = "document.querySelector('.gg-grid-label').getBoundingClientRect().x"
        wait_for_js(page, f"{label_x} !== {before['x']}")
        after = label.bounding_box()
        moved = (after["x"] - before["x"], after["y"] - before["y"])
        assert abs(moved[0] - expect[0]) <= 2 and abs(moved[1] - expect[1]) <= 2
        assert abs(moved[0]) > 100  # ~490 m at zoom 16 is a couple of hundred pixels
        _layer(page, "空白底图（离线）")
        wait_for_js(page, f"{label_x} !== {after['x']}")
        back = label.bounding_box()
        assert abs(back["x"] - before["x"]) <= 1 and abs(back["y"] - before["y"]) <= 1
        page.close()
    app.state.engine.dispose()


# --- the Amap basemap (GCJ-02): every overlay follows, cases and counts included ---------

GRID16 = "330206002016016"  # SHIMAO lies in it
# where a case (or the cluster showing it) is on screen against its grid's label, and
# where the same WGS84 geometry puts it: [dx, dy] in pixels, both
CASE_AGAINST_GRID = """([mapName, id, code, labelWgs]) => {
  const map = window[mapName], st = window.gridgovState, m = st.byId[id];
  const shown = m && st.cluster.getVisibleParent(m);
  let label = null;
  map.eachLayer(l => {
    const el = l._icon && l._icon.querySelector && l._icon.querySelector('.gg-grid-label');
    if (el && el.textContent.trim() === code.slice(-3)) { label = l; }
  });
  if (!shown || !shown._icon || !label) { return null; }
  const centre = el => {
    const r = el.getBoundingClientRect();
    return [r.x + r.width / 2, r.y + r.height / 2];
  };
  const members = shown === m ? [m] : shown.getAllChildMarkers();
  const mean = i => members.reduce((s, x) => s + x.feature.geometry.coordinates[i], 0)
    / members.length;
  const a = centre(shown._icon), b = centre(label._icon);
  const wa = map.latLngToContainerPoint([mean(1), mean(0)]);
  const at = labelWgs ? [labelWgs[1], labelWgs[0]] : label.getLatLng();
  const wb = map.latLngToContainerPoint(at);
  return {
    kind: shown === m ? 'marker' : 'cluster',
    ids: members.map(x => x.feature.id).sort((p, q) => p - q),
    seen: [a[0] - b[0], a[1] - b[1]],
    wgs84: [wa.x - wb.x, wa.y - wb.y],
    drawn: [m.getLatLng().lng, m.getLatLng().lat],
    label: [label.getLatLng().lng, label.getLatLng().lat],
  };
}"""
# every overlay's points by Leaflet's id of the layer: a marker's position, a shape's first
# vertex, the heat map's points; and each case's [lon, lat] beside where it is drawn
OVERLAY_POINTS = """(mapName) => {
  const map = window[mapName], st = window.gridgovState, out = {};
  const first = x => { while (Array.isArray(x)) { x = x[0]; } return x; };
  const take = l => {
    if (l instanceof L.GridLayer || l instanceof L.MarkerCluster || l.__parent) { return; }
    if (l instanceof L.MarkerClusterGroup) {
      if (l !== st.cluster) { l.getLayers().forEach(take); }
      return;
    }
    const key = String(L.stamp(l));
    if (l.getLatLng) {
      out[key] = [[l.getLatLng().lng, l.getLatLng().lat]];
    } else if (l.getLatLngs) {
      const p = first(l.getLatLngs());
      if (p) { out[key] = [[p.lng, p.lat]]; }
    }
  };
  map.eachLayer(take);
  out.heat = st.heat._latlngs.map(p => [p[1], p[0]]);
  const cases = Object.values(st.byId).map(m => [
    ...m.feature.geometry.coordinates, m.getLatLng().lng, m.getLatLng().lat]);
  return {layers: out, cases: cases};
}"""
# each count per square: [count, dx, dy] from the centre of a grid's shape, on screen
CELLS_AGAINST_GRID = """([mapName, code]) => {
  const map = window[mapName];
  let grid = null;
  map.eachLayer(l => {
    if (!grid && l._path && l.feature && l.feature.properties.code === code) { grid = l; }
  });
  const g = grid._path.getBoundingClientRect();
  const gx = g.x + g.width / 2, gy = g.y + g.height / 2;
  return [...document.querySelectorAll('.gg-cell')].map(el => {
    const r = el.getBoundingClientRect();
    return [Number(el.textContent), r.x + r.width / 2 - gx, r.y + r.height / 2 - gy];
  }).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}"""


def _layer(page: Any, name: str) -> None:
    """Tick (or untick) the layer ``name`` in the dock's layer lists, the dock open or
    folded: its input clicked as a click on it would (a folded dock shows none)."""
    clicked = page.evaluate(
        """name => {
          const label = [...document.querySelectorAll('.leaflet-control-layers label')]
            .find(l => l.textContent.trim() === name);
          if (!label) { return false; }
          label.querySelector('input').click();
          return true;
        }""",
        name,
    )
    assert clicked, name


def _map_name(page: Any) -> str:
    name: str = page.evaluate(
        "Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)"
    )
    return name


def _view(page: Any, map_name: str, at: str, zoom: int) -> None:
    """Show ``at`` (a JavaScript lat/lng) at ``zoom`` without animation; wait for the case
    layer's answer, then for markercluster's animations to end (its timers run on the
    page's pinned clock, its CSS transitions on the browser's own)."""
    before = page.evaluate("window.gridgovState.fetches")
    page.evaluate(f"void window['{map_name}'].setView({at}, {zoom}, {{animate: false}})")
    wait_for_js(page, f"window.gridgovState.fetches > {before}", timeout=10_000)
    _settle(page)


def _settle(page: Any) -> None:
    page.clock.run_for(1_000)
    wait_for_js(page, "document.getAnimations().length === 0", timeout=10_000)


def _watch_errors(page: Any, base: str) -> list[str]:
    """Uncaught errors and console errors of ``page``, less the tiles the test blocks."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def console(message: Any) -> None:
        url = (message.location or {}).get("url", "")
        blocked = "Failed to load resource" in message.text and not url.startswith(base)
        if message.type == "error" and not blocked:
            errors.append(message.text)

    page.on("console", console)
    return errors


def _close(a: list[float], b: list[float], px: float = 2.0) -> bool:
    return abs(a[0] - b[0]) <= px and abs(a[1] - b[1]) <= px


@pytest.mark.browser
def test_amap_keeps_cases_clusters_and_counts_on_their_grids(browser: Any, settings: Any) -> None:
    import numpy as np

    from api.app import create_app
    from gis.crs import wgs84_to_gcj02

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    # a tight group in grid 016 (one cluster at zoom 16), and others far from it
    group = [
        (SHIMAO[0] + dx, SHIMAO[1] + dy)
        for dx, dy in [(0, 0), (8e-5, 0), (0, 8e-5), (-8e-5, 0), (0, -8e-5), (5e-5, 5e-5)]
    ]
    spread = [
        (lon, lat)
        for lon in (121.824, 121.828, 121.832, 121.836)
        for lat in (29.892, 29.895, 29.898)
    ] * 2
    ids = [
        client.post("/api/v1/issues", json={**GOOD_REPORT, "lon": lon, "lat": lat}).json()["id"]
        for lon, lat in [*group, *spread]
    ]
    picked = ids[0]
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        pin_browser_clock(page, MORNING)
        errors = _watch_errors(page, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        map_name = _map_name(page)

        def seen(zoom: int, label: Any = None, case: int = picked) -> dict[str, Any]:
            _view(page, map_name, f"window.gridgovState.byId[{case}].getLatLng()", zoom)
            got: dict[str, Any] = wait_for_js(
                page,
                f"({CASE_AGAINST_GRID})(['{map_name}', {case}, '{GRID16}', {json.dumps(label)}])",
                timeout=10_000,
            )
            return got

        osm = {zoom: seen(zoom) for zoom in (18, 16)}
        label_wgs = osm[18]["label"]
        assert osm[18]["kind"] == "marker" and osm[16]["kind"] == "cluster"
        assert set(osm[16]["ids"]) >= set(ids[: len(group)])
        for one in osm.values():
            assert _close(one["seen"], one["wgs84"], 1.0), one
        _layer(page, "案件热力图")  # on, so that every overlay is on the map
        points = page.evaluate(f"({OVERLAY_POINTS})('{map_name}')")

        _layer(page, "高德地图（GCJ-02）")
        moved = page.evaluate(f"({OVERLAY_POINTS})('{map_name}')")
        # every overlay is where gis.crs puts it, within a centimetre or so
        assert moved["layers"].keys() == points["layers"].keys()
        assert len(points["layers"]) > 22 + 22 + 8 and len(points["layers"]["heat"]) == len(ids)
        for key, before in points["layers"].items():
            lon, lat = wgs84_to_gcj02(*np.array(before).T)
            assert np.allclose(np.array(moved["layers"][key]).T, [lon, lat], atol=1e-7), key
        cases = np.array(moved["cases"])
        assert len(cases) == len(ids)
        lon, lat = wgs84_to_gcj02(cases[:, 0], cases[:, 1])
        assert np.allclose(cases[:, 2:].T, [lon, lat], atol=1e-7)

        amap = {zoom: seen(zoom, label_wgs) for zoom in (18, 16)}
        for zoom, one in amap.items():
            assert one["kind"] == osm[zoom]["kind"] and one["ids"] == osm[zoom]["ids"]
            assert _close(one["seen"], osm[zoom]["seen"]), (zoom, osm[zoom], one)
            assert _close(one["seen"], one["wgs84"]), (zoom, one)
            shift = page.evaluate(
                f"window['{map_name}'].distance([{one['drawn'][1]}, {one['drawn'][0]}],"
                f" [{group[0][1]}, {group[0][0]}])"
            )
            assert 450 < shift < 530, shift  # 487 m near Ningbo
        # a popup opens on its marker's place, not moved a second time
        seen(18, label_wgs)
        popup_gap = (
            f"(() => {{ const m = window.gridgovState.byId[{picked}]; m.openPopup();"
            f" return window['{map_name}'].distance(m.getLatLng(), m.getPopup().getLatLng()); }})()"
        )
        assert page.evaluate(popup_gap) < 0.01
        page.evaluate(f"window['{map_name}'].closePopup()")
        # a case reported after the switch comes with the next poll, drawn in GCJ-02 too
        late = client.post(
            "/api/v1/issues", json={**GOOD_REPORT, "lon": 121.8448, "lat": 29.8952}
        ).json()["id"]
        page.clock.fast_forward(10_000)
        wait_for_js(page, f"window.gridgovState.byId[{late}] !== undefined", timeout=10_000)
        fresh = seen(18, label_wgs, late)
        assert fresh["kind"] == "marker" and _close(fresh["seen"], fresh["wgs84"]), fresh
        glon, glat = wgs84_to_gcj02(121.8448, 29.8952)
        assert np.allclose(fresh["drawn"], [float(glon), float(glat)], atol=1e-7)

        # zoomed out: the counts per square sit on their grids on both basemaps
        centre = f"[{SHIMAO[1]}, {SHIMAO[0] - 0.01}]"
        _view(page, map_name, centre, 13)
        wait_for_js(page, "document.querySelectorAll('.gg-cell').length > 0")
        cells = {"amap": page.evaluate(f"({CELLS_AGAINST_GRID})(['{map_name}', '{GRID16}'])")}
        _layer(page, "OpenStreetMap 底图")
        cells["osm moved back"] = page.evaluate(
            f"({CELLS_AGAINST_GRID})(['{map_name}', '{GRID16}'])"
        )
        _view(page, map_name, centre, 13)
        cells["osm"] = page.evaluate(f"({CELLS_AGAINST_GRID})(['{map_name}', '{GRID16}'])")
        _layer(page, "高德地图（GCJ-02）")
        cells["amap moved"] = page.evaluate(f"({CELLS_AGAINST_GRID})(['{map_name}', '{GRID16}'])")
        assert sum(c[0] for c in cells["osm"]) == len(ids) + 1
        for name, found in cells.items():
            assert [c[0] for c in found] == [c[0] for c in cells["osm"]], name
            pairs = zip(found, cells["osm"], strict=True)
            assert all(_close(a[1:], b[1:]) for a, b in pairs), (name, found, cells["osm"])

        # and back on OpenStreetMap, cases and clusters are where they were; the heat
        # map, off the map during the switch, comes back where it belongs
        _layer(page, "案件热力图")
        _layer(page, "OpenStreetMap 底图")
        _layer(page, "案件热力图")
        wgs = page.evaluate(f"({OVERLAY_POINTS})('{map_name}')")["layers"]["heat"]
        assert sorted(wgs) == sorted(points["layers"]["heat"] + [[121.8448, 29.8952]])
        back = {zoom: seen(zoom, label_wgs) for zoom in (18, 16)}
        for zoom, one in back.items():
            assert one["ids"] == osm[zoom]["ids"] or late in one["ids"]
            assert _close(one["seen"], one["wgs84"]), (zoom, one)
        assert np.allclose(back[18]["drawn"], group[0], atol=1e-9)
        assert np.allclose(back[18]["label"], label_wgs, atol=1e-9)
        page.close()
    app.state.engine.dispose()
    assert errors == []
    print("offsets", {"osm": osm, "amap": amap, "fresh": fresh, "back": back})


@pytest.mark.browser
def test_page_and_server_agree_on_gcj02(browser: Any) -> None:
    """The page's one copy of the GCJ-02 transform gives what gis.crs gives."""
    import numpy as np

    from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02
    from layers.assets import STATIC

    modules = vendor_modules()
    places = [
        (121.8452, 29.8940),  # Lingxiao
        (116.3975, 39.9087),  # Beijing
        (87.6168, 43.8256),  # Urumqi
        (126.5350, 45.8038),  # Harbin
        (109.5119, 18.2528),  # Sanya
        (139.6917, 35.6895),  # Tokyo: outside the rectangle, unchanged
    ]
    page = browser.new_page()
    page.add_script_tag(path=str(modules / "leaflet" / "dist" / "leaflet.js"))
    page.add_script_tag(path=str(STATIC / "gridgov-gcj.js"))
    there = page.evaluate(
        f"{json.dumps(places)}.map(p => window.gridgovCrs.wgs84ToGcj02(p[0], p[1]))"
    )
    back = page.evaluate(
        f"{json.dumps(there)}.map(p => window.gridgovCrs.gcj02ToWgs84(p[0], p[1]))"
    )
    page.close()
    lon, lat = np.array(places).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.allclose(np.array(there).T, [glon, glat], atol=1e-7, rtol=0)  # ~1 cm
    wlon, wlat = gcj02_to_wgs84(*np.array(there).T)
    assert np.allclose(np.array(back).T, [wlon, wlat], atol=1e-7, rtol=0)
    assert np.allclose(np.array(back), places, atol=1e-7, rtol=0)
    assert there[-1] == list(places[-1])


def test_static_export_is_one_self_contained_file(loaded_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    vendor_modules()
    out = tmp_path / "lingxiao.html"
    result = CliRunner().invoke(app, ["map", "--out", str(out), "--database-url", loaded_url])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert not LINKS.findall(html), "the export still links files"
    assert "gridgovFollowBasemaps" in html and "gridgovCases(" not in html
    assert 'url("data:font/woff2;base64,' in html  # icon fonts travel inside
    assert '"code": "330206002016022"' in html


@pytest.mark.browser
def test_static_export_renders_offline(browser: Any, loaded_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    vendor_modules()
    out = tmp_path / "lingxiao.html"
    CliRunner().invoke(app, ["map", "--out", str(out), "--database-url", loaded_url])
    page, outside = offline_page(browser, "file:")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".gg-grid-label")
    assert page.locator(".gg-grid-label").count() == 22
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside)
    page.close()


def _bounds_of(path: Path, key: str, value: str) -> list[list[float]]:
    """The [[south, west], [north, east]] of the feature of ``path`` whose ``key`` is
    ``value``."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    (feature,) = [f for f in features if str(f["properties"][key]) == value]
    ring = [xy for part in feature["geometry"]["coordinates"] for xy in part]
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def _search_for(page: Any, text: str, tips: bool = True) -> None:
    box = page.locator(".leaflet-control-search input.search-input")
    box.fill("")
    box.press_sequentially(text, delay=20)
    if tips:
        page.locator(".search-tip").first.wait_for(timeout=5_000)
    box.press("Enter")


def _fitted(map_name: str, bounds: list[list[float]]) -> str:
    """JavaScript: the map's view holds ``bounds`` and is zoomed as fitting them would
    (at most 18, the search's closest)."""
    b = f"L.latLngBounds({json.dumps(bounds)})"
    m = f"window['{map_name}']"
    return (
        f"{m}.getBounds().contains({b}) && {m}.getZoom() === Math.min({m}.getBoundsZoom({b}), 18)"
    )


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_search_finds_grids_compounds_merchants_and_parking(
    browser: Any, settings: Any, lang: str
) -> None:
    from api.app import create_app
    from layers.i18n import labels

    words = labels(lang, "map")
    data = Path(__file__).resolve().parent.parent / "data"
    compound = _bounds_of(data / "compounds.geojson", "name", "黄山豪庭")
    grid = _bounds_of(data / "boundaries" / "grids.geojson", "code", "330206002016022")
    merchant = json.loads((data / "merchants.geojson").read_text(encoding="utf-8"))["features"][0]
    merchant_name = merchant["properties"]["name"]
    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, outside = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        page.goto(base + f"/?lang={lang}", wait_until="load")
        wait_for_js(page, "window.gridgovSearchControl !== undefined", timeout=20_000)
        placeholder = page.locator(".leaflet-control-search input.search-input").get_attribute(
            "placeholder"
        )
        map_name = page.evaluate(
            "Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)"
        )
        _search_for(page, "黄山豪庭")
        wait_for_js(page, _fitted(map_name, compound), timeout=10_000)
        _search_for(page, "330206002016022")
        wait_for_js(page, _fitted(map_name, grid), timeout=10_000)
        _search_for(page, merchant_name)
        popup = page.locator(".leaflet-popup-content")
        popup.filter(has_text=merchant_name).wait_for(timeout=10_000)
        centre = page.evaluate(f"window['{map_name}'].getCenter()")
        _search_for(page, "黄山豪庭智慧停车场")
        popup.filter(has_text="黄山豪庭智慧停车场").wait_for(timeout=10_000)
        _search_for(page, "没有这个地方", tips=False)
        alert = page.locator(".leaflet-control-search .search-alert")
        alert.wait_for(state="visible", timeout=5_000)
        said = alert.inner_text()
        page.close()
    app.state.engine.dispose()
    assert placeholder == words["search"]
    assert said == {"zh": "未找到", "en": "Not found"}[lang]
    lon, lat = merchant["geometry"]["coordinates"]
    assert abs(centre["lng"] - lon) < 0.01 and abs(centre["lat"] - lat) < 0.01
    assert all("tile.openstreetmap.org" in u or "tianditu" in u or "autonavi" in u for u in outside)


@pytest.mark.browser
def test_statistics_panel_draws_three_charts(browser: Any, settings: Any) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    for _ in range(2):
        assert client.post("/api/v1/issues", json=GOOD_REPORT).status_code == 201
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(
            page, "window.gridgovCharts && window.gridgovCharts.every(Boolean)", timeout=20_000
        )
        sizes = page.evaluate("window.gridgovCharts.map(c => c.data.labels.length)")
        assert page.locator("#gg-stats canvas").count() == 3
        assert page.get_by_text("近90天各月结案率与按期结案率").count() == 1
        page.close()
    app.state.engine.dispose()
    assert sorted(sizes) == [1, 1, 1]  # one grid, one month, one category so far


@pytest.mark.browser
def test_case_page_public_then_staff_actions(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    import io

    from PIL import Image

    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    created = client.post(
        "/api/v1/issues",
        json={
            **GOOD_REPORT,
            "description": XSS[1],
            "reporter": {"name": "王阿姨", "phone": "13800138000"},
        },
    ).json()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(picture, format="JPEG")
    assert (
        client.post(
            f"/api/v1/issues/{created['id']}/photos",
            files={"file": ("p.jpg", picture.getvalue(), "image/jpeg")},
            headers={"X-Photo-Token": created["photo_token"]},
        ).status_code
        == 201
    )
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        page.goto(f"{base}/issues/{created['id']}?lang=zh", wait_until="load")
        assert page.locator(".gg-description").inner_text() == XSS[1]
        assert "王阿姨" not in page.content() and "13800138000" not in page.content()
        page.locator(".gg-token").fill(tokens["manager"])
        page.locator(".gg-login").click()
        page.get_by_text("上报人: 王阿姨 13800138000").wait_for(timeout=10_000)
        wait_for_js(
            page,
            "[...document.querySelectorAll('.gg-thumb')].some(i => i.naturalWidth > 0)",
            timeout=10_000,
        )
        wait_for_js(page, "document.querySelectorAll('.gg-history tr').length === 1")
        # wait for the move itself: the words 已立案 are on the button already, so
        # waiting for them alone raced the request (the page closed before it was sent)
        with page.expect_response(
            lambda r: r.url.endswith("/transitions") and r.request.method == "POST"
        ) as moved:
            page.get_by_text("转为 已立案").click()
        assert moved.value.status == 200, moved.value.text()
        # the page reloads and the staff history shows the move
        wait_for_js(page, "document.querySelectorAll('.gg-history tr').length === 2")
        # in the page's language and local time: no status codes, no ISO UTC instants
        rows = page.locator(".gg-history tr").all_inner_texts()
        assert "已立案" in rows[1] and "已上报" in rows[0], rows
        for row in rows:
            assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", row), row
            assert not re.search(r"filed|reported|T\d\d:\d\d", row), row
        page.close()
    app.state.engine.dispose()
    assert client.get(f"/api/v1/issues/{created['id']}").json()["status"] == "filed"
    assert all("tile.openstreetmap.org" in u for u in outside)


def test_case_page_of_unknown_case_is_404(api: TestClient) -> None:
    assert api.get("/issues/424242").status_code == 404


@pytest.mark.browser
def test_zoomed_out_map_shows_counts_per_square_not_cases(browser: Any, settings: Any) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    spots = [(121.8452, 29.8940), (121.8240, 29.8980), (121.8300, 29.8960)]
    for lon, lat in spots:
        for _ in range(2):
            client.post("/api/v1/issues", json={**GOOD_REPORT, "lon": lon, "lat": lat})
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0")
        map_name = page.evaluate(
            "Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)"
        )
        page.evaluate(f"void window['{map_name}'].setZoom(13)")
        wait_for_js(
            page,
            "window.gridgovState.mode === 'cells' && "
            "document.querySelectorAll('.gg-cell').length > 0",
        )
        counts = page.evaluate(
            "[...document.querySelectorAll('.gg-cell span')].map(s => Number(s.textContent))"
        )
        page.close()
    app.state.engine.dispose()
    assert sum(counts) == 6 and len(counts) < 6


def test_cells_endpoint_counts_in_sql(api: TestClient) -> None:
    for lon, lat in [(121.8452, 29.8940), (121.8453, 29.8941), (121.8240, 29.8980)]:
        api.post("/api/v1/issues", json={**GOOD_REPORT, "lon": lon, "lat": lat})
    body = api.get("/api/v1/issues/cells", params={"cell_deg": 0.01}).json()
    assert body["total"] == 3
    assert sorted(c["count"] for c in body["cells"]) == [1, 2]
    fine = api.get("/api/v1/issues/cells", params={"cell_deg": 0.00002}).json()
    assert fine["total"] == 3 and len(fine["cells"]) == 3
    assert api.get("/api/v1/issues/cells", params={"cell_deg": 0}).status_code == 422


@pytest.mark.browser
def test_a_crowded_view_shows_counts_not_a_truncated_list(
    browser: Any, settings: Any, loaded_url: str
) -> None:
    import shapely
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from api.app import create_app
    from store.db import make_engine
    from store.models import Issue

    vendor_modules()
    engine = make_engine(loaded_url)
    rows = [
        {
            "category": "parking",
            "description": "车辆乱停",
            "lon": 121.8300 + i * 1e-6,
            "lat": 29.8960,
            "geom": shapely.Point(121.8300 + i * 1e-6, 29.8960),
            "input_crs": "wgs84",
            "input_lon": 121.83,
            "input_lat": 29.896,
            "grid_code": "330206002016008",
            "community_code": "330206002016",  # every case records its community
            "channel": "web",
            "status": "reported",
            "reported_at": MORNING,
            "updated_at": MORNING,
            "file_deadline": MORNING,
            "due_at": MORNING,
            "rework_count": 0,
            "version": 1,
        }
        for i in range(1200)
    ]
    with Session(engine) as session, session.begin():
        session.execute(insert(Issue), rows)
    engine.dispose()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(
            page,
            "window.gridgovState && window.gridgovState.mode === 'cells' "
            "&& document.querySelectorAll('.gg-cell').length > 0",
            timeout=20_000,
        )
        counts = page.evaluate(
            "[...document.querySelectorAll('.gg-cell span')].map(s => Number(s.textContent))"
        )
        page.close()
    app.state.engine.dispose()
    assert sum(counts) == 1200


@pytest.mark.browser
def test_signed_in_staff_see_squads_where_they_are(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        assert page.evaluate("window.gridgovState.squads.getLayers().length") == 0
        page.evaluate(f"localStorage.setItem('gridgovToken', '{tokens['dispatcher']}')")
        page.reload(wait_until="load")
        wait_for_js(page, "window.gridgovState.squads.getLayers().length === 8", timeout=20_000)
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_squads_where_they_are_follow_the_amap_basemap(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    import numpy as np

    from api.app import create_app
    from gis.crs import wgs84_to_gcj02

    vendor_modules()
    app = create_app(settings)
    squads = """window.gridgovState.squads.getLayers().map(m => [m.squad.position.lon,
      m.squad.position.lat, m.getLatLng().lng, m.getLatLng().lat, L.stamp(m)])"""
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        pin_browser_clock(page, MORNING)  # the page polls when the test says
        errors = _watch_errors(page, base)
        page.add_init_script(f"localStorage.setItem('gridgovToken', '{tokens['dispatcher']}')")
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState.squads.getLayers().length === 8", timeout=20_000)
        _layer(page, "高德地图（GCJ-02）")
        moved = np.array(page.evaluate(squads))
        page.clock.fast_forward(10_000)  # the next poll draws them anew, on Amap
        old = ",".join(str(int(k)) for k in moved[:, 4])
        wait_for_js(
            page,
            "window.gridgovState.squads.getLayers().length === 8 && "
            f"!window.gridgovState.squads.getLayers().some(m => [{old}].includes(L.stamp(m)))",
        )
        polled = np.array(page.evaluate(squads))
        page.close()
    app.state.engine.dispose()
    for drawn in (moved, polled):
        lon, lat = wgs84_to_gcj02(drawn[:, 0], drawn[:, 1])
        assert np.allclose(drawn[:, 2:4].T, [lon, lat], atol=1e-7)
    assert errors == []


# what the live case layer draws: cases (markers and their clusters), counts per square,
# and whether its overlay (案件) is ticked
CASES_DRAWN = """() => {
  const label = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
    .find(l => l.textContent.trim() === '案件');
  return {
    cases: document.querySelectorAll('.gg-case-icon, .gg-case-cluster').length,
    counts: [...document.querySelectorAll('.gg-cell')].map(c => Number(c.textContent)),
    ticked: label.querySelector('input').checked,
  };
}"""


@pytest.mark.browser
def test_case_overlay_alone_decides_whether_cases_or_counts_are_drawn(
    browser: Any, settings: Any
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    spots = [SHIMAO, (121.8455, 29.8945), (121.8240, 29.8980), (121.8300, 29.8960)]
    for lon, lat in spots:
        assert client.post(
            "/api/v1/issues", json={**GOOD_REPORT, "lon": lon, "lat": lat}
        ).is_success
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        pin_browser_clock(page, MORNING)
        errors = _watch_errors(page, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        map_name = _map_name(page)
        seen: list[tuple[str, dict[str, Any]]] = []

        def step(what: str) -> None:
            if what in ("in", "out"):
                _view(page, map_name, f"[{SHIMAO[1]}, {SHIMAO[0]}]", 16 if what == "in" else 13)
            elif what == "poll":
                before = page.evaluate("window.gridgovState.fetches")
                page.clock.fast_forward(10_000)
                wait_for_js(page, f"window.gridgovState.fetches > {before}", timeout=10_000)
                _settle(page)
            else:
                _layer(page, "案件")
                _settle(page)
            seen.append((what, page.evaluate(f"({CASES_DRAWN})()")))

        ticked, zoomed_in = True, True
        # every move from every state: zoom in and out ticked and unticked, tick and
        # untick zoomed in and out, and a poll in each of the four states
        for what in [
            "poll",
            "out",
            "poll",
            "in",
            "tick",
            "poll",
            "out",
            "poll",
            "in",
            "tick",
            "out",
            "tick",
            "in",
            "tick",
            "out",
            "tick",
        ]:
            step(what)
            ticked = not ticked if what == "tick" else ticked
            zoomed_in = {"in": True, "out": False}.get(what, zoomed_in)
            got = seen[-1][1]
            assert got["ticked"] == ticked, seen
            if not ticked:
                assert got["cases"] == 0 and got["counts"] == [], seen
            elif zoomed_in:
                assert got["cases"] > 0 and got["counts"] == [], seen
            else:
                assert got["cases"] == 0 and sum(got["counts"]) == len(spots), seen
        page.close()
    app.state.engine.dispose()
    assert errors == []


# --- the dock: filters, cluster colours, legend, live grid fill and statistics, layout ---

# how many cases the case layer draws: the singles plus the number on each cluster
CASES_COUNTED = """() => [...document.querySelectorAll('.gg-case-cluster')]
  .reduce((n, c) => n + Number(c.textContent), 0)
  + document.querySelectorAll('.gg-case-icon').length"""
# cases close together in the middle of the community, in view at the page's first zoom
MIDDLE = [(121.8300, 29.8960), (121.8301, 29.8961), (121.8302, 29.8960), (121.8350, 29.8940)]
OPEN = ["reported", "filed", "dispatched", "in_progress", "resolved", "escalated"]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _move(client: TestClient, case: int, token: str, **body: Any) -> None:
    answer = client.post(f"/api/v1/issues/{case}/transitions", json=body, headers=auth(token))
    assert answer.status_code == 200, answer.text


@pytest.mark.browser
def test_live_map_shows_open_cases_first_and_the_filters_change_what_is_drawn_and_counted(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    ids = [
        client.post(
            "/api/v1/issues",
            json={**GOOD_REPORT, "lon": lon, "lat": lat, "category": category},
        ).json()["id"]
        for (lon, lat), category in zip(
            MIDDLE, ["parking", "stairwell_clutter", "parking", "parking"], strict=True
        )
    ]
    _move(client, ids[2], tokens["manager"], to="rejected", note="不属于本社区")
    with serving(app) as base:
        page, outside = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        pin_browser_clock(page, MORNING)
        errors = _watch_errors(page, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        _settle(page)
        map_name = _map_name(page)

        def agree(expected: int) -> str:
            """What is drawn is what the API counts for the page's own query."""
            query = page.evaluate("window.gridgovState.query")
            total = client.get("/api/v1/issues?" + query).json()["total"]
            drawn = page.evaluate(f"({CASES_COUNTED})()")
            assert drawn == total == expected, (query, drawn, total)
            shown = page.locator(".gg-filter-count").inner_text()
            assert shown == f"地图上符合筛选的案件：{expected} 件", shown
            return str(query)

        # open cases only, at first: the rejected one is not drawn
        query = agree(3)
        assert "status=" + "%2C".join(OPEN) in query

        def choose(name: str, value: str) -> None:
            """Change one filter; wait for the answer to the new query (a poll may come too)."""
            before = page.evaluate("window.gridgovState.query")
            if name == "overdue":
                page.locator("#gg-filters input[name=overdue]").set_checked(value == "on")
            else:
                page.locator(f"#gg-filters select[name={name}]").select_option(value)
            wait_for_js(page, f"window.gridgovState.query !== {json.dumps(before)}", timeout=10_000)
            _settle(page)

        choose("status", "done")
        assert "status=closed%2Crejected%2Cduplicate" in agree(1)
        choose("status", "all")
        assert "status=" not in agree(4)
        wait_for_js(
            page, "document.querySelectorAll('#gg-filters option[value=parking]').length === 1"
        )
        choose("category", "parking")
        assert "category=parking" in agree(3)
        choose("status", "open")
        agree(2)
        choose("status", "reported")
        agree(2)
        choose("overdue", "on")  # nothing is overdue on the morning it was reported
        assert "overdue=true" in agree(0)
        choose("overdue", "off")
        choose("days", "7")  # changed in the last 7 days (of the server's clock): all
        assert "since=2026-11-19T02%3A00%3A" in agree(2)
        # a case moved out of the filter by a poll is taken away; zoomed out, the
        # counts per square follow the same filters
        _move(client, ids[0], tokens["manager"], to="filed")
        page.clock.fast_forward(10_000)
        wait_for_js(page, f"window.gridgovState.byId[{ids[0]}] === undefined", timeout=10_000)
        _settle(page)
        assert page.evaluate(f"({CASES_COUNTED})()") == 1
        _view(page, map_name, f"[{MIDDLE[0][1]}, {MIDDLE[0][0]}]", 13)
        query = page.evaluate("window.gridgovState.query")
        cells = client.get("/api/v1/issues/cells?" + query).json()
        drawn = page.evaluate(
            "[...document.querySelectorAll('.gg-cell')]"
            ".reduce((n, c) => n + Number(c.textContent), 0)"
        )
        assert drawn == cells["total"] == 1 and "status=reported" in query
        page.close()
    app.state.engine.dispose()
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside), outside


@pytest.mark.browser
def test_case_clusters_carry_the_status_colours(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app
    from layers.text import STATUS_COLOURS

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    ids = [
        client.post("/api/v1/issues", json={**GOOD_REPORT, "lon": lon, "lat": lat}).json()["id"]
        for lon, lat in MIDDLE[:3]
    ]
    _move(client, ids[0], tokens["manager"], to="filed")
    with serving(app) as base:
        page, _ = offline_page(browser, base)
        pin_browser_clock(page, MORNING)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        _settle(page)
        cluster = page.locator(".gg-case-cluster")
        assert cluster.count() == 1
        look = page.evaluate(
            """() => {
              const c = document.querySelector('.gg-case-cluster');
              const ring = c.querySelector('.gg-ring'), middle = ring.querySelector('span');
              return {ring: ring.style.background, middle: getComputedStyle(middle).backgroundColor,
                      text: middle.textContent, title: ring.title,
                      merchant: c.classList.contains('marker-cluster')};
            }"""
        )
        page.close()
    app.state.engine.dispose()
    # two reported, one filed: reported in the middle, both round it; not markercluster's look
    assert look["text"] == "3" and look["middle"] == _rgb(STATUS_COLOURS["reported"])
    assert "conic-gradient" in look["ring"]
    assert _rgb(STATUS_COLOURS["reported"]) in look["ring"]
    assert _rgb(STATUS_COLOURS["filed"]) in look["ring"]
    assert look["title"] == "已上报 2 · 已立案 1" and not look["merchant"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_legend_lists_every_status_glyph_pin_and_grid_scale(api: TestClient, lang: str) -> None:
    from layers.i18n import status_names
    from layers.text import PINS, STATUS_COLOURS, category_glyphs

    html = api.get(f"/?lang={lang}").text
    legend = html[html.index('class="gg-legend"') :]
    for status in STATUS_COLOURS:
        assert f'data-status="{status}"' in legend and status_names(lang)[status] in legend
    for code, glyph in category_glyphs(lang).items():
        assert re.search(rf'data-code="{code}"><span class="gg-dot gg-glyph">{glyph}<', legend)
    for pin, (icon, _, colour) in PINS.items():
        assert f'data-pin="{pin}"' in legend and f"fa-{icon}" in legend and colour in legend
    assert legend.count('class="gg-scale"') == 2


@pytest.mark.browser
def test_legend_names_the_glyphs_and_the_heat_map_shows_over_the_grid_fill(
    browser: Any, settings: Any
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        page.goto(base + "/?lang=en", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        name = page.locator(".gg-glyph-name[data-code=neighbour_dispute]")
        wait_for_js(
            page,
            "document.querySelector('.gg-glyph-name[data-code=neighbour_dispute]').textContent"
            " !== 'neighbour_dispute'",
        )
        named = name.inner_text()
        # the dock speaks English, its glyphs included (letters on an English page)
        dock = page.evaluate("document.getElementById('gg-dock').innerText")

        def fills() -> list[float]:
            return [
                float(o)
                for o in page.evaluate(
                    "[...document.querySelectorAll('path.leaflet-interactive')]"
                    ".filter(p => p.getAttribute('fill') !== 'none')"
                    ".map(p => p.getAttribute('fill-opacity'))"
                )
            ]

        before = fills()
        _layer(page, "Case heat map")
        wait_for_js(page, "document.querySelector('.gg-heat-on') !== null")
        during = fills()
        _layer(page, "Case heat map")
        after = fills()
        page.close()
    app.state.engine.dispose()
    assert named.lower().startswith("neighbour"), named
    assert not re.search(r"[\u4e00-\u9fff]", dock), dock
    assert max(during) <= 0.15 < min(before) and after == before


@pytest.mark.browser
@pytest.mark.dated
def test_grid_tooltips_legend_and_squad_loads_count_cases_from_the_api(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app
    from layers.colours import OPEN_COLOURS, count_legend

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    client.get("/")  # the page is kept before the cases come: they reach it from the API
    cases = [client.post("/api/v1/issues", json=GOOD_REPORT) for _ in range(3)]
    assert [c.status_code for c in cases] == [201] * 3
    sent = client.post(
        f"/api/v1/issues/{cases[0].json()['id']}/dispatch",
        json={"squad": "SQ2"},
        headers=auth(tokens["dispatcher"]),
    )
    assert sent.status_code == 200, sent.text
    assert client.get("/api/v1/squads/loads").json() == {"loads": {"SQ2": 1}}
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        errors = _watch_errors(page, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(
            page,
            "window.gridgovState && window.gridgovState.gridLoads > 0"
            " && window.gridgovState.squadLoads > 0",
            20_000,
        )
        squads = page.evaluate(
            """() => { const out = {}; const bases = Object.values(window)
                .filter(v => v instanceof L.FeatureGroup)
                .find(g => g.getLayers().some(m => m.options && m.options.squadId));
              bases.eachLayer(m => { out[m.options.squadId] = m.getTooltip().getContent(); });
              return out; }"""
        )
        tooltip = page.evaluate(
            f"""() => {{ let shown = null;
              window.gridgovState.gridLayers[0].eachLayer(l => {{
                if (l.feature.properties.code === '{GRID16}') {{
                  l.fire('mouseover', {{latlng: l.getBounds().getCenter()}}, true);
                  shown = document.querySelector('.leaflet-tooltip').innerText; }} }});
              return shown; }}"""
        )
        legend = page.evaluate(
            "[...document.querySelectorAll('.gg-scale[data-column=open_cases] .gg-swatch-text')]"
            ".map(e => e.textContent)"
        )
        page.close()
    app.state.engine.dispose()
    assert errors == []
    rows = dict(line.split("\t", 1) for line in tooltip.splitlines() if "\t" in line)
    rows = {k.strip(): v.strip() for k, v in rows.items()}
    assert rows["未结案件"] == "3" and rows["超期案件"] == "0", tooltip
    assert legend == [counts for _, counts in count_legend(3, OPEN_COLOURS)]
    # the dispatched case is open still: 3 in its grid; SQ2 holds it, SQ1 nothing
    assert squads["SQ2"].endswith("在办 1/10") and squads["SQ1"].endswith("在办 0/8"), squads


@pytest.mark.browser
def test_grid_fill_and_statistics_follow_new_cases_and_transitions(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    first = client.post("/api/v1/issues", json=GOOD_REPORT).json()  # grid 016
    filed = client.post(
        "/api/v1/issues", json={**GOOD_REPORT, "lon": MIDDLE[0][0], "lat": MIDDLE[0][1]}
    ).json()
    _move(client, filed["id"], tokens["manager"], to="filed")
    later = MORNING + timedelta(days=30)  # the filed case is due (and overdue) by now
    app.state.clock = lambda: later
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        pin_browser_clock(page, later)
        errors = _watch_errors(page, base)
        page.goto(base + "/?lang=zh", wait_until="load")
        wait_for_js(
            page,
            "window.gridgovState && window.gridgovState.gridLoads > 0"
            " && window.gridgovCharts.every(Boolean) && window.gridgovStatsState.loads > 0",
            timeout=20_000,
        )
        grids = """() => { const out = {};
          window.gridgovState.gridLayers[0].eachLayer(l => {
            out[l.feature.properties.code] = [l.feature.properties.open_cases,
                                              l.options.fillColor]; });
          return out; }"""
        chart = "window.gridgovCharts[0].data.datasets[0].data.reduce((a, b) => a + b, 0)"
        before = page.evaluate(f"({grids})()")
        charted = page.evaluate(chart)
        rates = page.locator(".gg-stats-rates").inner_text()
        # a new case in another grid, the first one rejected: no reload
        new = client.post(
            "/api/v1/issues", json={**GOOD_REPORT, "lon": 121.8240, "lat": 29.8980}
        ).json()
        _move(client, first["id"], tokens["manager"], to="rejected", note="重复上报")
        loads = page.evaluate("window.gridgovState.gridLoads")
        page.clock.fast_forward(10_000)
        wait_for_js(
            page,
            f"window.gridgovState.gridLoads > {loads} && window.gridgovStatsState.loads > 1",
            timeout=10_000,
        )
        after = page.evaluate(f"({grids})()")
        charted_after = page.evaluate(chart)
        ticks = page.evaluate("window.gridgovCharts[1].options.scales.y.ticks.callback(50)")
        page.close()
    app.state.engine.dispose()
    assert errors == []
    shimao, elsewhere = GRID16, new["grid"]["code"]
    assert before[shimao][0] == 1 and after[shimao][0] == 0
    assert before[elsewhere][0] == 0 and after[elsewhere][0] == 1
    assert before[shimao][1] != after[shimao][1] and before[elsewhere][1] != after[elsewhere][1]
    # the panel counts what the map's default filter counts: every open case
    assert charted == charted_after == 2
    # nothing closed of the one case due: 0 %, written as a percentage
    assert re.fullmatch(r"近90天：结案率 0%，按期结案率 0%", rates), rates
    assert ticks == "50%"


LAYOUT = """() => {
  const box = e => e.getBoundingClientRect();
  const map = document.querySelector('.folium-map'), dock = document.getElementById('gg-dock');
  const m = box(map), d = box(dock);
  const overlap = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const PANELS = '#gg-filters, #gg-stats, .gg-legend, .leaflet-control-layers';
  const panels = [...document.querySelectorAll(PANELS)];
  const input = document.querySelector('.leaflet-control-search input.search-input');
  const style = getComputedStyle(input);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.fontSize + ' ' + style.fontFamily;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const name = Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom);
  return {
    open: document.body.classList.contains('gg-dock-open'),
    mapRight: m.right, dockLeft: d.left, width: window.innerWidth,
    covered: panels.filter(p => p.offsetParent !== null && overlap(box(p), m)).length,
    inMap: map.querySelectorAll(PANELS).length,
    sized: window[name].getSize().x === map.clientWidth,
    hint: ctx.measureText(input.placeholder).width <= room,
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize(
    ("width", "height", "lang"), [(1440, 900, "zh"), (1280, 720, "zh"), (1280, 720, "en")]
)
def test_panels_sit_in_a_dock_beside_the_map_never_over_it(
    browser: Any, settings: Any, width: int, height: int, lang: str
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": width, "height": height})
        errors = _watch_errors(page, base)
        page.goto(f"{base}/?lang={lang}", wait_until="load")
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", timeout=20_000)
        seen = [page.evaluate(f"({LAYOUT})()")]
        page.locator("#gg-dock-toggle").click()
        wait_for_js(page, f"({LAYOUT})().sized")
        seen.append(page.evaluate(f"({LAYOUT})()"))
        page.locator("#gg-dock-toggle").click()
        wait_for_js(page, f"({LAYOUT})().sized")
        seen.append(page.evaluate(f"({LAYOUT})()"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"manager-map-dock-{width}-{lang}.png"))
        page.close()
    app.state.engine.dispose()
    assert errors == []
    # open on a wide screen, folded on a laptop's, and either way the toggle's choice
    assert [s["open"] for s in seen] == (
        [True, False, True] if width >= 1400 else [False, True, False]
    )
    for s in seen:
        assert s["mapRight"] <= s["dockLeft"] and s["covered"] == 0 and s["inMap"] == 0, s
        assert s["sized"] and s["hint"], s
    widths = {s["open"]: s["dockLeft"] for s in seen}
    assert widths[True] < widths[False] <= width - 20


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_managers_map_signs_in_checks_the_token_and_signs_out(
    browser: Any, settings: Any, tokens: dict[str, str], lang: str
) -> None:
    from api.app import create_app
    from layers.i18n import labels

    words = labels(lang, "map")
    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page, _ = offline_page(browser, base, viewport={"width": 1440, "height": 900})
        page.goto(base + f"/?lang={lang}", wait_until="load")
        wait_for_js(page, "window.gridgovSignin.state !== undefined", timeout=20_000)
        root = page.locator("#gg-signin")
        box = root.locator("input[name=token]")
        box.fill("not-a-token")
        root.locator(".gg-signin-form button[type=submit]").click()
        message = root.locator(".gg-signin-message")
        wait_for_js(page, "document.querySelector('.gg-signin-message').textContent !== ''")
        refused = message.inner_text()
        kept_bad = page.evaluate("localStorage.getItem('gridgovToken')")
        box.fill(tokens["manager"])
        root.locator(".gg-signin-form button[type=submit]").click()
        who = root.locator(".gg-who")
        who.wait_for(state="visible", timeout=10_000)
        shown = who.inner_text()
        kept = page.evaluate("localStorage.getItem('gridgovToken')")
        form_shown = root.locator(".gg-signin-form").is_visible()
        # a manager sees where the squads are, at once and no longer once signed out
        wait_for_js(page, "window.gridgovState.squads.getLayers().length === 8", timeout=10_000)
        root.locator(".gg-signout").click()
        root.locator(".gg-signin-form").wait_for(state="visible", timeout=5_000)
        wait_for_js(page, "window.gridgovState.squads.getLayers().length === 0", timeout=10_000)
        after = page.evaluate("localStorage.getItem('gridgovToken')")
        page.close()
    app.state.engine.dispose()
    assert refused == words["token_bad"] and kept_bad is None
    role = labels(lang, "role")["manager"]
    assert shown == words["signed_in"].format(name="test manager", role=role)
    assert kept == tokens["manager"] and after is None and not form_shown
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{3,}", shown.replace("test manager", ""))
