"""Reporting from a phone: the /report page in mobile Chromium, offline retries, deep links."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from gis.crs import from_wgs84, to_metric
from tests.helpers import (
    GOOD_REPORT,
    SHIMAO,
    offline_page,
    serving,
    vendor_modules,
    wait_for_js,
    wait_until,
)

PHONE = {
    "viewport": {"width": 375, "height": 667},
    "has_touch": True,
    "is_mobile": True,
    "locale": "zh-CN",
    "permissions": ["geolocation"],
    "geolocation": {"longitude": SHIMAO[0], "latitude": SHIMAO[1]},
}


def cases_in(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/issues").json()["features"]


def phone_page(browser: Any, base: str) -> Any:
    """A phone's page that may reach only the local server."""
    page, _ = offline_page(browser, base, **PHONE)
    return page


def test_locate_answers_grid_or_distance(api: TestClient) -> None:
    inside = api.get("/api/v1/locate", params={"lon": SHIMAO[0], "lat": SHIMAO[1]}).json()
    assert inside["inside"] and inside["grid"]["code"] == "330206002016016"
    far = api.get("/api/v1/locate", params={"lon": 121.90, "lat": 29.90}).json()
    assert not far["inside"] and far["outside_m"] > 4000
    lon, lat = from_wgs84(*SHIMAO, "gcj02")
    shifted = api.get(
        "/api/v1/locate", params={"lon": float(lon), "lat": float(lat), "crs": "gcj02"}
    ).json()
    assert shifted["grid"]["code"] == "330206002016016"
    assert api.get("/api/v1/locate", params={"lon": 500, "lat": 1}).status_code == 422


