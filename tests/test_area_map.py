"""The managers' map by area (``/?area=``): a street's communities coloured by their
figures, a community's own map with nothing of its neighbours, the default area, bad
and unknown areas; the API's ``area`` filter; and, in Chromium, drilling down from the
street to a community."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.indicators import indicators
from cases.lifecycle import OPEN_STATUSES
from layers.colours import OPEN_COLOURS, count_colour, count_legend, rate_colour, rate_legend
from service.pages import AreaOverview, CommunityMap, area_figures, map_view
from store.db import make_engine
from store.demo import load_demo_cases
from store.issues import cases_frame
from store.load import load_folder
from store.models import Issue
from tests.helpers import (
    ARTIFACTS,
    GAOTANG_CODE,
    GAOTANG_NAME,
    LINGXIAO_CODE,
    MORNING,
    auth,
    neighbour_community,
    offline_page,
    serving,
    vendor_modules,
    wait_for_js,
    watch_csp,
)

LINGXIAO, GAOTANG = LINGXIAO_CODE, GAOTANG_CODE
XINQI = "330206002"
OPEN = {s.value for s in OPEN_STATUSES}


@pytest.fixture()
def street_cases(street: str) -> str:
    """The street of Lingxiao and Gaotang with a demo history over both communities'
    grids, ending at ``MORNING``."""
    engine = make_engine(street)
    with Session(engine) as session, session.begin():
        load_demo_cases(session, MORNING, count=120)
    engine.dispose()
    return street


def _app(url: str, tmp_path: Path) -> Any:
    from api.app import create_app
    from service.settings import Settings

    app = create_app(Settings(database_url=url, var_dir=tmp_path / "var", report_rate=10_000))
    app.state.clock = lambda: MORNING
    return app


@pytest.fixture()
def street_api(street_cases: str, tmp_path: Path) -> Iterator[TestClient]:
    """A TestClient on the app over the street with its cases, at ``MORNING``."""
    app = _app(street_cases, tmp_path)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


# --- the figures -----------------------------------------------------------------------


def test_the_street_view_counts_each_community_as_a_direct_count_does(street_cases: str) -> None:
    engine = make_engine(street_cases)
    with Session(engine) as session:
        view = map_view(session, XINQI)
        assert isinstance(view, AreaOverview) and (view.area, view.level) == (XINQI, "street")
        figures = area_figures(session, MORNING, XINQI)
        cases = list(session.scalars(select(Issue)))
        frame = cases_frame(session, figures.since, figures.until, MORNING)
    engine.dispose()
    assert list(view.communities["code"]) == [LINGXIAO, GAOTANG]
    assert list(view.communities["name"]) == ["凌霄社区", GAOTANG_NAME]
    table = figures.communities.set_index("code")
    assert figures.area == XINQI and list(table.index) == [LINGXIAO, GAOTANG]
    rates = indicators(frame, "community_code", figures.since, figures.until, MORNING)
    rates = rates.set_index("community_code")
    for code in (LINGXIAO, GAOTANG):
        mine = [i for i in cases if i.community_code == code]
        period = [i for i in mine if figures.since <= i.reported_at < figures.until]
        closed = sum(i.status == "closed" for i in period)
        # due (应结案), worked by hand: filed, and closed or past its handling deadline
        due = sum(
            i.filed_at is not None
            and (i.status == "closed" or (i.handle_deadline or MORNING) < MORNING)
            for i in period
        )
        row = table.loc[code]
        assert row["open_cases"] == sum(i.status in OPEN for i in mine) > 0, code
        assert row["overdue_cases"] == sum(i.overdue_at(MORNING) for i in mine), code
        assert (row["closed"], row["due"]) == (closed, due) and due > 0, code
        assert row["closure_rate"] == pytest.approx(closed / due), code
        assert row["closure_rate"] == pytest.approx(rates.loc[code, "closure_rate"]), code
    assert table["overdue_cases"].sum() > 0, "a street with nothing overdue tests little"


def test_the_street_page_names_each_community_and_the_api_gives_its_figures(
    street_cases: str, street_api: TestClient
) -> None:
    page = street_api.get("/", params={"area": XINQI, "lang": "zh"})
    assert page.status_code == 200 and "<title>新碶街道网格治理地图</title>" in page.text
    engine = make_engine(street_cases)
    with Session(engine) as session:
        view = map_view(session, XINQI)
        figures = area_figures(session, MORNING, XINQI).communities.set_index("code")
    engine.dispose()
    assert isinstance(view, AreaOverview)
    # the page holds no figures (it is kept for many answers): the API gives them
    assert '"figures": []' in page.text and "· 超期" not in page.text
    answer = street_api.get("/api/v1/overview", params={"area": XINQI, "lang": "zh"}).json()
    assert set(answer["communities"]) == {LINGXIAO, GAOTANG}
    assert set(answer["legends"]) == {"open_cases", "overdue_cases", "closure_rate"}
    for row in view.communities.itertuples():
        mine = figures.loc[row.code]
        opened, late = int(mine["open_cases"]), int(mine["overdue_cases"])
        rate = "—" if mine["closure_rate"] is None else f"{mine['closure_rate']:.0%}"
        given = answer["communities"][row.code]
        assert given["figures"] == [f"未结 {opened} · 超期 {late}", f"结案率 {rate}"]
        assert (given["open_cases"], given["overdue_cases"]) == (opened, late)
        assert row.name in page.text
        # inside a script, JSON writes "&" as \u0026 (templating.safe_json)
        assert f'"href": "/?area={row.code}\\u0026lang=zh"' in page.text
    english = street_api.get("/", params={"area": XINQI, "lang": "en"}).text
    assert "<title>Street 330206002 grid governance map</title>" in english
    assert "Lingxiao community" in english
    assert "凌霄社区" not in english
    figures_en = street_api.get("/api/v1/overview", params={"area": XINQI, "lang": "en"}).json()
    lines = [line for c in figures_en["communities"].values() for line in c["figures"]]
    assert any("closure rate" in line for line in lines) and not any("未结" in x for x in lines)
    # the language came from the browser: links leave it to the browser again
    accepted = street_api.get("/", params={"area": XINQI}, headers={"Accept-Language": "en"})
    assert f'"href": "/?area={LINGXIAO}"' in accepted.text


def test_colours_and_legends_follow_the_figures() -> None:
    assert [count_colour(n, 8, OPEN_COLOURS) for n in (0, 1, 2, 3, 8, 9)] == [
        OPEN_COLOURS[0],
        OPEN_COLOURS[1],
        OPEN_COLOURS[1],
        OPEN_COLOURS[2],
        OPEN_COLOURS[4],
        OPEN_COLOURS[4],
    ]
    assert count_legend(8, OPEN_COLOURS) == list(
        zip(OPEN_COLOURS, ["0", "1–2", "3–4", "5–6", "7–8"], strict=True)
    )
    assert [label for _, label in count_legend(2, OPEN_COLOURS)] == ["0", "1", "2"]
    assert count_legend(0, OPEN_COLOURS) == [(OPEN_COLOURS[0], "0")]
    assert rate_colour(None) == rate_colour(float("nan")) == rate_legend("x")[-1][0]
    assert rate_colour(0.2) != rate_colour(0.97)
    assert rate_colour(0.95) == rate_legend("x")[0][0] and rate_legend("x")[0][1] == "≥ 95%"


# --- one community ---------------------------------------------------------------------


def test_the_community_view_draws_nothing_of_its_neighbour(
    street_cases: str, street_api: TestClient
) -> None:
    engine = make_engine(street_cases)
    with Session(engine) as session:
        view = map_view(session, LINGXIAO)
        theirs = session.scalar(select(Issue.id).where(Issue.community_code == GAOTANG))
        mine = list(session.scalars(select(Issue.id).where(Issue.community_code == LINGXIAO)))
    engine.dispose()
    assert isinstance(view, CommunityMap) and view.code == LINGXIAO
    assert view.up == (XINQI, "street")
    grids = view.layers["grids"]
    assert len(grids) == 22 and all(str(c).startswith(LINGXIAO) for c in grids["code"])
    for layer in ("merchants", "squads", "service_points", "parking"):
        ids = [str(i) for i in view.layers[layer].get("id", [])]
        assert ids and not [i for i in ids if i.startswith("GT-")], layer
    assert list(view.layers["community"]["code"]) == [LINGXIAO]
    page = street_api.get("/", params={"area": LINGXIAO, "lang": "zh"}).text
    assert f"{LINGXIAO}001" in page and GAOTANG not in page and "高塘" not in page
    assert '"area": "330206002016"' in page  # the live layers ask for its cases only
    assert f'href="/?area={XINQI}&amp;lang=zh"' in page  # and the way back up
    # the cases the page fetches: the community's only
    listed = street_api.get("/api/v1/issues", params={"area": LINGXIAO, "limit": 1000}).json()
    assert sorted(f["id"] for f in listed["features"]) == sorted(mine)
    assert theirs is not None and theirs not in {f["id"] for f in listed["features"]}
    everywhere = street_api.get("/api/v1/issues", params={"limit": 1000}).json()
    assert theirs in {f["id"] for f in everywhere["features"]}
    cells = street_api.get("/api/v1/issues/cells", params={"area": LINGXIAO}).json()
    assert cells["total"] == len(mine)
    stats = street_api.get("/api/v1/stats", params={"area": LINGXIAO}).json()
    assert stats["rows"] and all(r["key"].startswith(LINGXIAO) for r in stats["rows"])
    assert sum(r["reported"] for r in stats["rows"]) == len(mine)
    grid = street_api.get("/api/v1/issues", params={"area": f"{GAOTANG}001", "limit": 1000})
    assert all(f["properties"]["grid"]["code"] == f"{GAOTANG}001" for f in grid.json()["features"])


def test_a_grid_code_opens_its_communitys_map_on_the_grid(
    street_cases: str, street_api: TestClient
) -> None:
    engine = make_engine(street_cases)
    with Session(engine) as session:
        view = map_view(session, f"{GAOTANG}005")
    engine.dispose()
    assert isinstance(view, CommunityMap) and view.code == GAOTANG and view.focus is not None
    page = street_api.get("/", params={"area": f"{GAOTANG}005"})
    assert page.status_code == 200 and "fitBounds" in page.text and LINGXIAO not in page.text


# --- the default area ------------------------------------------------------------------


def test_one_community_loaded_is_todays_map_of_it(api: TestClient) -> None:
    page = api.get("/", params={"lang": "zh"}).text
    assert "<title>凌霄网格治理地图</title>" in page
    assert len(re.findall("gg-grid-label", page)) >= 22
    assert "gridgovArea" not in page and "gg-up" not in page  # nowhere to go up to


def test_several_communities_of_one_street_default_to_the_street(street_api: TestClient) -> None:
    page = street_api.get("/", params={"lang": "zh"}).text
    assert "<title>新碶街道网格治理地图</title>" in page
    assert "凌霄社区" in page and GAOTANG_NAME in page and "gridgovArea" in page


def test_communities_of_several_streets_default_to_the_deployments_overview(
    street: str, tmp_path: Path
) -> None:
    """A third community in another street: the district (the smallest area holding
    them all) is the default; in another district, the whole deployment."""
    far = neighbour_community(tmp_path / "far", "330206003001", "远山社区(示意)", 0.12, "FS-")
    engine = make_engine(street)
    assert load_folder(engine, far).ok
    with Session(engine) as session:
        district = map_view(session)
        street_view = map_view(session, XINQI)
    assert isinstance(district, AreaOverview) and (district.area, district.level) == (
        "330206",
        "district",
    )
    assert list(district.communities["code"]) == [LINGXIAO, GAOTANG, "330206003001"]
    assert isinstance(street_view, AreaOverview) and street_view.up == ("330206", "district")
    assert len(street_view.communities) == 2
    other = neighbour_community(tmp_path / "other", "330211001001", "别区社区(示意)", -0.1, "OD-")
    assert load_folder(engine, other).ok
    with Session(engine) as session:
        everything = map_view(session)
    engine.dispose()
    assert isinstance(everything, AreaOverview)
    assert (everything.area, everything.level, everything.up) == ("", "deployment", None)
    assert len(everything.communities) == 4


# --- bad and unknown areas -------------------------------------------------------------


@pytest.mark.parametrize("area", ["abc", "３３０２０６００２", "3302060020", " 330206002", "0x1"])
def test_a_bad_area_is_a_422_page(api: TestClient, area: str) -> None:
    page = api.get("/", params={"area": area})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>") and "area code" in page.text
    listed = api.get("/api/v1/issues", params={"area": area})
    assert listed.status_code == 422 and listed.json()["error"]["code"] == "bad_area"
    assert api.get("/api/v1/stats", params={"area": area}).status_code == 422


@pytest.mark.parametrize(
    ("area", "says"),
    [
        ("330206003", "no community of street 330206003"),
        ("330211", "no community of district 330211"),
        ("330206002099", "no community 330206002099"),
        ("330206002099001", "no community 330206002099"),
        ("330206002016099", "no grid 330206002016099"),
    ],
)
def test_an_area_with_nothing_loaded_is_a_404_page(api: TestClient, area: str, says: str) -> None:
    page = api.get("/", params={"area": area})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert says in page.text


# --- signed in --------------------------------------------------------------------------


def _token(url: str, area: str) -> str:
    """A manager's token holding in ``area`` ("" the whole deployment)."""
    from store.users import add_user

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        _, token = add_user(session, f"manager of {area or 'all'}", "manager", MORNING, area=area)
    engine.dispose()
    return token


