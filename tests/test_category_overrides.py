"""Catalogue entries overridden per community: a community's own time limits, names and
escalation units, categories withdrawn there; loaded with the community, refused whole
when wrong, removed with it; the catalogue per area; the migration both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from cases.deadlines import add_limit
from service.settings import Settings
from store.catalogue import categories_for
from store.communities import community_codes
from store.db import make_engine
from store.load import load_folder
from store.migrate import current, downgrade, head, pending_changes, upgrade
from store.models import CategoryOverride
from tests.helpers import (
    GAOTANG_CODE,
    GAOTANG_NAME,
    GOOD_REPORT,
    LINGXIAO_CODE,
    MORNING,
    SHIMAO,
    auth,
    neighbour_community,
)

runner = CliRunner()
EAST = 0.05  # Gaotang: the sample moved this far east
IN_GAOTANG = {**GOOD_REPORT, "lon": SHIMAO[0] + EAST}
# Gaotang clears stairwells within a day, names the category its own way, escalates it
# to its own co-building unit, and leaves parking to the street (not taken there)
OVERRIDES = (
    "code,time_limit,unit,name_zh,name_en,offered\n"
    "stairwell_clutter,24h,GT-U01,楼道堆物清理,,\n"
    "parking,,,,,false\n"
)


def _gaotang(tmp_path: Path, overrides: str | None = OVERRIDES, name: str = "gaotang") -> Path:
    folder = neighbour_community(tmp_path / name, GAOTANG_CODE, GAOTANG_NAME, EAST, "GT-")
    if overrides is not None:
        (folder / "category_overrides.csv").write_text(overrides, encoding="utf-8")
    return folder


def _overrides(url: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = {
            (r.community_code, r.code): (r.time_limit, r.unit, r.name_zh, r.name_en, r.offered)
            for r in session.scalars(select(CategoryOverride))
        }
    engine.dispose()
    return rows


@pytest.fixture()
def two(loaded_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app over Lingxiao and Gaotang, Gaotang with its overrides, at a fixed time."""
    result = load_folder(make_engine(loaded_url), _gaotang(tmp_path))
    assert result.ok, result.refused
    assert result.loaded["category_overrides"] == 2
    app_ = create_app(Settings(database_url=loaded_url, var_dir=tmp_path / "var"))
    with TestClient(app_) as client:
        client.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        yield client
    app_.state.engine.dispose()


def test_an_overridden_time_limit_sets_deadlines_in_its_community_only(
    two: TestClient, tokens: dict[str, str]
) -> None:
    boss = auth(tokens["manager"])
    report = {**GOOD_REPORT, "category": "stairwell_clutter"}
    here = two.post("/api/v1/issues", json=report)
    there = two.post("/api/v1/issues", json={**report, "lon": IN_GAOTANG["lon"]})
    assert here.status_code == 201 and there.status_code == 201, (here.text, there.text)
    assert here.json()["category"]["name_zh"] == "楼道堆物"
    assert there.json()["category"]["name_zh"] == "楼道堆物清理"
    assert there.json()["category"]["name_en"] == "Stairwell clutter"  # blank: inherited
    filed = {}
    for name, answer in (("here", here), ("there", there)):
        moved = two.post(
            f"/api/v1/issues/{answer.json()['id']}/transitions",
            json={"to": "filed"},
            headers=boss,
        )
        assert moved.status_code == 200, moved.text
        filed[name] = moved.json()["handle_deadline"]
    shared = add_limit(MORNING, "3d").isoformat(timespec="seconds") + "Z"
    own = add_limit(MORNING, "24h").isoformat(timespec="seconds") + "Z"
    assert filed == {"here": shared, "there": own}
    # escalated to a co-building unit of no limit of its own: the community's limit again
    up = two.post(
        f"/api/v1/issues/{there.json()['id']}/transitions",
        json={"to": "escalated", "department": "GT-U01", "note": "物业处理"},
        headers=boss,
    )
    assert up.status_code == 200, up.text
    assert up.json()["department_deadline"] == own
    # dispatched at once (filed on the way): the same limit
    again = two.post("/api/v1/issues", json={**report, "lon": IN_GAOTANG["lon"]}).json()
    sent = two.post(f"/api/v1/issues/{again['id']}/dispatch", json={}, headers=boss)
    assert sent.status_code == 200, sent.text
    assert sent.json()["issue"]["handle_deadline"] == own


