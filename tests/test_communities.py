"""A deployment of many communities: every row knows its community; loading one
replaces only it; listing and removing them; a one-community database upgraded.

Issue 13's acceptance on deployments of one, two and 12 communities (replacing
one, overlaps, where reports land, scoping, the street's teams, escalation,
roll-ups) is in ``test_street_sizes.py``."""

from __future__ import annotations

import json
from pathlib import Path

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
from tests.helpers import DATA, community_rows, neighbour_community

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


def test_a_second_community_loads_beside_the_first_and_leaves_it_untouched(
    loaded_url: str, tmp_path: Path
) -> None:
    before = community_rows(loaded_url, LINGXIAO)
    folder = neighbour_community(tmp_path / "gaotang", GAOTANG, "高塘社区(示意)", 0.05, "GT-")
    engine = make_engine(loaded_url)
    added = load_folder(engine, folder)
    assert added.ok, added.refused
    assert added.community == GAOTANG and added.loaded["grids"] == 22
    assert community_rows(loaded_url, LINGXIAO) == before
    # replaced by its code: fewer merchants; the first community still untouched
    merchants = folder / "merchants.geojson"
    data = json.loads(merchants.read_text(encoding="utf-8"))
    data["features"] = data["features"][:7]
    merchants.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = load_folder(engine, folder)
    assert again.ok and again.loaded["merchants"] == 7
    assert community_rows(loaded_url, LINGXIAO) == before
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
    assert community_rows(loaded_url, LINGXIAO) == before
    assert community_rows(loaded_url, GAOTANG) == []
    engine.dispose()


def test_ids_of_another_community_are_refused_by_name(loaded_url: str, tmp_path: Path) -> None:
    before = community_rows(loaded_url, LINGXIAO)
    folder = neighbour_community(tmp_path / "copycat", GAOTANG, "高塘社区(示意)", 0.05, "")
    result = load_folder(make_engine(loaded_url), folder)
    assert {"squads", "merchants", "members", "districts"} <= set(result.refused)
    squads = result.refused["squads"]
    assert {p.kind for p in squads} == {"id_taken"}
    assert "'SQ1' belongs to another community" in {p.message for p in squads}
    assert community_rows(loaded_url, LINGXIAO) == before


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


def test_a_street_of_twelve_loads_one_by_one_without_touching_the_others(
    database_url: str, street_folder: Path
) -> None:
    about = json.loads((street_folder / "street.json").read_text(encoding="utf-8"))
    codes = [c["code"] for c in about["communities"]]
    assert len(codes) == 12
    engine = make_engine(database_url)
    seen: dict[str, list[tuple[object, ...]]] = {}
    for code in codes:
        result = load_folder(engine, street_folder / code)
        assert result.ok and result.community == code, (code, result.refused)
        assert not result.warnings, (code, [str(w) for w in result.warnings])
        for earlier, rows in seen.items():
            assert community_rows(database_url, earlier) == rows, (code, earlier)
        seen[code] = community_rows(database_url, code)
    listed = runner.invoke(app, ["communities", "--database-url", database_url])
    assert [line[:12] for line in listed.output.splitlines()[1:]] == sorted(codes)
    engine.dispose()


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
    assert result.output.count("community 330206002") == 13  # 12 communities, then the street
    assert "loaded demo cases: 300" in result.output and served["port"] == 8124