def test_me_names_the_user_and_their_area(street_cases: str, street_api: TestClient) -> None:
    token = _token(street_cases, LINGXIAO)
    me = street_api.get("/api/v1/me", headers=auth(token))
    assert me.json() == {"name": f"manager of {LINGXIAO}", "role": "manager", "area": LINGXIAO}
    assert street_api.get("/api/v1/me").status_code == 401
    assert street_api.get("/api/v1/me", headers=auth("nobody")).status_code == 401
    wide = street_api.get("/api/v1/me", headers=auth(_token(street_cases, ""))).json()
    assert wide["area"] == ""
    # the default page asks, an area the page was asked for does not
    assert "gridgovHome" in street_api.get("/").text
    assert "gridgovHome" in street_api.get("/", params={"area": ""}).text
    assert "gridgovHome" not in street_api.get("/", params={"area": XINQI}).text
    assert "gridgovHome" not in street_api.get("/", params={"area": LINGXIAO}).text


# --- in a real browser -----------------------------------------------------------------

# a point of the community's polygon that a click reaches (not under its label), in
# page coordinates: the label's place moved down and sideways until the polygon is hit
POLYGON_POINT = """(code) => {
  var s = window.gridgovAreaState, layer = s.polygons[code];
  var box = s.map.getContainer().getBoundingClientRect();
  var at = s.map.latLngToContainerPoint(s.labels[code].getLatLng());
  for (var dy = 30; dy < 200; dy += 10) {
    for (var dx = -60; dx <= 60; dx += 20) {
      var x = box.left + at.x + dx, y = box.top + at.y + dy;
      if (document.elementFromPoint(x, y) === layer._path) { return [x, y]; }
    }
  }
  return null;
}"""