def test_the_community_s_escalation_unit_is_the_default(two: TestClient) -> None:
    from service.ranking import escalation_unit

    snapshot = two.app.state.areas  # type: ignore[attr-defined]
    with Session(two.app.state.engine) as session:  # type: ignore[attr-defined]
        areas = snapshot.require(session)
        ours = escalation_unit(session, areas, "stairwell_clutter", GAOTANG_CODE)
        theirs = escalation_unit(session, areas, "stairwell_clutter", LINGXIAO_CODE)
        assert categories_for(session, GAOTANG_CODE)["stairwell_clutter"].unit == "GT-U01"
    assert ours is not None and ours[0] == "GT-U01"
    assert theirs is not None and theirs[0] == "U01"


def test_a_withdrawn_category_is_refused_there_and_taken_next_door(
    two: TestClient, tokens: dict[str, str]
) -> None:
    parking = {**GOOD_REPORT, "category": "parking"}
    refused = two.post("/api/v1/issues", json={**parking, "lon": IN_GAOTANG["lon"]})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "category_not_offered"
    assert "'parking'" in error["message"] and GAOTANG_CODE in error["message"]
    assert GAOTANG_NAME in error["message"] and "stairwell_clutter" in error["message"]
    taken = two.post("/api/v1/issues", json=parking)
    assert taken.status_code == 201, taken.text
    assert taken.json()["grid"]["code"].startswith(LINGXIAO_CODE)
    # asking for squads for a parking problem there is refused the same way
    asked = two.get(
        "/api/v1/dispatch/candidates",
        params={"lon": IN_GAOTANG["lon"], "lat": IN_GAOTANG["lat"], "category": "parking"},
        headers=auth(tokens["dispatcher"]),
    )
    assert asked.status_code == 422 and asked.json()["error"]["code"] == "category_not_offered"


def test_the_catalogue_of_an_area(two: TestClient) -> None:
    def entries(**params: str) -> dict[str, dict[str, Any]]:
        answer = two.get("/api/v1/categories", params=params)
        assert answer.status_code == 200, answer.text
        return {c["code"]: c for c in answer.json()["categories"]}

    shared = entries()
    assert shared["stairwell_clutter"]["time_limit"] == "3d" and "parking" in shared
    gaotang = entries(area=GAOTANG_CODE)
    assert set(gaotang) == set(shared) - {"parking"}
    stairs = gaotang["stairwell_clutter"]
    assert (stairs["time_limit"], stairs["escalation_unit"], stairs["name_zh"]) == (
        "24h",
        "GT-U01",
        "楼道堆物清理",
    )
    assert gaotang["emergency"] == {**shared["emergency"], "squads": gaotang["emergency"]["squads"]}
    assert all(s.startswith("GT-") for c in gaotang.values() for s in c["squads"])
    assert entries(area=f"{GAOTANG_CODE}016") == gaotang  # a grid's code: its community's
    lingxiao = entries(area=LINGXIAO_CODE)
    assert lingxiao["stairwell_clutter"]["time_limit"] == "3d" and "parking" in lingxiao
    assert all(not s.startswith("GT-") for c in lingxiao.values() for s in c["squads"])
    for bad, status, code in (
        ("330206002", 422, "bad_area"),  # a street: its communities may differ
        ("33020600201x", 422, "bad_area"),
        ("330206002099", 404, "community_not_found"),
    ):
        answer = two.get("/api/v1/categories", params={"area": bad})
        assert answer.status_code == status, (bad, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and bad in error["message"]


def test_bad_overrides_refuse_the_whole_folder(loaded_url: str, tmp_path: Path) -> None:
    bad = "code,time_limit,offered\nstairwell_clutter,3x,\nnonesuch,24h,\nparking,,maybe\n"
    folder = _gaotang(tmp_path, bad)
    result = load_folder(make_engine(loaded_url), folder)
    assert not result.ok and result.loaded == {}
    messages = [str(p) for p in result.refused["category_overrides"]]
    assert any("stairwell_clutter" in m and "'3x'" in m for m in messages), messages
    assert any("parking" in m and "'maybe'" in m for m in messages), messages
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        assert community_codes(session) == [LINGXIAO_CODE]  # nothing of Gaotang written
    # an unknown category is found against the catalogue, once the rest is right
    (folder / "category_overrides.csv").write_text("code,unit\nnonesuch,U01\n", encoding="utf-8")
    unknown = runner.invoke(cli, ["load", str(folder), "--database-url", loaded_url])
    assert unknown.exit_code == 1, unknown.output
    assert "REFUSED category_overrides" in unknown.output and "'nonesuch'" in unknown.output
    with Session(engine) as session:
        assert community_codes(session) == [LINGXIAO_CODE]
    # a column it does not know (a typo would otherwise be ignored)
    (folder / "category_overrides.csv").write_text("code,timelimit\nparking,3d\n", encoding="utf-8")
    typo = load_folder(engine, folder)
    assert [p.kind for p in typo.refused["category_overrides"]] == ["unknown_attribute"]
    assert "'timelimit'" in str(typo.refused["category_overrides"][0])
    # loaded right, then a bad file again: the loaded community and its overrides stay
    (folder / "category_overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    assert load_folder(engine, folder).ok
    before = _overrides(loaded_url)
    (folder / "category_overrides.csv").write_text("code,offered\nparking,no way\n", "utf-8")
    (folder / "merchants.geojson").unlink()  # would replace the merchants, were it loaded
    again = load_folder(engine, folder)
    assert not again.ok and again.loaded == {}
    assert _overrides(loaded_url) == before
    engine.dispose()


def test_overrides_are_replaced_with_the_community_and_removed_with_it(
    loaded_url: str, tmp_path: Path
) -> None:
    folder = _gaotang(tmp_path)
    engine = make_engine(loaded_url)
    assert load_folder(engine, folder).ok
    assert set(_overrides(loaded_url)) == {
        (GAOTANG_CODE, "stairwell_clutter"),
        (GAOTANG_CODE, "parking"),
    }
    (folder / "category_overrides.csv").write_text(
        "code,time_limit\nemergency,12h\n", encoding="utf-8"
    )
    assert load_folder(engine, folder).ok
    assert _overrides(loaded_url) == {(GAOTANG_CODE, "emergency"): ("12h", None, None, None, True)}
    gone = runner.invoke(cli, ["unload", GAOTANG_CODE, "--database-url", loaded_url])
    assert gone.exit_code == 0, gone.output
    assert _overrides(loaded_url) == {}
    engine.dispose()


def test_the_migration_adds_and_drops_the_overrides_table(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    tables = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
        "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    }[engine.dialect.name]

    def names() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text(tables)).scalars())

    assert "category_overrides" in names()
    downgrade(engine, "0005")
    assert current(engine) == "0005" and "category_overrides" not in names()
    upgrade(engine)
    assert current(engine) == head() and pending_changes(engine) == []
    with Session(engine) as session, session.begin():
        session.add(CategoryOverride(community_code=LINGXIAO_CODE, code="parking", offered=False))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CategoryOverride)) == 1
        assert not categories_for(session, LINGXIAO_CODE)["parking"].offered
        assert categories_for(session, None)["parking"].offered
    engine.dispose()


