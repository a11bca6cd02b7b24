"""The case page's staff actions: dispatch picks among the ranked squads, a duplicate is
chosen among the open cases nearby, and ending a case asks first."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import GOOD_REPORT, MORNING, offline_page, serving, vendor_modules


def _signed_in(page: Any, base: str, case: int, token: str | None = None) -> None:
    """The case's page with the staff part shown: signing in with ``token``, or with the
    token the browser kept from before."""
    page.goto(f"{base}/issues/{case}?lang=zh", wait_until="load")
    if token:
        page.locator(".gg-token").fill(token)
        page.locator(".gg-login").click()
    page.locator(".gg-actions button").first.wait_for(timeout=10_000)


@pytest.mark.browser
def test_staff_pick_the_squad_the_duplicate_and_confirm_a_rejection(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: MORNING
    client = TestClient(app)
    first, second, third = (
        client.post("/api/v1/issues", json={**GOOD_REPORT, "lon": GOOD_REPORT["lon"] + dx}).json()
        for dx in (0.0, -0.0004, -0.0008)
    )
    boss = {"Authorization": f"Bearer {tokens['dispatcher']}"}
    ranked = client.get(
        "/api/v1/dispatch/candidates", params={"issue_id": first["id"]}, headers=boss
    ).json()["candidates"]
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # dispatch: the squads as the API ranks them, with distance, time on foot and load
        _signed_in(page, base, first["id"], tokens["dispatcher"])
        shown_map = page.locator(".folium-map").bounding_box()
        heading = page.locator("#gg-case h1").bounding_box()
        assert shown_map and heading and shown_map["y"] < heading["y"]  # the map comes first
        page.get_by_text("转为 已派遣").click()
        rows = page.locator(".gg-candidates tr")
        rows.first.wait_for(timeout=10_000)
        shown = rows.all_inner_texts()
        assert len(shown) == len(ranked) > 1
        for text, squad in zip(shown, ranked, strict=True):
            assert (
                squad["squad_name"] in text
                and f"{math.floor(squad['distance_m'] + 0.5)} 米" in text
            )
            assert "步行约" in text and f"在办 {squad['load']}/{squad['capacity']}" in text
        # each action ends by reloading the page; the next page is opened only after that
        with (
            page.expect_navigation(wait_until="load"),
            page.expect_response(lambda r: r.url.endswith("/dispatch")) as sent,
        ):
            rows.nth(1).get_by_text("派给此队").click()  # not the nearest: the person chooses
        assert sent.value.status == 200, sent.value.text()
        # a duplicate: chosen among the open cases nearby, never typed as a number
        _signed_in(page, base, third["id"])
        page.get_by_text("转为 重复件").click()
        nearby = page.locator(".gg-duplicates tr")
        nearby.first.wait_for(timeout=20_000)
        listed = nearby.all_inner_texts()
        assert any(f"#{second['id']}" in row for row in listed), listed
        assert not any(f"#{third['id']}\t" in row for row in listed)  # not itself
        assert all("2026年11月26日 10:00" in row for row in listed)
        with (
            page.expect_navigation(wait_until="load"),
            page.expect_response(lambda r: r.url.endswith("/transitions")) as marked,
        ):
            nearby.filter(has_text=f"#{second['id']}").get_by_text("与此件重复").click()
        assert marked.value.status == 200, marked.value.text()
        # rejecting asks first: cancelled, nothing is sent; confirmed, the case ends
        _signed_in(page, base, second["id"])
        page.locator(".gg-note").fill("非本社区事务")
        page.get_by_text("转为 不予立案").click()
        assert "确认不予立案" in page.locator(".gg-choice").inner_text()
        page.locator(".gg-cancel").click()
        assert page.locator(".gg-choice").inner_text() == ""
        page.get_by_text("转为 不予立案").click()
        with (
            page.expect_navigation(wait_until="load"),
            page.expect_response(lambda r: r.url.endswith("/transitions")) as rejected,
        ):
            page.locator(".gg-confirm").click()
        assert rejected.value.status == 200, rejected.value.text()
        page.close()
    cases = {
        c: client.get(f"/api/v1/issues/{c}", headers=boss).json()
        for c in (first["id"], second["id"], third["id"])
    }
    app.state.engine.dispose()
    assert cases[first["id"]]["squad"]["id"] == ranked[1]["squad_id"]
    assert cases[third["id"]]["status"] == "duplicate"
    assert cases[third["id"]]["duplicate_of"] == second["id"]
    assert cases[second["id"]]["status"] == "rejected"
    assert errors == []
    assert all("tile.openstreetmap.org" in u for u in outside), outside
