"""The follow page ``/report/<id>``: a resident's view of their case, public fields only,
in one language: the status as a coloured badge, what happens next, the category, the
deadline in local time with the time left, the picture of the place, and the history."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from layers.i18n import gettext_for, message_ids
from layers.text import STATUS_COLOURS
from tests.helpers import (
    GOOD_REPORT,
    MORNING,
    insert_cases,
    offline_page,
    post_json,
    stored_case,
    wait_for_js,
)

CONTACT = {"reporter_name": "王秀英", "reporter_phone": "13912345678"}
# the statuses tried, each with what its row needs besides the status
STATUSES: dict[str, dict[str, Any]] = {
    "reported": {"filed_at": None},
    "filed": {},
    "dispatched": {"squad_id": "SQ1"},
    "resolved": {"squad_id": "SQ1", "resolved_at": MORNING},
    "closed": {"resolved_at": MORNING, "closed_at": MORNING},
    "rejected": {},
    "duplicate": {},
    "escalated": {"department": "U01"},
}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{2,}")


def _shown(page: str) -> str:
    """The text a reader sees: no style, script or markup."""
    body = page.split("<body", 1)[1]
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _cases(url: str) -> dict[str, int]:
    """One stored case per status in ``STATUSES``, with a reporter's contact; their ids."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import Issue

    rows = []
    for status, extra in STATUSES.items():
        row = {**stored_case("330206002016"), **CONTACT, "status": status, **extra}
        row["description"] = f"楼道堆物 {status}"
        row["due_at"] = MORNING + timedelta(days=2)  # two days left at MORNING
        rows.append(row)
    insert_cases(url, rows)
    engine = make_engine(url)
    with Session(engine) as session:
        found = session.execute(select(Issue.id, Issue.description)).all()
    engine.dispose()
    return {d.split(" ", 1)[1]: i for i, d in found if d.startswith("楼道堆物 ")}


def _catalogue_words(lang: str) -> set[str]:
    gettext = gettext_for(lang).gettext
    return {gettext(key) for key in message_ids(lang)}


@pytest.mark.dated
def test_the_follow_page_says_what_happens_next_in_one_language(api: Any, loaded_url: str) -> None:
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the page is the same on both backends")
    api.app.state.clock = lambda: MORNING
    ids = _cases(loaded_url)
    assert set(ids) == set(STATUSES)
    zh_words = {w for w in _catalogue_words("zh") if CJK.search(w)}
    for status, issue_id in ids.items():
        pages = {lang: api.get(f"/report/{issue_id}?lang={lang}") for lang in ("zh", "en")}
        for lang, response in pages.items():
            assert response.status_code == 200, (status, lang)
            page, gettext = response.text, gettext_for(lang).gettext
            shown = _shown(page)
            # the status as a badge in its colour, and the one sentence of its next step
            assert f'data-status="{status}" style="background:{STATUS_COLOURS[status]}"' in page
            assert html.escape(gettext(f"follow.next_{status}")) in page, (status, lang)
            others = [s for s in STATUSES if s != status]
            assert not any(gettext(f"follow.next_{s}") in shown for s in others), (status, lang)
            # the category by name, the deadline in local time with the time left
            assert gettext("follow.category") in shown
            name = "楼道堆物" if lang == "zh" else "Stairwell clutter"
            category = re.search(r'class="gg-category">([^<]*)<', page)
            assert category and category.group(1).lower() == name.lower(), (lang, category)
            left = "2天后" if lang == "zh" else "in 2 days"
            assert left in shown, (status, lang)
            assert "<svg" in page and "gg-history" in page
            # never the reporter's contact
            for private in CONTACT.values():
                assert private not in page, (status, lang)
        # grid and squad names and the resident's words are data, in whatever language
        data = [f"楼道堆物 {status}"]
        for response in pages.values():
            for cls in ("gg-grid", "gg-squad", "gg-description"):
                found = re.search(rf'class="{cls}">([^<]*)<', response.text)
                if found:
                    data.append(html.unescape(found.group(1)))
        zh = _shown(pages["zh"].text)
        en = _shown(pages["en"].text)
        for value in sorted(data, key=len, reverse=True):
            zh, en = zh.replace(value, " "), en.replace(value, " ")
        assert not WORD.findall(zh), (status, WORD.findall(zh))
        assert not CJK.search(en), (status, CJK.findall(en))
        assert not [w for w in zh_words if w in en], status


@pytest.mark.browser
def test_the_follow_page_fits_a_phone(_playwright: Any, browser: Any, live_server: str) -> None:
    case = post_json(f"{live_server}/api/v1/issues", GOOD_REPORT)
    profile = {
        k: v for k, v in _playwright.devices["Pixel 5"].items() if k != "default_browser_type"
    }
    for lang in ("zh", "en"):
        page, _ = offline_page(browser, live_server, **profile)
        page.goto(f"{live_server}/report/{case['id']}?lang={lang}", wait_until="load")
        scroll, inner, svg_left, svg_right = wait_for_js(
            page,
            "(() => { const box = document.querySelector('figure svg').getBoundingClientRect();"
            " return [document.documentElement.scrollWidth, window.innerWidth,"
            " box.left, box.right]; })()",
        )
        assert scroll <= inner, (lang, scroll, inner)
        assert 0 <= svg_left < svg_right <= inner, (lang, svg_left, svg_right, inner)
        # every element's right edge inside the screen (a long word would overflow)
        widest = wait_for_js(
            page,
            "Math.max(...[...document.querySelectorAll('body *')]"
            ".map(e => e.getBoundingClientRect().right))",
        )
        assert widest <= inner, (lang, widest, inner)
        assert page.locator(".gg-badge").is_visible() and page.locator(".gg-next").is_visible()
