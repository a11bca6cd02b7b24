"""A deployment of many communities: every row knows its community; loading one
replaces only it; listing and removing them; a one-community database upgraded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from store.db import make_engine
from store.load import load_folder
from store.migrate import downgrade, upgrade
from store.models import Issue, LayerFeature, Member, User
from tests.helpers import DATA, neighbour_community

LINGXIAO = "330206002016"
runner = CliRunner()


def _codes(url: str) -> dict[str, set[str | None]]:
    engine = make_engine(url)
    with Session(engine) as session:
        out = {
            "features": set(session.scalars(select(LayerFeature.community_code).distinct())),
            "members": set(session.scalars(select(Member.community_code).distinct())),
            "issues": set(session.scalars(select(Issue.community_code).distinct())),
        }
    engine.dispose()
    return out


def test_every_row_of_the_sample_knows_its_community(loaded_url: str) -> None:
    codes = _codes(loaded_url)
    assert codes["features"] == {LINGXIAO} and codes["members"] == {LINGXIAO}


def test_reports_record_their_community(api) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import GOOD_REPORT

    answer = api.post("/api/v1/issues", json=GOOD_REPORT)
    assert answer.status_code == 201, answer.text
    with Session(api.app.state.engine) as session:
        issue = session.get(Issue, answer.json()["id"])
        assert issue is not None and issue.community_code == LINGXIAO
        assert issue.grid_code.startswith(issue.community_code)


def test_loading_again_replaces_the_community_and_keeps_its_cases(
    loaded_url: str, sample_dir: Path
) -> None:
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        before = session.scalar(select(func.count()).select_from(LayerFeature))
    result = load_folder(engine, sample_dir)
    assert result.ok and result.community == LINGXIAO
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(LayerFeature)) == before
    engine.dispose()


def test_a_folder_without_boundaries_is_for_the_only_community(
    loaded_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "merchants-only"
    folder.mkdir()
    (folder / "merchants.geojson").write_bytes((DATA / "merchants.geojson").read_bytes())
    engine = make_engine(loaded_url)
    result = load_folder(engine, folder)
    assert result.ok and result.community == LINGXIAO and result.loaded == {"merchants": 120}
    wrong = load_folder(engine, DATA, community="330206002017")
    assert not wrong.ok and "330206002016, not 330206002017" in str(wrong.refused["community"][0])
    engine.dispose()


def test_communities_lists_and_unload_refuses_open_cases_unless_forced(
    loaded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        from cases.deadlines import utcnow
        from store.demo import load_demo_cases

        load_demo_cases(session, utcnow(), "2wd")
    engine.dispose()
    listed = runner.invoke(app, ["communities", "--database-url", loaded_url])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if x.startswith(LINGXIAO))
    assert "凌霄社区" in line and " 22 " in f" {line} "
    refused = runner.invoke(app, ["unload", LINGXIAO, "--database-url", loaded_url])
    assert refused.exit_code == 2 and "open cases" in refused.output
    assert _codes(loaded_url)["features"] == {LINGXIAO}
    unknown = runner.invoke(app, ["unload", "330206002099", "--database-url", loaded_url])
    assert unknown.exit_code == 2 and "330206002099" in unknown.output
    forced = runner.invoke(app, ["unload", LINGXIAO, "--force", "--database-url", loaded_url])
    assert forced.exit_code == 0, forced.output
    assert "300 cases" in forced.output
    codes = _codes(loaded_url)
    assert codes == {"features": set(), "members": set(), "issues": set()}
    empty = runner.invoke(app, ["communities", "--database-url", loaded_url])
    assert "no community is loaded" in empty.output


def test_upgrading_a_one_community_database_gives_every_row_its_code(loaded_url: str) -> None:
    """A database written by the schema before communities (revision 0003) is upgraded
    with its rows given the one community's code and its users the whole deployment."""
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        from cases.deadlines import utcnow
        from store.demo import load_demo_cases

        load_demo_cases(session, utcnow(), "2wd")
        from store.users import add_user

        add_user(session, "old manager", "manager", utcnow())
    downgrade(engine, "0003")  # the schema as it was: no community columns
    with engine.connect() as conn:
        columns = {
            "sqlite": "SELECT name FROM pragma_table_info('issues')",
            "postgresql": "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'issues'",
        }[engine.dialect.name]
        assert "community_code" not in set(conn.execute(text(columns)).scalars())
    upgrade(engine)
    with Session(engine) as session:
        assert set(session.scalars(select(Issue.community_code).distinct())) == {LINGXIAO}
        assert session.scalar(select(func.count()).select_from(Issue)) == 300
        assert set(session.scalars(select(LayerFeature.community_code).distinct())) == {LINGXIAO}
        assert set(session.scalars(select(Member.community_code).distinct())) == {LINGXIAO}
        assert set(session.scalars(select(User.area))) == {""}
    engine.dispose()


