"""The demo case history, schema migrations, and concurrent changes to one case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from cases.lifecycle import Role, Status
from store.db import make_engine
from store.demo import SHIMAO_CASE, load_demo_cases
from store.issues import (
    Actor,
    ConcurrentChange,
    NewIssue,
    cases_frame,
    create_issue,
    history,
    transition,
)
from store.migrate import current, downgrade, head, pending_changes, upgrade
from store.models import Issue
from tests.helpers import MORNING

NOW = MORNING
runner = CliRunner()


def demo_frame(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        assert load_demo_cases(session, NOW) == 300
    with Session(engine) as session:
        frame = cases_frame(session, NOW - timedelta(days=365), NOW, NOW)
        shimao = session.scalar(select(Issue).where(Issue.description == SHIMAO_CASE))
        assert shimao is not None
        events = history(session, shimao.id)
    engine.dispose()
    return frame, shimao, events


@pytest.mark.dated
def test_demo_history_covers_every_grid_category_and_status(loaded_url: str) -> None:
    frame, shimao, events = demo_frame(loaded_url)
    assert len(frame) == 300
    assert set(frame["status"]) == {s.value for s in Status}
    assert frame["grid_code"].nunique() == 22
    assert frame["category"].nunique() == 16
    assert frame["reported_at"].min() >= NOW - timedelta(days=90)
    assert frame["reported_at"].max() < NOW
    assert (frame["rework_count"] > 0).any()
    # the 世茂世界湾一期 stairwell case: escalated to the property centre, closed within 3 days
    assert shimao.status == "closed" and shimao.grid_code == "330206002016016"
    assert shimao.department == "U01"
    assert shimao.closed_at - shimao.reported_at <= timedelta(days=3)
    assert [e.to_status for e in events] == ["reported", "filed", "escalated", "resolved", "closed"]


@pytest.mark.dated
def test_demo_history_is_deterministic(loaded_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, _, _ = demo_frame(loaded_url)
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    from store.db import create_schema
    from store.load import load_folder
    from tests.helpers import DATA

    engine = make_engine(other)
    create_schema(engine)
    load_folder(engine, DATA)
    engine.dispose()
    second, _, _ = demo_frame(other)
    columns = ["grid_code", "category", "status", "reported_at", "closed_at", "rework_count"]
    assert first[columns].equals(second[columns])


def test_migrations_match_the_models_and_go_both_ways(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current(engine) == head()
    assert pending_changes(engine) == []
    downgrade(engine, "base")
    assert current(engine) is None
    with engine.connect() as conn:
        names = {
            "sqlite": "SELECT name FROM sqlite_master WHERE name = 'issues'",
            "postgresql": "SELECT tablename FROM pg_tables WHERE tablename = 'issues'",
        }
        assert conn.execute(text(names[engine.dialect.name])).first() is None
    upgrade(engine)
    assert current(engine) == head() and pending_changes(engine) == []
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
        assert "USING gist" in kinds["ix_issues_geom"]
        assert "USING gist" in kinds["ix_layer_features_geom"]
        assert "USING brin (reported_at)" in kinds["ix_issues_reported_at_brin"]
    else:
        with engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
        assert "ix_issues_reported_at_brin" not in kinds
    assert "(lon, lat, status, due_at)" in kinds["ix_issues_cells"]
    assert "ix_issues_lonlat" not in kinds and "ix_issues_category" not in kinds
    assert "WHERE" in kinds["ix_issue_events_escalations"]
    downgrade(engine, "0006")
    with engine.connect() as conn:
        assert conn.execute(text(names[engine.dialect.name])).first() is not None
    upgrade(engine)
    assert pending_changes(engine) == []
    engine.dispose()


def test_db_commands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    before = runner.invoke(app, ["db", "current", "--database-url", url])
    assert "database: empty" in before.output
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0 and f"schema at revision {head()}" in result.output
    added = runner.invoke(
        app, ["users", "add", "--role", "dispatcher", "--name", "调度员小李", "--database-url", url]
    )
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert len(token) >= 40
    wrong = runner.invoke(
        app, ["users", "add", "--role", "mayor", "--name", "x", "--database-url", url]
    )
    assert wrong.exit_code == 2 and "is not one of" in wrong.output
    nobody = runner.invoke(
        app,
        ["users", "add", "--role", "grid_worker", "--name", "x", "--member", "M404",
         "--database-url", url],
    )  # fmt: skip
    assert nobody.exit_code == 2 and "no member has id 'M404'" in nobody.output


def test_a_members_phone_gets_a_token(loaded_url: str) -> None:
    import csv

    from tests.helpers import DATA

    with (DATA / "members.csv").open(encoding="utf-8") as fh:
        member = next(r["id"] for r in csv.DictReader(fh) if r["squad"] == "SQ3")
    added = runner.invoke(
        app,
        ["users", "add", "--role", "grid_worker", "--name", "phone", "--member", member,
         "--database-url", loaded_url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        from service.staff import actor_for_token

        assert actor_for_token(session, token).member_id == member
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_concurrent_changes_to_one_case_have_one_winner(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    admin = Actor("管理员", Role.ADMIN)
    new = NewIssue(
        lon=121.8452,
        lat=29.8940,
        input_crs="wgs84",
        input_lon=121.8452,
        input_lat=29.8940,
        category="stairwell_clutter",
        description="楼道堆物",
        channel="web",
        grid_code="330206002016016",
    )
    with Session(engine) as session, session.begin():
        case = create_issue(session, new, NOW, "2wd")[0].id
        transition(session, case, Status.FILED, admin, NOW)
    one, two = Actor("调度员甲", Role.DISPATCHER), Actor("调度员乙", Role.DISPATCHER)
    a, b = Session(engine), Session(engine)
    seen_a, seen_b = a.get(Issue, case), b.get(Issue, case)  # both read the filed case
    assert seen_a is not None and seen_b is not None and seen_b.status == "filed"
    transition(a, case, Status.DISPATCHED, one, NOW, {"squad": "SQ1"})
    a.commit()
    with pytest.raises(ConcurrentChange, match="changed by someone else"):
        transition(b, case, Status.DISPATCHED, two, NOW, {"squad": "SQ2"})
    b.rollback()
    a.close()
    b.close()
    with Session(engine) as session:
        final = session.get(Issue, case)
        assert final is not None and final.squad_id == "SQ1"
        assert [e.actor for e in history(session, case)] == ["public", "管理员", "调度员甲"]
    engine.dispose()
