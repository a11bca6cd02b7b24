"""The page-text catalogue (zh, en), the templates, and choosing a page's language."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from api.i18n import accepted_languages, pick_lang
from layers.i18n import LANGS, catalogue_path, gettext_for, labels, message_ids
from layers.manager_map import map_title
from layers.templating import render, safe_json
from layers.text import STATUS_COLOURS
from tests.helpers import XSS

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        ("en;q=0.2, zh-CN;q=0.9", "zh", "zh"),
        ("en;q=0.2, zh-CN;q=0.9", "en", "zh"),
        ("fr, en;q=0.5", "zh", "en"),
        ("*", "zh", "zh"),
        ("*", "en", "en"),
        ("fr, *;q=0.5, en;q=0.4", "zh", "zh"),
        ("en-GB,en;q=0.9", "zh", "en"),
        ("zh-Hant-TW", "en", "zh"),
        ("EN-us", "zh", "en"),
        ("zh;q=0, en;q=0.1", "zh", "en"),
        ("en;q=oops, zh;q=0.1", "en", "zh"),
        ("de, fr;q=0.8", "zh", "zh"),
        ("en;q=0.5, zh;q=0.5", "zh", "en"),  # equal weights keep the header's order
        ("", "en", "en"),
        (None, "zh", "zh"),
    ],
)
def test_accept_language_is_weighed_by_q(header: str | None, default: str, expected: str) -> None:
    assert pick_lang(None, header, default) == expected


def test_query_wins_over_the_header_and_unknown_queries_are_ignored() -> None:
    assert pick_lang("en", "zh-CN", "zh") == "en"
    assert pick_lang("fr", "en;q=0.1", "zh") == "en"
    assert accepted_languages("a;q=0.1, b, c;q=0.5, d;q=0") == ["b", "c", "a"]


def test_pages_follow_accept_language(api: TestClient) -> None:
    for path in ("/about", "/", "/report", "/planning/parking"):
        en = api.get(path, headers={"Accept-Language": "zh;q=0.3, en-US;q=0.8"}).text
        assert '<html lang="en">' in en, path
        zh = api.get(path, headers={"Accept-Language": "fr, zh-CN;q=0.7, en;q=0.5"}).text
        assert '<html lang="zh">' in zh, path
        assert '<html lang="zh">' in api.get(path, headers={"Accept-Language": "*"}).text
        forced = api.get(path + "?lang=zh", headers={"Accept-Language": "en"}).text
        assert '<html lang="zh">' in forced, path


def test_catalogues_hold_the_same_messages_all_translated() -> None:
    zh, en = message_ids("zh"), message_ids("en")
    assert zh == en and len(set(zh)) == len(zh)
    for lang in LANGS:
        assert catalogue_path(lang).is_file()
        gettext = gettext_for(lang).gettext
        for key in message_ids(lang):
            text = gettext(key)
            assert text and text != key, (lang, key)
            assert "%" not in text, (lang, key)
    for key in zh:
        placeholders = {
            lang: set(PLACEHOLDER.findall(gettext_for(lang).gettext(key))) for lang in LANGS
        }
        assert placeholders["zh"] == placeholders["en"], key


def test_english_text_has_no_chinese_in_it() -> None:
    gettext = gettext_for("en").gettext
    # the language switch names Chinese in Chinese, as switches do
    mixed = [k for k in message_ids("en") if CJK.search(gettext(k)) and k != "about.other_lang"]
    assert mixed == []


def test_labels_are_a_section_of_the_catalogue() -> None:
    report = labels("zh", "report")
    assert report["thanks"] == "已收到，谢谢！"
    assert report["outside"] == "此处在{c}外约{m}米，请移动图钉"
    assert labels("en", "map")["layer_overdue"] == "Grids: overdue cases"
    assert labels("en", "status")["in_progress"] == "in progress"
    with pytest.raises(ValueError, match="fr"):
        gettext_for("fr")


def test_map_title_takes_the_community_name_from_the_data() -> None:
    def community(**names: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame([names], geometry=[Point(0, 0)], crs="EPSG:4326")

    sample = community(name="凌霄社区", name_en="Lingxiao community")
    assert map_title(sample, "zh") == "凌霄网格治理地图"
    assert map_title(sample, "en") == "Lingxiao grid governance map"
    assert map_title(community(name="松涛社区", name_en="Songtao Community"), "en") == (
        "Songtao grid governance map"
    )
    assert map_title(community(name="松涛"), "zh") == "松涛网格治理地图"
    assert map_title(None, "zh") == "网格治理地图"
    assert map_title(community(name="社区"), "zh") == "社区网格治理地图"


def test_templates_escape_what_residents_type() -> None:
    page = render(
        "follow.html",
        "en",
        script_url="/static/gridgov-follow.js",
        issue_id=7,
        case={
            "status": "filed",
            "category": {"code": "x", "name_en": XSS[1]},
            "grid": {"name": XSS[0]},
            "squad": None,
            "description": XSS[1],
            "deadline": None,
        },
        events=[{"at": "2026-01-01T00:00:00Z", "to": "filed"}],
        statuses=labels("en", "status"),
        colours=STATUS_COLOURS,
        now="2026-01-02T00:00:00Z",
        tz="Asia/Shanghai",
    )
    assert XSS[0] not in page and XSS[1] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Waiting for dispatch" in page
    assert "</script>" not in safe_json({"name": "</script>" + XSS[1]})
