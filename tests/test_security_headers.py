"""Security headers: a Content-Security-Policy with a fresh nonce on every page, the
scripts that carry it, and the API's documentation served without a CDN.

The policy runs no inline script without the answer's nonce, no inline event
handler and no ``eval``; images may come from the basemaps' tile servers only.
In Chromium, every page loads with no violation at all, and a script without the
nonce is seen to be blocked, so the check can fail.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from api.limits import content_security_policy
from layers.basemaps import tile_hosts
from layers.page import with_nonce
from tests.helpers import (
    GOOD_REPORT,
    auth,
    offline_page,
    serving,
    vendor_modules,
    wait_for_js,
    watch_csp,
)

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
# an event handler attribute inside a tag, or a javascript: address
INLINE_HANDLER = re.compile(r"<[a-z][^<>]*\son[a-z]+\s*=|javascript:", re.IGNORECASE)
# ReDoc 2 always shows Redocly's logo from their CDN under its menu; the policy blocks it
# (no request leaves the machine) and ReDoc drops the image. The one violation expected.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def policy_of(answer: Any) -> dict[str, list[str]]:
    """An answer's Content-Security-Policy as directive → sources."""
    policy = answer.headers["content-security-policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part.strip())
    }


def nonce_of(answer: Any) -> str:
    """The nonce the answer's script-src allows, checked to be its only way to run inline."""
    scripts = policy_of(answer)["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, scripts
    nonces = [s for s in scripts if s.startswith("'nonce-")]
    assert len(nonces) == 1, scripts
    return nonces[0].removeprefix("'nonce-").rstrip("'")


STREET_PAGE = "/?area=330206002"


def page_paths(client: TestClient) -> list[str]:
    """Every kind of HTML page gridgov serves, a case of the sample among them."""
    case = client.post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    return [
        "/",
        "/?lang=en",
        "/report",
        f"/issues/{case}",
        f"/report/{case}",
        "/planning/parking",
        "/about",
        "/issues/424242",  # an error page
        STREET_PAGE,  # the overview of a street's communities
        "/?area=x",  # an error page of the map
        "/docs",
        "/redoc",
    ]


# --- the nonce on the page ---------------------------------------------------------------


def test_with_nonce_marks_every_script_opening_tag_and_nothing_else() -> None:
    html = (
        '<script src="/a.js"></script><script>go()</script><SCRIPT type="module">x</SCRIPT>'
        "<script\ndefer src=b.js></script><noscript>no</noscript><scripts></scripts>"
    )
    marked = with_nonce(html, "n0Nce_-")
    tags = SCRIPT_TAG.findall(marked)
    assert len(tags) == 4 and all('nonce="n0Nce_-"' in t for t in tags), tags
    assert '<SCRIPT nonce="n0Nce_-" type="module">' in marked
    assert "<noscript>no</noscript><scripts></scripts>" in marked
    assert marked.count("</script>") == 3 and "nonce" not in marked.split("<noscript>")[1]


@pytest.mark.parametrize("nonce", ['x" onload="alert(1)', "", "a b", "<x>"])
def test_with_nonce_refuses_what_could_end_its_attribute(nonce: str) -> None:
    with pytest.raises(ValueError, match="nonce"):
        with_nonce("<script></script>", nonce)


def test_the_policy_runs_only_nonced_scripts_and_names_each_source() -> None:
    policy = content_security_policy("abc", ["https://tiles.example"])
    assert "script-src 'self' 'nonce-abc';" in policy
    assert "img-src 'self' data: blob: https://tiles.example;" in policy
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy.split("style-src")[0]
    assert "worker-src" not in policy
    assert "worker-src blob:" in content_security_policy("abc", workers=True)
    assert "script-src 'self';" in content_security_policy(None)


def test_every_page_answers_with_a_nonce_every_script_carries(api: TestClient) -> None:
    vendor_modules()
    for path in page_paths(api):
        answer = api.get(path)
        assert answer.status_code in (200, 404, 422), path
        assert answer.headers["content-type"].startswith("text/html"), path
        nonce = nonce_of(answer)
        tags = SCRIPT_TAG.findall(answer.text)
        unmarked = [t for t in tags if f'nonce="{nonce}"' not in t]
        assert not unmarked, f"{path}: scripts without the answer's nonce: {unmarked}"
        assert not INLINE_HANDLER.findall(answer.text), path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
    assert len(SCRIPT_TAG.findall(api.get("/").text)) > 10  # the check saw the map's scripts


def test_the_nonce_is_new_for_every_answer(api: TestClient) -> None:
    first, second = api.get("/report"), api.get("/report")
    assert nonce_of(first) != nonce_of(second)
    assert f'nonce="{nonce_of(second)}"' in second.text
    assert f'nonce="{nonce_of(first)}"' not in second.text


def test_images_may_come_from_the_basemaps_tile_servers_and_no_other(settings: Any) -> None:
    from api.app import create_app

    for key in ("", "a-tianditu-key"):
        app = create_app(settings.model_copy(update={"tianditu_key": key}))
        answer = TestClient(app).get("/")
        templates = re.findall(r'L\.tileLayer\(\s*"([^"]*)"', answer.text)
        page_hosts = {urlsplit(t).netloc for t in templates if t}
        allowed = [s for s in policy_of(answer)["img-src"] if s.startswith("https://")]
        assert allowed == tile_hosts(tianditu=bool(key))
        for host in page_hosts:  # webrd0{s}.is.autonavi.com: one source per subdomain
            pattern = re.compile(re.escape(host).replace(r"\{s\}", r"\w+"))
            assert any(pattern.fullmatch(urlsplit(a).netloc) for a in allowed), host
        for origin in allowed:
            assert any(
                re.fullmatch(re.escape(h).replace(r"\{s\}", r"\w+"), urlsplit(origin).netloc)
                for h in page_hosts
            ), f"{origin} is allowed but no basemap loads from it"
        assert ("tianditu" in answer.text) == bool(key)
        app.state.engine.dispose()


def test_refusals_and_faults_carry_the_security_headers_too(settings: Any) -> None:
    from api.app import create_app

    app = create_app(settings)

    def fail() -> None:
        raise RuntimeError("a fault of ours, for the test")

    app.add_api_route("/api/v1/fail", fail)
    client = TestClient(app, raise_server_exceptions=False)
    answers = {
        "JSON": client.get("/api/v1/issues"),
        "too large": client.post("/api/v1/issues", content=b"x" * (settings.max_body_bytes + 1)),
        "fault": client.get("/api/v1/fail"),
        "NUL": client.get("/api/v1/issues?grid=%00"),
    }
    assert [a.status_code for a in answers.values()] == [200, 413, 500, 400]
    for what, answer in answers.items():
        assert answer.headers["x-content-type-options"] == "nosniff", what
        assert answer.headers["referrer-policy"] == "same-origin", what
        assert answer.headers["x-frame-options"] == "DENY", what
        assert policy_of(answer)["frame-ancestors"] == ["'none'"], what
        assert "'unsafe-inline'" not in policy_of(answer)["script-src"], what
    app.state.engine.dispose()


# --- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
def test_docs_and_redoc_render_with_nothing_from_outside(browser: Any, live_server: str) -> None:
    vendor_modules()
    page, outside = offline_page(browser, live_server)
    page.goto(live_server + "/docs", wait_until="load")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() > 25
    assert "gridgov" in page.locator(".information-container .title").inner_text()
    page.goto(live_server + "/redoc", wait_until="load")
    page.locator(".menu-content li").first.wait_for(timeout=20_000)
    assert page.locator("h1", has_text="gridgov").count() == 1
    assert page.locator(".menu-content li").count() > 25
    page.close()
    assert outside == [], f"the documentation tried to reach {outside}"


def _ready(page: Any, path: str, token: str) -> None:
    """Wait until the page's own scripts have run (each page shows it its own way)."""
    if path == STREET_PAGE:
        wait_for_js(page, "window.gridgovAreaState && window.gridgovAreaState.map")
    elif path == "/" or path.startswith("/?lang="):
        wait_for_js(page, "window.gridgovState && window.gridgovState.fetches > 0")
    elif path == "/report":
        page.locator(".gg-cat").first.wait_for()
    elif path.startswith("/issues/") and page.locator(".gg-token").count():
        # signed in, the page fetches the case's photo and shows it from a blob: address
        page.locator(".gg-token").fill(token)
        page.locator(".gg-login").click()
        wait_for_js(
            page, "[...document.querySelectorAll('.gg-thumb')].some(i => i.naturalWidth > 0)"
        )
    elif path == "/planning/parking":
        wait_for_js(
            page, "document.querySelector('#gg-parking .gg-message').textContent.length > 0"
        )
    elif path == "/docs":
        page.locator(".opblock").first.wait_for()
    elif path == "/redoc":
        page.locator(".menu-content li").first.wait_for()
        page.locator("input[placeholder='Search...']").fill("issues")  # its search worker
        page.locator("[data-role='search:results'] li").first.wait_for()
    else:  # pages without scripts: the follow page, /about, an error page
        page.locator("body").wait_for()


@pytest.mark.browser
def test_every_page_loads_without_a_policy_violation(
    browser: Any, settings: Any, tokens: dict[str, str]
) -> None:
    from PIL import Image

    from api.app import create_app

    vendor_modules()
    app = create_app(settings)
    client = TestClient(app)
    paths = page_paths(client)
    case = int(paths[3].rsplit("/", 1)[1])
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(picture, format="JPEG")
    photo = client.post(
        f"/api/v1/issues/{case}/photos",
        files={"file": ("p.jpg", picture.getvalue(), "image/jpeg")},
        headers=auth(tokens["manager"]),
    )
    assert photo.status_code == 201, photo.text
    found: dict[str, list[str]] = {}
    with serving(app) as base:
        for path in paths:
            page, _ = offline_page(browser, base)
            page.set_default_timeout(20_000)
            violations = watch_csp(page)
            page.goto(base + path, wait_until="load")
            _ready(page, path, tokens["manager"])
            found[path] = [v for v in violations() if REDOCLY_LOGO not in v]
            page.close()
    app.state.engine.dispose()
    assert found == {path: [] for path in paths}


@pytest.mark.browser
def test_a_script_without_the_nonce_is_blocked_and_seen(browser: Any, settings: Any) -> None:
    """The violation check can fail: a page under the same policy with a script and an
    event handler attribute that lack the nonce has them blocked, and reported."""
    from api.app import create_app

    app = create_app(settings)

    def unnonced(request: Request) -> HTMLResponse:
        nonce = request.state.csp_nonce
        return HTMLResponse(
            f"<!doctype html><title>t</title><script nonce='{nonce}'>window.nonced = 1</script>"
            "<script>window.bare = 1</script>"
            "<button onclick='window.clicked = 1'>press</button>"
        )

    app.add_api_route("/csp-probe", unnonced, response_class=HTMLResponse)
    with serving(app) as base:
        page, outside = offline_page(browser, base)
        violations = watch_csp(page)
        page.goto(base + "/csp-probe", wait_until="load")
        page.get_by_text("press").click()
        wait_for_js(page, "window.__csp.length >= 2")
        assert page.evaluate("[window.nonced, window.bare, window.clicked]") == [1, None, None]
        seen = violations()
        page.close()
    app.state.engine.dispose()
    assert "script-src-elem inline" in seen and "script-src-attr inline" in seen, seen
    assert any("Content Security Policy" in v for v in seen), seen
    assert outside == []
