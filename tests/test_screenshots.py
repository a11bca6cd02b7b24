"""Every page in both languages, at the size its users see it, drawn with nothing but
gridgov's own server: a screenshot of each is kept in ``artifacts/pages/`` to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ARTIFACTS, GOOD_REPORT, offline_page, vendor_modules, wait_for_js

DESKTOP = {"viewport": {"width": 1440, "height": 900}}


@pytest.mark.browser
def test_every_page_renders_in_both_languages_and_is_kept_as_a_screenshot(
    browser: Any, _playwright: Any, live_server: str, tokens: dict[str, str]
) -> None:
    import httpx

    vendor_modules()
    case = httpx.post(live_server + "/api/v1/issues", json=GOOD_REPORT).json()["id"]
    phone = dict(_playwright.devices["Pixel 5"])
    pages = [
        ("map", "/", DESKTOP),
        ("community-map", "/?area=330206002016", DESKTOP),
        ("report", "/report", phone),
        ("case", f"/issues/{case}", DESKTOP),
        ("follow", f"/report/{case}", phone),
        ("parking", "/planning/parking", DESKTOP),
    ]
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        for name, path, context in pages:
            page, outside = offline_page(browser, live_server, **context)
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.add_init_script(f"localStorage.setItem('gridgovToken', '{tokens['planner']}')")
            url = live_server + path + ("&" if "?" in path else "?") + f"lang={lang}"
            answer = page.goto(url, wait_until="load")
            assert answer is not None and answer.status == 200, (url, answer)
            assert page.evaluate("document.documentElement.lang") == lang, url
            wait_for_js(page, "document.readyState === 'complete'")
            page.screenshot(path=str(folder / f"{name}-{lang}.png"))
            page.close()
            assert errors == [], (url, errors)
            assert all("tile.openstreetmap.org" in u for u in outside), (url, outside)
    assert len(list(folder.glob("*.png"))) >= 12
