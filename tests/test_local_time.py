"""Pages write times in the community's local time (Asia/Shanghai), in their language,
with ages from the server's clock; the API keeps ISO UTC."""

from __future__ import annotations

import re
from typing import Any

import pytest

from layers.timefmt import local_time, relative, when
from tests.helpers import GOOD_REPORT, MORNING

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.mark.parametrize(
    ("iso", "lang", "written"),
    [
        ("2026-12-01T16:00:00Z", "zh", "2026年12月2日 00:00"),  # past midnight in Beijing
        ("2026-12-01T16:00:00Z", "en", "Dec 2, 2026 00:00"),
        ("2026-11-26T02:00:00+00:00", "zh", "2026年11月26日 10:00"),
        ("2026-11-26T02:00:00", "en", "Nov 26, 2026 10:00"),  # naive: UTC
    ],
)
def test_an_instant_is_written_in_local_time(iso: str, lang: str, written: str) -> None:
    assert local_time(iso, lang, "Asia/Shanghai") == written


def test_ages_and_time_left_read_in_the_pages_language() -> None:
    now = "2026-11-28T10:00:00Z"
    assert relative("2026-11-25T10:00:00Z", now, "zh") == "3天前"
    assert relative("2026-11-25T10:00:00Z", now, "en") == "3 days ago"
    assert relative("2026-11-28T15:00:00Z", now, "en") == "in 5 hours"
    assert when("2026-12-01T16:00:00Z", now, "zh", "Asia/Shanghai") == (
        "2026年12月2日 00:00（3天后）"
    )
    assert relative(now, now, "zh") == "刚刚" and relative(now, now, "en") == "just now"
    assert when(None, now, "en", "Asia/Shanghai") == local_time("", "en", "UTC") == ""


@pytest.mark.dated
def test_case_and_follow_pages_show_local_times_and_the_api_keeps_utc(api: Any) -> None:
    api.app.state.clock = lambda: MORNING  # 10:00 on 26 November in Ningbo
    case = api.post("/api/v1/issues", json=GOOD_REPORT).json()
    assert case["reported_at"] == "2026-11-26T02:00:00Z"  # the API: ISO UTC
    for path in (f"/issues/{case['id']}", f"/report/{case['id']}"):
        zh = api.get(path).text
        assert "2026年11月26日 10:00" in zh, path
        en = api.get(path + "?lang=en").text
        assert "Nov 26, 2026 10:00" in en and "年" not in en.split("<body", 1)[1], path
        for html in (zh, en):
            body = html.split("<body", 1)[1]
            shown = re.sub(r"<script.*?</script>", "", body, flags=re.S)
            assert not ISO_UTC.search(shown), (path, ISO_UTC.search(shown))
    page = api.get(f"/issues/{case['id']}").text
    assert "<td>2026年11月26日 10:00（刚刚）</td>" in page
    assert "<td>Nov 26, 2026 10:00 (just now)</td>" in api.get(f"/issues/{case['id']}?lang=en").text