GAOTANG = "330206002017"


def _snapshot(url: str, community: str) -> list[tuple[object, ...]]:
    """Every stored row of one community, as comparable values."""
    engine = make_engine(url)
    with Session(engine) as session:
        features = [
            (r.layer, r.key, r.name, json.dumps(r.props, sort_keys=True), shapely.to_wkb(r.geom))
            for r in session.scalars(
                select(LayerFeature)
                .where(LayerFeature.community_code == community)
                .order_by(LayerFeature.layer, LayerFeature.key)
            )
        ]
        members = [
            (m.id, m.kind, m.grid_code, m.squad_id, m.post)
            for m in session.scalars(
                select(Member).where(Member.community_code == community).order_by(Member.id)
            )
        ]
    engine.dispose()
    return [*features, *members]


def test_a_second_community_loads_beside_the_first_and_leaves_it_untouched(
    loaded_url: str, tmp_path: Path
) -> None:
    before = _snapshot(loaded_url, LINGXIAO)
    folder = neighbour_community(tmp_path / "gaotang", GAOTANG, "高塘社区(示意)", 0.05, "GT-")
    engine = make_engine(loaded_url)
    added = load_folder(engine, folder)
    assert added.ok, added.refused
    assert added.community == GAOTANG and added.loaded["grids"] == 22
    assert _snapshot(loaded_url, LINGXIAO) == before
    # replaced by its code: fewer merchants; the first community still untouched
    merchants = folder / "merchants.geojson"
    data = json.loads(merchants.read_text(encoding="utf-8"))
    data["features"] = data["features"][:7]
    merchants.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = load_folder(engine, folder)
    assert again.ok and again.loaded["merchants"] == 7
    assert _snapshot(loaded_url, LINGXIAO) == before
    with Session(engine) as session:
        counts = dict(
            session.execute(
                select(LayerFeature.community_code, func.count())
                .where(LayerFeature.layer == "merchants")
                .group_by(LayerFeature.community_code)
            ).all()
        )
    assert counts == {LINGXIAO: 120, GAOTANG: 7}
    # a folder without boundaries must now say which community it is for
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "merchants.geojson").write_bytes(merchants.read_bytes())
    unsure = load_folder(engine, partial)
    assert not unsure.ok and "--community" in str(unsure.refused["community"][0])
    assert load_folder(engine, partial, community=GAOTANG).ok
    listed = runner.invoke(app, ["communities", "--database-url", loaded_url])
    assert [line[:12] for line in listed.output.splitlines()[1:]] == [LINGXIAO, GAOTANG]
    gone = runner.invoke(app, ["unload", GAOTANG, "--database-url", loaded_url])
    assert gone.exit_code == 0, gone.output
    assert _snapshot(loaded_url, LINGXIAO) == before
    assert _snapshot(loaded_url, GAOTANG) == []
    engine.dispose()


def test_ids_of_another_community_are_refused_by_name(loaded_url: str, tmp_path: Path) -> None:
    before = _snapshot(loaded_url, LINGXIAO)
    folder = neighbour_community(tmp_path / "copycat", GAOTANG, "高塘社区(示意)", 0.05, "")
    result = load_folder(make_engine(loaded_url), folder)
    assert {"squads", "merchants", "members", "districts"} <= set(result.refused)
    squads = result.refused["squads"]
    assert {p.kind for p in squads} == {"id_taken"}
    assert "'SQ1' belongs to another community" in {p.message for p in squads}
    assert _snapshot(loaded_url, LINGXIAO) == before