@pytest.mark.browser
def test_street_map_in_chromium_drills_down_to_a_community(
    browser: Any, street_cases: str, tmp_path: Path
) -> None:
    vendor_modules()
    app = _app(street_cases, tmp_path)
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        violations = watch_csp(page)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/?area={XINQI}&lang=zh", wait_until="load")
        wait_for_js(page, "window.gridgovAreaState && window.gridgovAreaState.figureLoads > 0")
        labels = page.locator(".gg-area-label")
        assert labels.count() == 2
        texts = labels.all_inner_texts()
        assert any("凌霄社区" in t and "结案率" in t for t in texts), texts
        assert any(GAOTANG_NAME in t for t in texts), texts
        assert page.locator("path.leaflet-interactive").count() == 2
        # coloured by open cases first; the control switches to overdue cases
        fill = f"window.gridgovAreaState.polygons['{LINGXIAO}'].options.fillColor"
        props = f"window.gridgovAreaState.polygons['{LINGXIAO}'].feature.properties.fill"
        assert page.evaluate(fill) == page.evaluate(f"{props}.open_cases")
        page.get_by_label("超期案件").check()
        wait_for_js(page, f"{fill} === {props}.overdue_cases")
        assert page.locator(".gg-area-panel li").count() >= 2
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "street-map.png"))
        assert violations() == []
        # clicking Gaotang's polygon opens its map, with its grids
        point = page.evaluate(POLYGON_POINT, GAOTANG)
        assert point is not None, "no point of the polygon is clickable"
        with page.expect_navigation(wait_until="commit"):
            page.mouse.click(*point)
        address = urlsplit(page.url)
        assert address.path == "/" and parse_qs(address.query) == {
            "area": [GAOTANG],
            "lang": ["zh"],
        }
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", 20_000)
        assert page.locator(".gg-grid-label").count() == 22
        drawn = page.content()
        assert f"{GAOTANG}001" in drawn and f"{LINGXIAO}001" not in drawn
        grids = page.evaluate(
            "Object.values(window.gridgovState.byId)"
            ".map(function (m) { return m.feature.properties.grid.code; })"
        )
        assert grids and all(g.startswith(GAOTANG) for g in grids), grids
        assert page.locator("a.gg-up").get_attribute("href") == f"/?area={XINQI}&lang=zh"
        page.screenshot(path=str(ARTIFACTS / "street-map-drilled.png"))
        assert violations() == []
        # and clicking a label drills down too
        page.locator("a.gg-up").click()
        wait_for_js(page, "window.gridgovAreaState && window.gridgovAreaState.map")
        with page.expect_navigation(wait_until="commit"):
            page.locator(".gg-area-label div", has_text="凌霄社区").click()
        assert parse_qs(urlsplit(page.url).query)["area"] == [LINGXIAO]
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", 20_000)
        assert violations() == []
        # signed in (a token the page keeps), the default map opens on the user's area
        page.evaluate(f"localStorage.setItem('gridgovToken', '{_token(street_cases, GAOTANG)}')")
        with page.expect_navigation(url=re.compile(r"area="), wait_until="commit"):
            page.goto(f"{base}/?lang=zh")
        assert parse_qs(urlsplit(page.url).query) == {"area": [GAOTANG], "lang": ["zh"]}
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0", 20_000)
        assert violations() == []
        page.close()
    app.state.engine.dispose()
    tiles = [u for u in outside if "tile.openstreetmap.org" in u]
    assert outside == tiles, f"the page tried to reach {set(outside) - set(tiles)}"
    assert errors == []
