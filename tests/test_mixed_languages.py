"""Issue 15 point 11: the managers' map in one language. A merchant's category by its
name, never its code; no grid head by id (a member, known only by an id); the
statistics' categories with their English names on the English page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from layers.i18n import labels
from tests.helpers import (
    GOOD_REPORT,
    MORNING,
    offline_page,
    post_json,
    vendor_modules,
    wait_for_js,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
CATEGORIES = ("beauty", "food", "pharmacy", "repairs", "retail", "services", "training")


def has(page: str, text: str) -> bool:
    """Whether ``page`` holds ``text`` as it is or ASCII-escaped in JSON (map data)."""
    return text in page or json.dumps(text)[1:-1] in page


def test_merchant_popups_name_the_category_in_the_pages_language(api: Any) -> None:
    for lang in ("zh", "en"):
        page = api.get("/", params={"lang": lang}).text
        shops = labels(lang, "shop")
        assert set(CATEGORIES) <= set(shops)
        for code in CATEGORIES:
            # the popups sit in the page's script as JSON-escaped HTML
            assert not re.search(rf"[:：]\s*{code}\b", page), (lang, code)
        word = labels(lang, "map")["category"]
        named = [shops[c] for c in CATEGORIES if f"{word}: {shops[c]}" in page]
        assert len(named) >= 3, (lang, named)


def test_the_grid_tooltip_shows_no_grid_head_id(api: Any) -> None:
    for lang in ("zh", "en"):
        page = api.get("/", params={"lang": lang}).text
        assert not re.search(r"\bGH\d\d\b", page), lang
        assert not has(page, labels(lang, "map")["grid_head"]), lang


def test_statistics_name_categories_in_both_languages(api: Any) -> None:
    api.app.state.clock = lambda: MORNING
    assert api.post("/api/v1/issues", json=GOOD_REPORT).status_code == 201
    rows = api.get("/api/v1/stats", params={"group_by": "category"}).json()["rows"]
    row = next(r for r in rows if r["key"] == "stairwell_clutter")
    assert row["name"] == "楼道堆物" and row["name_en"] == "Stairwell clutter"
    grids = api.get("/api/v1/stats", params={"group_by": "grid"}).json()["rows"]
    grid = next(r for r in grids if r["key"] == "330206002016016")
    assert grid["name"] == "凌霄社区第十六网格"
    assert grid["name_en"] == "Lingxiao community grid 16"
    # the panel is told the page's language, to pick the name from
    for lang in ("zh", "en"):
        page = api.get("/", params={"lang": lang}).text
        found = re.search(r"gridgovStats\([^,]+, (\{.*?\})\);", page)
        assert found, lang
        assert json.loads(found.group(1))["lang"] == lang


@pytest.mark.browser
def test_the_category_chart_speaks_the_pages_language(browser: Any, live_server: str) -> None:
    vendor_modules()
    post_json(f"{live_server}/api/v1/issues", GOOD_REPORT)
    for lang, name in (("zh", "楼道堆物"), ("en", "Stairwell clutter")):
        page, _ = offline_page(browser, live_server, viewport={"width": 1440, "height": 900})
        page.goto(f"{live_server}/?lang={lang}", wait_until="load")
        shown = wait_for_js(
            page,
            "window.gridgovStatsState && window.gridgovStatsState.loads > 0"
            " && window.gridgovCharts[2] && window.gridgovCharts[2].data.labels",
        )
        assert name in shown, (lang, shown)
        if lang == "en":
            assert not [s for s in shown if CJK.search(s)], shown
        page.close()


def test_names_follow_the_page_where_the_data_has_english_ones(api: Any) -> None:
    # the sample's squads have name_en; its grids are named in English on loading
    zh = api.get("/").text
    en = api.get("/", params={"lang": "en"}).text
    assert has(zh, "文明播客先锋队") and not has(zh, "Civility broadcasters")
    assert has(en, "Civility broadcasters") and not has(en, "文明播客先锋队")
    assert has(zh, "凌霄社区第一网格") and not has(zh, "Lingxiao community grid 1")
    assert has(en, "Lingxiao community grid 1") and not has(en, "凌霄社区第一网格")


def test_grids_are_named_in_english_after_their_community_on_loading() -> None:
    import geopandas as gpd

    from store.load import english_grid_names
    from tests.helpers import BOUNDARIES

    grids = gpd.read_file(BOUNDARIES / "grids.geojson").head(3)
    community = gpd.read_file(BOUNDARIES / "community.geojson")
    named = english_grid_names(grids, community)
    assert list(named["name_en"]) == [f"Lingxiao community grid {n}" for n in (1, 2, 3)]
    assert "name_en" not in grids  # the frame given is left as it was
    # an English name in the data stays; a grid coded outside the divisions gets none
    grids["name_en"] = ["West grid", None, ""]
    grids.loc[2, "code"] = "G0003"
    made = english_grid_names(grids, community)["name_en"]
    assert [v if isinstance(v, str) else None for v in made] == [
        "West grid",
        "Lingxiao community grid 2",
        None,
    ]
    # a community with no English name: nothing is made up
    assert english_grid_names(grids.drop(columns="name_en"), community.drop(columns="name_en"))[
        "name"
    ].equals(grids["name"])
    assert "name_en" not in english_grid_names(grids.drop(columns="name_en"), None)


def test_the_api_gives_english_names_beside_the_chinese_ones(api: Any, tokens: Any) -> None:
    from tests.helpers import auth

    api.app.state.clock = lambda: MORNING
    case = api.post("/api/v1/issues", json=GOOD_REPORT).json()
    assert case["grid"]["name"] == "凌霄社区第十六网格"
    assert case["grid"]["name_en"] == "Lingxiao community grid 16"
    where = api.get(
        "/api/v1/locate", params={"lon": GOOD_REPORT["lon"], "lat": GOOD_REPORT["lat"]}
    ).json()
    assert where["grid"]["name_en"] == "Lingxiao community grid 16"
    boss = auth(tokens["dispatcher"])
    ranked = api.get(
        "/api/v1/dispatch/candidates", params={"issue_id": case["id"]}, headers=boss
    ).json()
    shown = ranked["candidates"] + ranked["excluded"]
    assert shown and all(c["squad_name_en"] and not CJK.search(c["squad_name_en"]) for c in shown)
    sent = api.post(f"/api/v1/issues/{case['id']}/dispatch", json={}, headers=boss).json()
    squad = api.get(f"/api/v1/issues/{case['id']}").json()["squad"]
    assert squad["id"] == sent["assignment"]["squad_id"]
    assert squad["name_en"] == sent["assignment"]["squad_name_en"] and squad["name_en"]


def test_grid_names_in_english_where_the_grids_have_them() -> None:
    import geopandas as gpd

    from layers.manager_map import manager_map
    from layers.page import page_html
    from tests.helpers import BOUNDARIES

    grids = gpd.read_file(BOUNDARIES / "grids.geojson").head(3)
    grids["open_cases"] = grids["overdue_cases"] = 0
    grids["name_en"] = ["Grid one", None, "Grid three"]
    pages = {
        lang: page_html(manager_map({"grids": grids}, lang=lang, live=False), lang)
        for lang in ("zh", "en")
    }
    zh, en = pages["zh"], pages["en"]
    assert has(en, "Grid one") and has(en, "Grid three")
    assert not has(en, "凌霄社区第一网格") and has(en, "凌霄社区第二网格")
    assert not has(zh, "Grid one") and has(zh, "凌霄社区第一网格")


def test_category_glyphs_are_letters_on_english_pages(api: Any) -> None:
    from layers.text import CATEGORY_GLYPHS, category_glyphs

    english = category_glyphs("en")
    assert set(english) == set(CATEGORY_GLYPHS)
    assert len(set(english.values())) == len(english)
    assert all(g.isascii() and g.isalpha() for g in english.values())
    for lang in ("zh", "en"):
        page = api.get("/", params={"lang": lang}).text
        found = re.search(r'"glyphs": (\{[^}]*\})', page)
        assert found, lang
        assert json.loads(found.group(1)) == category_glyphs(lang), lang