def test_grid_codes_must_start_with_their_community_code(database_url: str, tmp_path: Path) -> None:
    folder = neighbour_community(tmp_path / "odd", GAOTANG, "高塘社区(示意)", 0.0, "X-")
    grids = folder / "boundaries" / "grids.geojson"
    data = json.loads(grids.read_text(encoding="utf-8"))
    data["features"][3]["properties"]["code"] = "330206002099004"
    grids.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = load_folder(make_engine(database_url), folder)
    problems = result.refused["grids"]
    assert [p.kind for p in problems] == ["malformed_code"]  # gis.boundaries' own rule
    assert "330206002099004" in problems[0].message and GAOTANG in problems[0].message


def test_each_communitys_reports_go_to_its_own_squads(
    loaded_url: str, tmp_path: Path, tokens: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import GOOD_REPORT, MORNING, SHIMAO, auth

    folder = neighbour_community(tmp_path / "gaotang", GAOTANG, "高塘社区(示意)", 0.05, "GT-")
    assert load_folder(make_engine(loaded_url), folder).ok
    settings = Settings(database_url=loaded_url, var_dir=tmp_path / "var", report_rate=10_000)
    app_ = create_app(settings)
    boss = auth(tokens["dispatcher"])
    with TestClient(app_) as api:
        api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        here = api.post("/api/v1/issues", json=GOOD_REPORT).json()
        there = api.post("/api/v1/issues", json={**GOOD_REPORT, "lon": SHIMAO[0] + 0.05}).json()
        assert here["grid"]["code"] == "330206002016016"
        assert there["grid"]["code"] == "330206002017016"
        for case, home in ((here["id"], "SQ"), (there["id"], "GT-SQ")):
            ranked = api.get(
                "/api/v1/dispatch/candidates", params={"issue_id": case}, headers=boss
            ).json()
            ids = [c["squad_id"] for c in ranked["candidates"]]
            assert ids and all(i.startswith(home) for i in ids), (case, ids)
            assert all(e["squad_id"].startswith(home) for e in ranked["excluded"])
        plan = api.post(
            "/api/v1/dispatch/batch",
            json={"issue_ids": [here["id"], there["id"]], "dry_run": True},
            headers=boss,
        ).json()
        chosen = {row["issue_id"]: row["squad_id"] for row in plan["assignments"]}
        assert chosen[here["id"]].startswith("SQ") and chosen[there["id"]].startswith("GT-SQ")
    app_.state.engine.dispose()


def test_a_community_lying_across_a_loaded_one_is_refused_whole(
    loaded_url: str, tmp_path: Path
) -> None:
    before = _snapshot(loaded_url, LINGXIAO)
    # moved 0.005° east (about 480 m): most of it lies over Lingxiao
    folder = neighbour_community(tmp_path / "over", GAOTANG, "高塘社区(示意)", 0.005, "GT-")
    result = load_folder(make_engine(loaded_url), folder)
    overlap = result.refused["community"]
    assert [p.kind for p in overlap] == ["overlap"]
    assert LINGXIAO in overlap[0].message and overlap[0].area_m2 and overlap[0].area_m2 > 1e5
    assert result.loaded == {}
    assert _snapshot(loaded_url, LINGXIAO) == before and _snapshot(loaded_url, GAOTANG) == []


def test_a_gap_to_a_neighbour_is_loaded_with_a_warning(loaded_url: str, tmp_path: Path) -> None:
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        outline = session.scalars(
            select(LayerFeature.geom).where(LayerFeature.layer == "community")
        ).one()
    west, _, east, _ = shapely.bounds(outline)
    width = east - west
    # right beside it but 0.0003° (about 30 m) apart: a strip nobody covers
    folder = neighbour_community(
        tmp_path / "near", GAOTANG, "高塘社区(示意)", width + 0.0003, "GT-"
    )
    result = load_folder(engine, folder)
    assert result.ok, result.refused
    assert result.warnings and {w.kind for w in result.warnings} == {"gap"}
    loaded = runner.invoke(
        app, ["load", str(folder), "--database-url", loaded_url]
    )  # again, from the command: the warning is printed, the load succeeds
    assert loaded.exit_code == 0, loaded.output
    assert "warning: [gap]" in loaded.output and f"community {GAOTANG}" in loaded.output
    engine.dispose()


def test_a_report_outside_every_community_names_the_nearest(
    loaded_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import GOOD_REPORT, SHIMAO

    folder = neighbour_community(tmp_path / "gaotang", GAOTANG, "高塘社区(示意)", 0.05, "GT-")
    assert load_folder(make_engine(loaded_url), folder).ok
    app_ = create_app(Settings(database_url=loaded_url, var_dir=tmp_path / "var"))
    with TestClient(app_) as api:
        east = {**GOOD_REPORT, "lon": SHIMAO[0] + 0.05 + 0.03}  # beyond Gaotang's east side
        refused = api.post("/api/v1/issues", json=east)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["nearest_community"] == {"code": GAOTANG, "name": "高塘社区(示意)"}
        assert "m outside 高塘社区(示意)" in error["message"] and error["distance_m"] > 500
        west = api.post("/api/v1/issues", json={**GOOD_REPORT, "lon": SHIMAO[0] - 0.06})
        assert west.json()["error"]["nearest_community"]["code"] == LINGXIAO
        located = api.get("/api/v1/locate", params={"lon": SHIMAO[0] + 0.05, "lat": SHIMAO[1]})
        assert located.json()["community"] == "高塘社区(示意)"
        assert located.json()["grid"]["code"] == "330206002017016"
    app_.state.engine.dispose()


def _token(url: str, role: str, area: str) -> dict[str, str]:
    from cases.deadlines import utcnow
    from store.users import add_user
    from tests.helpers import auth

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        _, token = add_user(session, f"{role} of {area or 'all'}", role, utcnow(), area=area)
    engine.dispose()
    return auth(token)


def test_staff_see_and_act_only_within_their_area(street: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import GOOD_REPORT, MORNING, SHIMAO

    mine = _token(street, "manager", LINGXIAO)
    theirs = _token(street, "dispatcher", GAOTANG)
    street_desk = _token(street, "dispatcher", "330206002")
    everywhere = _token(street, "manager", "")
    settings = Settings(database_url=street, var_dir=tmp_path / "var", report_rate=10_000)
    app_ = create_app(settings)
    with TestClient(app_) as api:
        api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        reporter = {"name": "李四", "phone": "13900000000"}
        here = api.post("/api/v1/issues", json={**GOOD_REPORT, "reporter": reporter}).json()
        there = api.post(
            "/api/v1/issues",
            json={**GOOD_REPORT, "lon": SHIMAO[0] + 0.05, "reporter": reporter},
        ).json()
        # reading: another area's case is its public view
        assert "reporter" in api.get(f"/api/v1/issues/{here['id']}", headers=mine).json()
        other = api.get(f"/api/v1/issues/{there['id']}", headers=mine)
        assert other.status_code == 200 and "reporter" not in other.json()
        assert "13900000000" not in other.text
        history = api.get(f"/api/v1/issues/{there['id']}/history", headers=mine).json()
        assert "actor" not in history["events"][0]
        # lists: only the area's cases
        listed = api.get("/api/v1/issues", params={"limit": 1000}, headers=mine).json()
        ids = {f["id"] for f in listed["features"]}
        assert here["id"] in ids and there["id"] not in ids
        assert all(f["properties"]["grid"]["code"].startswith(LINGXIAO) for f in listed["features"])
        public = api.get("/api/v1/issues", params={"limit": 1000}).json()
        assert {here["id"], there["id"]} <= {f["id"] for f in public["features"]}
        wide = api.get("/api/v1/issues", params={"limit": 1}, headers=everywhere).json()
        assert wide["total"] == public["total"] > listed["total"]
        exported = api.get("/api/v1/exports/issues.csv", headers=mine).text
        assert f"{LINGXIAO}016" in exported and f"{GAOTANG}016" not in exported
        everything = api.get("/api/v1/exports/issues.csv", headers=everywhere).text
        assert f"{GAOTANG}016" in everything
        # acting on another area's case: 404, as if it did not exist
        move = {"to": "filed"}
        url = f"/api/v1/issues/{there['id']}/transitions"
        refused = api.post(url, json=move, headers=mine)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "issue_not_found"
        missing = api.post("/api/v1/issues/999999/transitions", json=move, headers=mine)
        assert refused.json()["error"]["message"].replace(str(there["id"]), "N") == missing.json()[
            "error"
        ]["message"].replace("999999", "N")
        assert api.post(url, json=move, headers=theirs).status_code == 200
        photo = api.post(
            f"/api/v1/issues/{there['id']}/photos",
            files={"file": ("a.png", b"\x89PNG", "image/png")},
            headers=mine,
        )
        assert photo.status_code == 404
        for who, case, code in ((theirs, here, 404), (theirs, there, 200)):
            ranked = api.get(
                "/api/v1/dispatch/candidates", params={"issue_id": case["id"]}, headers=who
            )
            assert ranked.status_code == code, ranked.text
        batch = api.post(
            "/api/v1/dispatch/batch",
            json={"issue_ids": [here["id"]], "dry_run": True},
            headers=theirs,
        )
        assert batch.status_code == 404
        # a street's dispatcher works across its communities
        for case in (here, there):
            sent = api.post(f"/api/v1/issues/{case['id']}/dispatch", headers=street_desk)
            assert sent.status_code == 200, sent.text
    app_.state.engine.dispose()


def test_users_are_added_with_an_area(loaded_url: str) -> None:
    added = runner.invoke(
        app,
        ["users", "add", "--role", "manager", "--area", LINGXIAO, "--name", "社区书记",
         "--database-url", loaded_url],
    )  # fmt: skip
    assert added.exit_code == 0 and f"({'manager'}, {LINGXIAO})" in added.output
    for bad in ("33020600201", "330206002016001", "３３０２０６"):
        wrong = runner.invoke(
            app,
            ["users", "add", "--role", "manager", "--area", bad, "--name", "x",
             "--database-url", loaded_url],
        )  # fmt: skip
        assert wrong.exit_code == 2 and repr(bad) in wrong.output, (bad, wrong.output)


@pytest.fixture(scope="module")
def twelve(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic street of 12 communities (data/street.py), written once."""
    from data.street import write_street

    out = tmp_path_factory.mktemp("street") / "out"
    write_street(out, communities=12)
    return out


def test_a_street_of_twelve_loads_one_by_one_without_touching_the_others(
    database_url: str, twelve: Path
) -> None:
    about = json.loads((twelve / "street.json").read_text(encoding="utf-8"))
    codes = [c["code"] for c in about["communities"]]
    assert len(codes) == 12
    engine = make_engine(database_url)
    seen: dict[str, list[tuple[object, ...]]] = {}
    for code in codes:
        result = load_folder(engine, twelve / code)
        assert result.ok and result.community == code, (code, result.refused)
        assert not result.warnings, (code, [str(w) for w in result.warnings])
        for earlier, rows in seen.items():
            assert _snapshot(database_url, earlier) == rows, (code, earlier)
        seen[code] = _snapshot(database_url, code)
    # replacing one in the middle leaves the other eleven as they were
    middle = codes[5]
    assert load_folder(engine, twelve / middle).ok
    for code in codes:
        assert _snapshot(database_url, code) == seen[code]
    listed = runner.invoke(app, ["communities", "--database-url", database_url])
    assert [line[:12] for line in listed.output.splitlines()[1:]] == sorted(codes)
    engine.dispose()


def test_a_streets_teams_are_candidates_in_each_of_its_communities(
    database_url: str, twelve: Path, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import GOOD_REPORT, MORNING

    loaded = runner.invoke(app, ["load", str(twelve), "--database-url", database_url])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.count("community 330206002") == 13  # 12 communities, then the street
    listed = runner.invoke(app, ["communities", "--database-url", database_url])
    assert len(listed.output.splitlines()) == 13
    boss = _token(database_url, "dispatcher", "330206002")
    app_ = create_app(Settings(database_url=database_url, var_dir=tmp_path / "var"))
    outline = shapely.from_geojson(
        (twelve / GAOTANG / "boundaries" / "community.geojson").read_text(encoding="utf-8")
    )
    inside = shapely.point_on_surface(shapely.get_geometry(outline, 0))
    with TestClient(app_) as api:
        api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        for lon, lat, own in (
            (inside.x, inside.y, "017-"),  # a case in Gaotang
            (GOOD_REPORT["lon"], GOOD_REPORT["lat"], "SQ"),  # and one in Lingxiao
        ):
            ranked = api.get(
                "/api/v1/dispatch/candidates",
                params={"lon": lon, "lat": lat, "category": "street_order"},
                headers=boss,
            )
            assert ranked.status_code == 200, ranked.text
            body = ranked.json()
            everyone = [c["squad_id"] for c in body["candidates"]] + [
                e["squad_id"] for e in body["excluded"]
            ]
            assert "330206002-T1" in [c["squad_id"] for c in body["candidates"]], body
            assert all(i.startswith((own, "330206002-T")) for i in everyone), everyone
            distances = [c["distance_m"] for c in body["candidates"]]
            assert distances == sorted(distances)  # one ranking, by the same walking distance
    app_.state.engine.dispose()


def test_the_street_sample_is_served_with_gridgov_sample_street(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    url = f"sqlite:///{tmp_path / 'street.sqlite3'}"
    monkeypatch.setenv("GRIDGOV_SAMPLE", "street")
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", url)
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["serve", "--sample-if-empty", "--port", "8124"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "street" / "street.json").exists()
    listed = runner.invoke(app, ["communities", "--database-url", url])
    assert len(listed.output.splitlines()) == 13 and "高塘社区" in listed.output
    assert "loaded demo cases: 300" in result.output and served["port"] == 8124


def test_escalation_climbs_community_street_district(
    database_url: str, twelve: Path, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings
    from tests.helpers import MORNING

    assert runner.invoke(app, ["load", str(twelve), "--database-url", database_url]).exit_code == 0
    boss = _token(database_url, "dispatcher", "330206002")
    app_ = create_app(Settings(database_url=database_url, var_dir=tmp_path / "var"))
    outline = shapely.from_geojson(
        (twelve / GAOTANG / "boundaries" / "community.geojson").read_text(encoding="utf-8")
    )
    inside = shapely.point_on_surface(shapely.get_geometry(outline, 0))
    report = {"lon": inside.x, "lat": inside.y, "category": "housing_land",
              "description": "楼顶渗水，物业推诿", "channel": "mobile"}  # fmt: skip
    with TestClient(app_) as api:
        api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        case = api.post("/api/v1/issues", json=report).json()["id"]
        url = f"/api/v1/issues/{case}/transitions"

        def move(**body: object) -> Any:
            return api.post(url, json=body, headers=boss)

        assert move(to="filed").status_code == 200
        elsewhere = move(to="escalated", department="U01")  # Lingxiao's unit
        assert elsewhere.status_code == 422
        assert elsewhere.json()["error"]["code"] == "department_elsewhere"
        first = move(to="escalated", department="017-U01")  # 书记面对面: the co-building unit
        assert first.status_code == 200, first.text
        street = move(to="escalated", department="330206002-D2")
        assert street.status_code == 200, street.text
        from cases.deadlines import add_limit

        own = add_limit(MORNING, "5wd")  # the street office's own limit, not the category's
        assert street.json()["department_deadline"] == own.isoformat() + "Z"
        down = move(to="escalated", department="017-U01")
        assert down.status_code == 422 and down.json()["error"]["code"] == "not_a_higher_level"
        district = move(to="escalated", department="330206-D1")
        assert district.status_code == 200, district.text
        assert district.json()["escalated_to"]["id"] == "330206-D1"
        history = api.get(f"/api/v1/issues/{case}/history", headers=boss).json()["events"]
        climbed = [(e["level"], e["department"]) for e in history if e["to"] == "escalated"]
        assert climbed == [
            ("community", "017-U01"),
            ("street", "330206002-D2"),
            ("district", "330206-D1"),
        ]
        public = api.get(f"/api/v1/issues/{case}/history").json()["events"]
        assert [e["level"] for e in public if e["to"] == "escalated"] == [
            "community", "street", "district"
        ]  # fmt: skip
        back = move(to="in_progress", response="区住建局已派员维修")
        assert back.status_code == 200, back.text
        figures = api.get(
            "/api/v1/stats",
            params={"group_by": "street", "area": "330206002", "from": "2026-11-01"},
        ).json()["rows"]
        assert [(r["key"], r["escalated"], r["escalated_street"], r["escalated_district"])
                for r in figures] == [("330206002", 1, 1, 1)]  # fmt: skip
    app_.state.engine.dispose()