@pytest.mark.browser
def test_report_from_a_phone(
    browser: Any, settings: Any, tmp_path: Any, tokens: dict[str, str]
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    photo = tmp_path / "stairs.jpg"
    Image.new("RGB", (3000, 2000), "gray").save(photo, format="JPEG")
    with serving(app) as base:
        page = phone_page(browser, base)
        page.goto(base + "/report", wait_until="load")
        page.locator(".gg-locate").tap()
        page.get_by_text("位于 凌霄社区第十六网格").wait_for()
        # move the pin a little west by tapping the map
        box = page.locator(".folium-map").bounding_box()
        with page.expect_response(lambda r: "/api/v1/locate" in r.url):  # the moved pin's grid
            page.mouse.click(box["x"] + box["width"] / 2 - 30, box["y"] + box["height"] / 2)
        page.get_by_text("位于 凌霄社区第十六网格").wait_for()
        page.locator(".gg-cat[data-code=stairwell_clutter]").tap()
        page.locator(".gg-desc").fill("楼道里堆满装修垃圾")
        page.locator(".gg-photo").set_input_files(str(photo))
        wait_for_js(page, "window.gridgovReportState.photo !== null")
        page.locator(".gg-send").tap()
        page.get_by_text("已收到，谢谢！").wait_for()
        number = page.locator("#gg-result p").first.inner_text()
        # the photo follows the report; wait until the server has it
        case_id = int(number.split()[-1])
        headers = {"Authorization": f"Bearer {tokens['manager']}"}
        wait_until(
            lambda: client.get(f"/api/v1/issues/{case_id}", headers=headers).json()["photos"],
            what="the photo to reach the server",
        )
        # the follow link shows this phone its own photo; the token leaves the address bar
        page.locator("#gg-result a.gg-follow").tap()
        page.locator(".gg-photos img").wait_for(state="visible")
        assert wait_for_js(page, "document.querySelector('.gg-photos img').naturalWidth") > 0
        assert "#" not in page.url and "photo" not in page.url
        page.reload(wait_until="load")  # kept on the phone, not in the address
        page.locator(".gg-photos img").wait_for(state="visible")
        page.close()
        # another phone opening the same address sees the case, never the photo
        other = phone_page(browser, base)
        asked: list[str] = []
        other.on("request", lambda r: asked.append(r.url))
        other.goto(f"{base}/report/{case_id}?lang=zh", wait_until="load")
        other.locator(".gg-badge").wait_for()
        assert other.locator(".gg-photos").is_hidden()
        assert not [u for u in asked if "/photos" in u], asked
        other.close()
    features = cases_in(client)
    assert len(features) == 1 and number.endswith(str(features[0]["id"]))
    case = features[0]["properties"]
    assert case["grid"]["code"] == "330206002016016" and case["category"]["code"] == (
        "stairwell_clutter"
    )
    lon = features[0]["geometry"]["coordinates"][0]
    assert lon < SHIMAO[0]  # the pin was moved west of the phone's position
    staff = client.get(
        f"/api/v1/issues/{features[0]['id']}",
        headers={"Authorization": f"Bearer {tokens['manager']}"},
    ).json()
    (photo,) = staff["photos"]
    assert max(photo["width"], photo["height"]) == 1600  # downscaled from 3000 on the phone
    app.state.engine.dispose()


@pytest.mark.browser
def test_a_pin_outside_the_community_is_refused_before_sending(browser: Any, settings: Any) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page = phone_page(browser, base)
        page.goto(f"{base}/report?lon=121.8600&lat=29.8940", wait_until="load")
        page.get_by_text("此处在凌霄社区外约").wait_for()
        page.locator(".gg-cat[data-code=parking]").tap()
        page.locator(".gg-desc").fill("乱停车")
        assert page.locator(".gg-send").is_disabled()
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_a_report_survives_a_cut_network_and_is_sent_once(
    browser: Any,
    settings: Any,
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    with serving(app) as base:
        page = phone_page(browser, base)
        cut = {"on": False}

        def maybe(route: Any) -> None:
            if cut["on"] and route.request.url.endswith("/api/v1/issues"):
                route.abort()
            else:
                route.continue_()

        page.route("**/api/v1/issues", maybe)
        page.goto(base + "/report", wait_until="load")
        page.locator(".gg-locate").tap()
        page.get_by_text("位于 凌霄社区第十六网格").wait_for()
        page.locator(".gg-cat[data-code=waste_sorting]").tap()
        page.locator(".gg-desc").fill("垃圾没有分类")
        cut["on"] = True
        page.locator(".gg-send").tap()
        page.get_by_text("1 条待发送").wait_for()
        assert cases_in(client) == []
        assert "gridgovPending" in page.evaluate("Object.keys(localStorage)")
        cut["on"] = False
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.get_by_text("已收到，谢谢！").wait_for()
        wait_for_js(page, "JSON.parse(localStorage.getItem('gridgovPending')).length === 0")
        page.evaluate("window.dispatchEvent(new Event('online'))")  # a second retry: no harm
        assert page.evaluate("window.gridgovReportState.sent") == 1
        page.close()
    assert len(cases_in(client)) == 1
    app.state.engine.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_deep_link_places_the_pin_on_the_wgs84_truth(
    browser: Any,
    settings: Any,
    crs: str,
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    lon, lat = (float(v) for v in from_wgs84(*SHIMAO, crs))
    with serving(app) as base:
        page = phone_page(browser, base)
        page.goto(f"{base}/report?lon={lon}&lat={lat}&crs={crs}", wait_until="load")
        wait_for_js(page, "window.gridgovReportState.pin !== null")
        pin = page.evaluate(
            "(() => { const p = window.gridgovReportState.pin.getLatLng();"
            " return [p.lng, p.lat]; })()"
        )
        page.close()
    app.state.engine.dispose()
    x0, y0 = to_metric(*SHIMAO)
    x1, y1 = to_metric(*pin)
    assert ((float(x1) - float(x0)) ** 2 + (float(y1) - float(y0)) ** 2) ** 0.5 < 1.0


def test_status_page_shows_public_fields_only(api: TestClient) -> None:
    created = api.post(
        "/api/v1/issues",
        json={
            "lon": SHIMAO[0],
            "lat": SHIMAO[1],
            "category": "parking",
            "description": "<b>车</b>堵住消防通道",
            "reporter": {"name": "王阿姨", "phone": "13800138000"},
        },
    ).json()
    page = api.get(f"/report/{created['id']}").text
    assert "王阿姨" not in page and "13800138000" not in page
    assert "&lt;b&gt;车&lt;/b&gt;" in page and "已上报" in page
    assert api.get("/report/999999").status_code == 404


@pytest.mark.browser
def test_grid_worker_files_and_dispatches_on_the_spot(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from datetime import datetime

    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    app.state.clock = lambda: datetime(2026, 11, 26, 2, 0)  # 10:00 local: squads on duty
    client = TestClient(app)
    with serving(app) as base:
        page = phone_page(browser, base)
        page.goto(base + "/report", wait_until="load")
        page.evaluate(f"localStorage.setItem('gridgovToken', '{tokens['grid_worker']}')")
        page.reload(wait_until="load")
        page.get_by_text("网格员模式（巡查上报）").wait_for()
        page.locator(".gg-locate").tap()
        page.get_by_text("位于 凌霄社区第十六网格").wait_for()
        page.locator(".gg-cat[data-code=stairwell_clutter]").tap()
        page.locator(".gg-desc").fill("巡查发现楼道堆物")
        page.locator(".gg-send").tap()
        page.get_by_text("步行约").wait_for(timeout=15_000)
        said = page.locator(".gg-dispatch").inner_text()
        page.close()
    app.state.engine.dispose()
    (feature,) = cases_in(client)
    case = feature["properties"]
    assert case["channel"] == "patrol" and case["status"] == "dispatched"
    assert case["squad"]["name"] in said


# --- issue 15: never lose a report, the confirmation, the send bar, tap targets ----------

TINY_PNG = Image.new("RGB", (40, 30), "orange")


def device_page(playwright: Any, browser: Any, base: str, name: str) -> Any:
    """A page as Playwright's device ``name`` (in Chromium) that may reach only ``base``."""
    profile = {k: v for k, v in playwright.devices[name].items() if k != "default_browser_type"}
    page, _ = offline_page(
        browser,
        base,
        **profile,
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation={"longitude": SHIMAO[0], "latitude": SHIMAO[1]},
    )
    return page


def fill_report(page: Any, description: str) -> None:
    page.locator(".gg-locate").tap()
    wait_for_js(page, "window.gridgovReportState.inside === true")
    page.locator(".gg-cat[data-code=stairwell_clutter]").tap()
    page.locator(".gg-desc").fill(description)


def revoke(database_url: str, token: str) -> None:
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.users import deactivate, user_by_token

    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        user = user_by_token(session, token)
        assert user is not None
        deactivate(session, user.id)
    engine.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_token_is_checked_before_the_case_page_keeps_it(
    browser: Any, _playwright: Any, settings: Any, tokens: dict[str, str], lang: str
) -> None:
    from api.app import create_app
    from layers.i18n import labels

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    case_id = client.post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "Pixel 5")
        page.goto(f"{base}/issues/{case_id}?lang={lang}", wait_until="load")
        page.locator(".gg-token").fill("not-a-token")
        page.locator(".gg-login").tap()
        page.get_by_text(labels(lang, "case")["token_bad"]).wait_for()
        assert page.evaluate("localStorage.getItem('gridgovToken')") is None
        page.locator(".gg-token").fill(tokens["grid_worker"])
        page.locator(".gg-login").tap()
        wait_for_js(page, f"localStorage.getItem('gridgovToken') === '{tokens['grid_worker']}'")
        assert page.locator(".gg-message").inner_text() == ""
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_revoked_token_keeps_the_report_and_sends_it_as_a_residents(
    browser: Any, _playwright: Any, settings: Any, tokens: dict[str, str], lang: str
) -> None:
    from api.app import create_app
    from layers.i18n import labels

    t = labels(lang, "report")
    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "Pixel 5")
        page.goto(f"{base}/report?lang={lang}", wait_until="load")
        page.evaluate(f"localStorage.setItem('gridgovToken', '{tokens['grid_worker']}')")
        with page.expect_response("**/api/v1/me"):  # the page checks the token on loading
            page.reload(wait_until="load")
        page.get_by_text(t["staff_mode"]).wait_for()
        # revoked after the page took it: the report is the first to hear of it
        revoke(settings.database_url, tokens["grid_worker"])
        answers: list[int] = []
        page.on(
            "response",
            lambda r: answers.append(r.status) if r.url.endswith("/api/v1/issues") else None,
        )
        fill_report(page, "楼道里堆满装修垃圾")
        page.locator(".gg-send").tap()
        page.get_by_text(t["thanks"]).wait_for()
        assert answers == [401, 201]
        wait_for_js(page, "JSON.parse(localStorage.getItem('gridgovPending')).length === 0")
        # told once, in the page's language, and the dead token is gone
        notice = page.locator(".gg-notice")
        assert notice.inner_text() == t["staff_dropped"]
        assert page.evaluate("localStorage.getItem('gridgovToken')") is None
        assert page.locator(".gg-staff-mode").is_hidden()
        page.close()
    app.state.engine.dispose()
    (feature,) = cases_in(client)
    assert feature["properties"]["channel"] == "mobile"
    assert feature["properties"]["description"] == "楼道里堆满装修垃圾"


@pytest.mark.browser
def test_a_refused_report_says_why_in_the_pages_language_and_gives_the_words_back(
    browser: Any, _playwright: Any, settings: Any
) -> None:
    import json

    from api.app import create_app
    from layers.i18n import labels

    t = labels("en", "report")
    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "Pixel 5")

        def no_such_category(route: Any) -> None:  # the server, not the page, says no
            if route.request.method != "POST":
                route.continue_()
                return
            body = json.loads(route.request.post_data)
            route.continue_(post_data=json.dumps({**body, "category": "no_such_category"}))

        page.route("**/api/v1/issues", no_such_category)
        page.goto(f"{base}/report?lang=en", wait_until="load")
        fill_report(page, "Rubbish on the stairs")
        page.locator(".gg-send").tap()
        page.get_by_text(t["refused_category"]).wait_for()
        assert page.locator(".gg-notice").is_visible()  # in the send bar, not under the map
        assert page.locator(".gg-desc").input_value() == "Rubbish on the stairs"
        assert page.evaluate("JSON.parse(localStorage.getItem('gridgovPending'))") == []
        page.close()
    app.state.engine.dispose()
    assert cases_in(client) == []


@pytest.mark.browser
def test_the_english_report_page_names_the_grid_and_squad_in_english(
    browser: Any, _playwright: Any, live_server: str
) -> None:
    import re

    vendor_modules()
    page = device_page(_playwright, browser, live_server, "Pixel 5")
    page.goto(f"{live_server}/report?lang=en", wait_until="load")
    fill_report(page, "Rubbish on the stairs")
    assert page.locator(".gg-where").inner_text() == "In Lingxiao community grid 16"
    page.locator(".gg-send").tap()
    page.locator("#gg-result .gg-case-no").wait_for()
    said = page.locator("#gg-result").inner_text()
    assert "Lingxiao community grid 16" in said
    assert not re.search(r"[\u4e00-\u9fff]", said), said
    page.close()


@pytest.mark.browser
def test_the_confirmation_takes_the_screen_and_the_form_is_cleared(
    browser: Any, _playwright: Any, settings: Any
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "iPhone 13")
        page.goto(f"{base}/report", wait_until="load")
        fill_report(page, "楼道里堆满装修垃圾")
        page.locator(".gg-desc").focus()
        page.locator(".gg-send").tap()
        page.get_by_text("已收到，谢谢！").wait_for()
        view = page.viewport_size
        box = page.locator("#gg-result").bounding_box()
        assert box["y"] == 0 and box["x"] == 0
        assert box["width"] == view["width"] and box["height"] == view["height"]
        thanks = page.get_by_text("已收到，谢谢！").bounding_box()
        assert thanks["y"] >= 0 and thanks["y"] + thanks["height"] <= view["height"]
        # on top of everything else, not merely inside the viewport
        assert page.evaluate(
            "document.elementFromPoint(innerWidth / 2, innerHeight / 2).closest('#gg-result')"
            " !== null"
        )
        said = page.locator("#gg-result").inner_text()
        assert "社区将在2个工作日内受理立案" in said
        link = page.locator("#gg-result a.gg-follow")
        href = link.get_attribute("href")
        number = page.locator("#gg-result .gg-case-no").inner_text().split()[-1]
        # the follow link carries the photo token after "#", for this phone's own photos
        assert href.startswith(f"/report/{number}?lang=zh#photo=")
        assert link.bounding_box()["y"] + link.bounding_box()["height"] <= view["height"]
        # the form is ready for the next report
        assert page.locator(".gg-desc").input_value() == ""
        assert page.locator(".gg-chosen").count() == 0
        page.locator(".gg-another").tap()
        assert page.locator("#gg-result").is_hidden()
        assert "选择类别" in page.locator(".gg-missing").inner_text()
        page.close()
    app.state.engine.dispose()


# a visual viewport the test can shrink, as an on-screen keyboard does on a phone
FAKE_VISUAL_VIEWPORT = """
(() => {
  const fake = new EventTarget();
  fake.height = window.innerHeight;
  fake.offsetTop = 0;
  Object.defineProperty(window, "visualViewport", { configurable: true, get: () => fake });
  window.__viewport = fake;
})();
"""


@pytest.mark.browser
def test_the_send_bar_stays_in_view_and_says_what_is_missing(
    browser: Any, _playwright: Any, settings: Any
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "Pixel 5")
        page.add_init_script(FAKE_VISUAL_VIEWPORT)
        page.goto(f"{base}/report", wait_until="load")
        view = page.viewport_size
        bar = page.locator(".gg-bar")
        assert bar.evaluate("b => getComputedStyle(b).position") == "fixed"
        missing = page.locator(".gg-missing")
        wait_for_js(page, "document.querySelectorAll('.gg-cat').length > 0")
        assert missing.inner_text() == "还需：在地图上选位置、选择类别、简单描述"
        assert page.locator(".gg-send").is_disabled()
        page.locator(".gg-locate").tap()
        wait_for_js(page, "window.gridgovReportState.inside === true")
        assert missing.inner_text() == "还需：选择类别、简单描述"
        page.locator(".gg-cat[data-code=parking]").tap()
        assert missing.inner_text() == "还需：简单描述"
        page.locator(".gg-desc").focus()
        box = bar.bounding_box()
        assert box["y"] >= 0 and abs(box["y"] + box["height"] - view["height"]) < 1
        page.locator(".gg-desc").fill("乱停车")
        assert missing.inner_text() == "" and page.locator(".gg-send").is_enabled()
        # a keyboard takes the lower 300 px: the bar moves up to sit just above it
        page.evaluate(
            "window.__viewport.height = innerHeight - 300;"
            " window.__viewport.dispatchEvent(new Event('resize'))"
        )
        box = bar.bounding_box()
        assert abs(box["y"] + box["height"] - (view["height"] - 300)) < 1
        page.evaluate(
            "window.__viewport.height = innerHeight;"
            " window.__viewport.dispatchEvent(new Event('resize'))"
        )
        assert abs(bar.bounding_box()["y"] + bar.bounding_box()["height"] - view["height"]) < 1
        page.close()
    app.state.engine.dispose()


@pytest.mark.browser
def test_tap_targets_a_photo_thumbnail_and_pinch_zoom(
    browser: Any, _playwright: Any, settings: Any, tmp_path: Any
) -> None:
    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    photo = tmp_path / "tiny.png"
    TINY_PNG.save(photo, format="PNG")
    with serving(app) as base:
        page = device_page(_playwright, browser, base, "Pixel 5")
        page.goto(f"{base}/report", wait_until="load")
        for target in (
            ".gg-contact summary",
            ".leaflet-control-zoom-in",
            ".leaflet-control-zoom-out",
            ".gg-send",
            ".gg-photo-pick",
        ):
            box = page.locator(target).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, (target, box)
        assert page.locator(".gg-photo-box").is_hidden()
        page.locator(".gg-photo").set_input_files(str(photo))
        page.locator(".gg-thumb").wait_for(state="visible")
        wait_for_js(page, "document.querySelector('.gg-thumb').naturalWidth > 0")
        remove = page.locator(".gg-photo-remove")
        assert remove.bounding_box()["height"] >= 44
        remove.tap()
        page.locator(".gg-photo-box").wait_for(state="hidden")
        assert page.evaluate("window.gridgovReportState.photo") is None
        assert page.locator(".gg-photo").input_value() == ""
        meta = page.locator("meta[name=viewport]")
        assert meta.count() == 1
        content = meta.get_attribute("content")
        assert "user-scalable" not in content and "maximum-scale" not in content
        page.close()
    app.state.engine.dispose()


def test_the_report_page_lets_a_phone_zoom(api: TestClient) -> None:
    html = api.get("/report").text
    assert "user-scalable=no" not in html and "maximum-scale" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