@pytest.mark.browser
def test_the_report_page_offers_the_categories_of_the_pins_community(
    browser: Any, loaded_url: str, tmp_path: Path
) -> None:
    from tests.helpers import offline_page, serving, vendor_modules, wait_for_js

    assert load_folder(make_engine(loaded_url), _gaotang(tmp_path)).ok
    vendor_modules()
    app_ = create_app(Settings(database_url=loaded_url, var_dir=tmp_path / "var"))
    buttons = "Array.from(document.querySelectorAll('.gg-cat')).map(b => b.dataset.code)"
    with serving(app_) as base:
        page, _ = offline_page(browser, base, locale="zh-CN")
        page.goto(f"{base}/report?lon={IN_GAOTANG['lon']}&lat={SHIMAO[1]}", wait_until="load")
        shown = f"{buttons}.length > 0"  # the first drawing, the shared catalogue's
        wait_for_js(page, f"{shown} && !{buttons}.includes('parking')")  # withdrawn there
        stairs = page.locator(".gg-cat[data-code=stairwell_clutter]")
        assert "楼道堆物清理" in stairs.inner_text()
        stairs.click()
        # the pin moved into Lingxiao: parking is offered; the chosen category stays
        page.evaluate(
            f"(() => {{ const pin = window.gridgovReportState.pin;"
            f" pin.setLatLng([{SHIMAO[1]}, {SHIMAO[0]}]); pin.fire('dragend'); }})()"
        )
        wait_for_js(page, f"{buttons}.includes('parking')")
        assert (
            "楼道堆物清理" not in page.locator(".gg-cat[data-code=stairwell_clutter]").inner_text()
        )
        assert page.evaluate("window.gridgovReportState.category") == "stairwell_clutter"
        assert page.locator(".gg-cat.gg-chosen").get_attribute("data-code") == "stairwell_clutter"
        # parking chosen, then the pin back in Gaotang: nothing is chosen, nothing can be sent
        page.locator(".gg-cat[data-code=parking]").click()
        page.locator(".gg-desc").fill("乱停车")
        page.evaluate(
            f"(() => {{ const pin = window.gridgovReportState.pin;"
            f" pin.setLatLng([{SHIMAO[1]}, {IN_GAOTANG['lon']}]); pin.fire('dragend'); }})()"
        )
        wait_for_js(page, f"!{buttons}.includes('parking')")
        assert page.evaluate("window.gridgovReportState.category") is None
        assert page.locator(".gg-send").is_disabled()
        page.close()
    app_.state.engine.dispose()
