"""Issue 13's acceptance on deployments of one, two and 12 communities, on both backends.

Each test gets a fresh database holding the first 1, 2 or 12 communities of the
synthetic street (``data/street.py``: Lingxiao, then Gaotang, then the others in
``street.json``'s order) and the street itself: its teams, its departments and
the district's (the ``deployment`` fixture, copied from a template built once a
session).  There are no cases but those a test makes.

With one community, "another area" is a community of the same street that is
not loaded: its manager sees nothing private and acts on nothing.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app as cli
from cases.deadlines import add_limit
from data.street import id_tag
from store.db import make_engine
from store.load import load_folder
from store.models import Issue, LayerFeature
from tests.helpers import (
    COUNTS,
    LATE,
    MORNING,
    ON_TIME,
    Deployment,
    community_rows,
    direct_counts,
    insert_cases,
    neighbour_community,
    staff_headers,
    stored_case,
)

LINGXIAO = "330206002016"
XINQI = "330206002"
BEILUN = "330206"
ELSEWHERE = "330206003005"  # a community of another street of Beilun
OVER = "330206002990"  # a code of Xinqi that the synthetic street does not use
REPORTER = {"name": "李四", "phone": "13900000000"}
runner = CliRunner()


def _tag(code: str) -> str:
    """What a community's ids start with: the generator's rule (Lingxiao keeps data/'s)."""
    return "" if code == LINGXIAO else id_tag(code)


def _inside(d: Deployment, code: str) -> tuple[float, float, str]:
    """A point inside one of ``code``'s grids (the middle one), and that grid's code."""
    path = d.folder / code / "boundaries" / "grids.geojson"
    grids = json.loads(path.read_text(encoding="utf-8"))["features"]
    grid = grids[len(grids) // 2]
    point = shapely.point_on_surface(shape(grid["geometry"]))
    return point.x, point.y, grid["properties"]["code"]


@contextmanager
def _api(d: Deployment, tmp_path: Path) -> Iterator[TestClient]:
    """The app over the deployment, its clock at ``MORNING``."""
    from api.app import create_app
    from service.settings import Settings

    settings = Settings(database_url=d.url, var_dir=tmp_path / "var", report_rate=10_000)
    app_ = create_app(settings)
    with TestClient(app_) as client:
        client.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        yield client
    app_.state.engine.dispose()


def _report(api: TestClient, d: Deployment, code: str, **extra: Any) -> dict[str, Any]:
    lon, lat, _ = _inside(d, code)
    body = {"lon": lon, "lat": lat, "category": "street_order", "channel": "mobile",
            "description": "占道经营，摊位挡住了人行道", **extra}  # fmt: skip
    answer = api.post("/api/v1/issues", json=body)
    assert answer.status_code == 201, (code, answer.text)
    case: dict[str, Any] = answer.json()
    return case


def test_loading_and_replacing_one_community_leaves_the_others_byte_for_byte(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    # the communities, the street's teams and departments, the district's departments
    areas = [*d.codes, d.street, BEILUN]
    before = {area: community_rows(d.url, area) for area in areas}
    assert all(before.values())

    def untouched(*but: str) -> None:
        for area in areas:
            if area not in but:
                assert community_rows(d.url, area) == before[area], area

    engine = make_engine(d.url)
    far = neighbour_community(tmp_path / "far", ELSEWHERE, "示意社区(他街)", 0.3, "FAR-")
    added = load_folder(engine, far)
    assert added.ok and added.community == ELSEWHERE, added.refused
    untouched()
    # one of them replaced by its code, with fewer merchants
    middle = d.codes[len(d.codes) // 2]
    folder = shutil.copytree(d.folder / middle, tmp_path / "again")
    merchants = folder / "merchants.geojson"
    data = json.loads(merchants.read_text(encoding="utf-8"))
    data["features"] = data["features"][:5]
    merchants.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = load_folder(engine, folder)
    assert again.ok and again.community == middle and again.loaded["merchants"] == 5
    untouched(middle)
    with Session(engine) as session:
        counts = dict(
            session.execute(
                select(LayerFeature.community_code, func.count())
                .where(LayerFeature.layer == "merchants")
                .group_by(LayerFeature.community_code)
            ).all()
        )
    assert counts[middle] == 5 and set(counts) == {*d.codes, ELSEWHERE}
    engine.dispose()
    gone = runner.invoke(cli, ["unload", ELSEWHERE, "--database-url", d.url])
    assert gone.exit_code == 0, gone.output
    assert community_rows(d.url, ELSEWHERE) == []
    untouched(middle)


def test_a_community_lying_across_any_loaded_one_is_refused_whole(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    areas = [*d.codes, d.street, BEILUN]
    before = {area: community_rows(d.url, area) for area in areas}
    engine = make_engine(d.url)
    for code in d.codes:
        # a copy of it moved 0.005° east (about 480 m): much of it lies over the original
        folder = neighbour_community(
            tmp_path / code, OVER, "压界社区(示意)", 0.005, "OV-", source=d.folder / code
        )
        result = load_folder(engine, folder)
        overlaps = result.refused["community"]
        assert {p.kind for p in overlaps} == {"overlap"}, (code, overlaps)
        over = [p for p in overlaps if code in p.message]
        assert over and over[0].area_m2 and over[0].area_m2 > 1e5, (code, overlaps)
        assert result.loaded == {}, code
    engine.dispose()
    assert community_rows(d.url, OVER) == []
    for area in areas:
        assert community_rows(d.url, area) == before[area], area


def test_reports_land_in_their_community_and_grid(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    with _api(d, tmp_path) as api:
        for code in d.codes:
            _, _, grid = _inside(d, code)
            case = _report(api, d, code)
            assert case["grid"]["code"] == grid, code
            with Session(api.app.state.engine) as session:  # type: ignore[attr-defined]
                stored = session.get(Issue, case["id"])
                assert stored is not None and stored.community_code == code
                assert stored.grid_code == grid and grid.startswith(code)
        for code in d.unloaded[:1]:  # in the street, in no loaded community
            lon, lat, _ = _inside(d, code)
            refused = api.post(
                "/api/v1/issues",
                json={"lon": lon, "lat": lat, "category": "street_order", "channel": "mobile",
                      "description": "占道经营"},
            )  # fmt: skip
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["nearest_community"]["code"] in d.codes


def test_staff_see_and_act_only_within_their_area(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    # managers of the first and the last loaded community, and of one that is not loaded
    # (with one community: Gaotang, its neighbour in the same street)
    outsider = d.unloaded[0] if d.unloaded else OVER
    areas = dict.fromkeys([d.codes[0], d.codes[-1], outsider])  # in order, once each
    managers = {area: staff_headers(d.url, "manager", area) for area in areas}
    street_desk = staff_headers(d.url, "dispatcher", d.street)
    everywhere = staff_headers(d.url, "manager", "")
    with _api(d, tmp_path) as api:
        cases = {code: _report(api, d, code, reporter=REPORTER) for code in d.codes}
        ids = {code: case["id"] for code, case in cases.items()}
        public = api.get("/api/v1/issues", params={"limit": 1000}).json()
        assert {f["id"] for f in public["features"]} == set(ids.values())
        wide = api.get("/api/v1/issues", params={"limit": 1}, headers=everywhere).json()
        assert wide["total"] == len(d.codes)
        missing = api.post("/api/v1/issues/999999/transitions", json={"to": "filed"},
                           headers=managers[outsider])  # fmt: skip
        not_found = missing.json()["error"]["message"].replace("999999", "N")
        for area, who in managers.items():
            for code, case in ids.items():
                read = api.get(f"/api/v1/issues/{case}", headers=who)
                assert read.status_code == 200, (area, code)
                history = api.get(f"/api/v1/issues/{case}/history", headers=who).json()
                if code == area:
                    assert read.json()["reporter"]["phone"] == REPORTER["phone"]
                    assert "actor" in history["events"][0]
                    continue
                # another area's case: its public view, and 404 to every act
                assert "reporter" not in read.json(), (area, code)
                assert REPORTER["phone"] not in read.text, (area, code)
                assert "actor" not in history["events"][0], (area, code)
                moved = api.post(
                    f"/api/v1/issues/{case}/transitions", json={"to": "filed"}, headers=who
                )
                assert moved.status_code == 404, (area, code, moved.text)
                assert moved.json()["error"]["code"] == "issue_not_found"
                assert moved.json()["error"]["message"].replace(str(case), "N") == not_found
                acts = [
                    api.post(f"/api/v1/issues/{case}/dispatch", headers=who),
                    api.get("/api/v1/dispatch/candidates", params={"issue_id": case},
                            headers=who),
                    api.post("/api/v1/dispatch/batch",
                             json={"issue_ids": [case], "dry_run": True}, headers=who),
                    api.post(f"/api/v1/issues/{case}/photos",
                             files={"file": ("a.png", b"\x89PNG", "image/png")}, headers=who),
                    api.get(f"/api/v1/issues/{case}/photos", headers=who),
                ]  # fmt: skip
                assert [a.status_code for a in acts] == [404] * 5, (area, code, acts[0].text)
            # lists and exports: the area's own cases only
            own = {ids[area]} if area in ids else set()
            listed = api.get("/api/v1/issues", params={"limit": 1000}, headers=who).json()
            assert {f["id"] for f in listed["features"]} == own, area
            exported = api.get("/api/v1/exports/issues.csv", headers=who)
            assert exported.status_code == 200, exported.text
            rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
            assert {int(r["id"]) for r in rows} == own, area
            assert all(r["grid_code"].startswith(area) for r in rows), area
        everything = api.get("/api/v1/exports/issues.csv", headers=everywhere).text
        assert all(f"\n{case}," in everything for case in ids.values())
        # acting within one's own area, and a street's dispatcher across all of it
        own_manager = managers[d.codes[0]]
        moved = api.post(f"/api/v1/issues/{ids[d.codes[0]]}/transitions", json={"to": "filed"},
                         headers=own_manager)  # fmt: skip
        assert moved.status_code == 200, moved.text
        for code, case in ids.items():
            sent = api.post(f"/api/v1/issues/{case}/dispatch", headers=street_desk)
            assert sent.status_code == 200, (code, sent.text)


def test_a_streets_teams_are_candidates_in_each_loaded_community(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    team = f"{d.street}-T"
    boss = staff_headers(d.url, "dispatcher", d.street)
    with _api(d, tmp_path) as api:
        cases = {}
        for code in d.codes:
            lon, lat, _ = _inside(d, code)
            ranked = api.get(
                "/api/v1/dispatch/candidates",
                params={"lon": lon, "lat": lat, "category": "street_order"},
                headers=boss,
            )
            assert ranked.status_code == 200, ranked.text
            body = ranked.json()
            chosen = [c["squad_id"] for c in body["candidates"]]
            everyone = chosen + [e["squad_id"] for e in body["excluded"]]
            assert f"{team}1" in chosen, (code, body)
            assert all(i.startswith((f"{_tag(code)}SQ", team)) for i in everyone), everyone
            assert any(i.startswith(f"{_tag(code)}SQ") for i in chosen), (code, chosen)
            distances = [c["distance_m"] for c in body["candidates"]]
            assert distances == sorted(distances)  # one ranking, by the same walking distance
            cases[code] = _report(api, d, code)["id"]
        plan = api.post(
            "/api/v1/dispatch/batch",
            json={"issue_ids": list(cases.values()), "dry_run": True},
            headers=boss,
        )
        assert plan.status_code == 200, plan.text
        squads = {row["issue_id"]: row["squad_id"] for row in plan.json()["assignments"]}
        for code, case in cases.items():
            assert squads[case].startswith((f"{_tag(code)}SQ", team)), (code, squads[case])


def test_escalation_climbs_community_street_district(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    boss = staff_headers(d.url, "dispatcher", d.street)
    own_limit = add_limit(MORNING, "5wd")  # the street office's own limit, not the category's
    with _api(d, tmp_path) as api:
        for i, code in enumerate(d.codes):
            lon, lat, _ = _inside(d, code)
            report = {"lon": lon, "lat": lat, "category": "housing_land",
                      "description": "楼顶渗水，物业推诿", "channel": "mobile"}  # fmt: skip
            case = api.post("/api/v1/issues", json=report).json()["id"]
            url = f"/api/v1/issues/{case}/transitions"

            def move(**body: object) -> Any:
                return api.post(url, json=body, headers=boss)  # noqa: B023 (used at once)

            assert move(to="filed").status_code == 200
            if len(d.codes) > 1:  # a unit of another loaded community
                other = d.codes[(i + 1) % len(d.codes)]
                elsewhere = move(to="escalated", department=f"{_tag(other)}U01")
                assert elsewhere.status_code == 422, elsewhere.text
                assert elsewhere.json()["error"]["code"] == "department_elsewhere"
            unit = f"{_tag(code)}U01"
            first = move(to="escalated", department=unit)  # 书记面对面: the co-building unit
            assert first.status_code == 200, (code, first.text)
            street = move(to="escalated", department=f"{d.street}-D2")
            assert street.status_code == 200, (code, street.text)
            assert street.json()["department_deadline"] == own_limit.isoformat() + "Z"
            down = move(to="escalated", department=unit)
            assert down.status_code == 422 and down.json()["error"]["code"] == "not_a_higher_level"
            district = move(to="escalated", department=f"{BEILUN}-D1")
            assert district.status_code == 200, (code, district.text)
            assert district.json()["escalated_to"]["id"] == f"{BEILUN}-D1"
            history = api.get(f"/api/v1/issues/{case}/history", headers=boss).json()["events"]
            climbed = [(e["level"], e["department"]) for e in history if e["to"] == "escalated"]
            assert climbed == [
                ("community", unit),
                ("street", f"{d.street}-D2"),
                ("district", f"{BEILUN}-D1"),
            ], code
            public = api.get(f"/api/v1/issues/{case}/history").json()["events"]
            assert [e["level"] for e in public if e["to"] == "escalated"] == [
                "community", "street", "district"
            ]  # fmt: skip
            back = move(to="in_progress", response="区住建局已派员维修")
            assert back.status_code == 200, back.text
        since = (MORNING - timedelta(days=30)).date().isoformat()
        figures = api.get(
            "/api/v1/stats", params={"group_by": "street", "area": d.street, "from": since}
        ).json()["rows"]
        n = len(d.codes)
        assert [
            (r["key"], r["escalated"], r["escalated_street"], r["escalated_district"])
            for r in figures
        ] == [(d.street, n, n, n)]


def _rows(api: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    answer = api.get("/api/v1/stats", params=params)
    assert answer.status_code == 200, answer.text
    return {row["key"]: row for row in answer.json()["rows"]}


def test_every_roll_up_equals_a_direct_count(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    rows = []
    for k, code in enumerate(d.codes):  # uneven: each community its own mix
        lon, lat, grid = _inside(d, code)
        mix = [ON_TIME] * (1 + k % 3) + [LATE] * (k % 2) + [None] * (1 + k % 4)
        rows += [stored_case(code, closed, grid, (lon, lat)) for closed in mix]
    rows += [stored_case(ELSEWHERE, ON_TIME), stored_case(ELSEWHERE)]  # another street's
    insert_cases(d.url, rows)
    with _api(d, tmp_path) as api:
        seen = {
            "community": _rows(api, group_by="community"),
            "street": _rows(api, group_by="street"),
            "community in the street": _rows(api, group_by="community", area=d.street),
            "street in the district": _rows(api, group_by="street", area=BEILUN),
        }
        grids = _rows(api, group_by="grid", area=d.street)
    assert set(seen["community"]) == {*d.codes, ELSEWHERE}
    assert set(seen["community in the street"]) == set(d.codes)
    assert set(seen["street"]) == {d.street, ELSEWHERE[:9]} == set(seen["street in the district"])
    for how, found in seen.items():
        for code, row in found.items():
            direct = direct_counts(d.url, code)
            assert {c: row[c] for c in COUNTS} == direct, (how, code)
            assert direct["due"] > 0, (how, code)  # so that the rates below are numbers
            assert row["closure_rate"] == round(direct["closed"] / direct["due"], 4), (how, code)
            assert row["on_time_rate"] == round(direct["closed_on_time"] / direct["due"], 4)
    street = seen["street"][d.street]
    assert street["reported"] == len(rows) - 2
    for count in COUNTS:  # the street's grids add up to the street
        assert sum(r[count] for r in grids.values()) == street[count], count
