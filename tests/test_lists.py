"""Case lists at city scale: keyset paging, a capped count, and the indexes the list,
cell, duplicate and escalation queries use, on SQLite and on PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cases.lifecycle import OPEN_STATUSES
from store.db import make_engine
from store.issues import (
    IssueFilter,
    count_matching,
    escalation_rank,
    issue_query,
    page_issues,
)
from store.models import Issue, IssueEvent
from tests.helpers import GOOD_REPORT, LINGXIAO_CODE, MORNING, insert_cases, stored_case

CAP = 3  # the exact count's cap in these tests


@pytest.fixture()
def capped(loaded_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """A TestClient on the loaded sample whose lists count exactly up to :data:`CAP`."""
    from api.app import create_app
    from service.settings import Settings

    settings = Settings(
        database_url=loaded_url,
        var_dir=tmp_path / "var",
        report_rate=10_000,
        exact_count_cap=CAP,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def report(api: TestClient, **changes: Any) -> int:
    response = api.post("/api/v1/issues", json={**GOOD_REPORT, **changes})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_reading_through_after_returns_each_case_once(capped: TestClient) -> None:
    first = [report(capped, description=f"第{i}件") for i in range(5)]
    seen: list[int] = []
    arrived: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = capped.get("/api/v1/issues", params=params).json()
        seen += [f["id"] for f in page["features"]]
        assert page["after"] == params.get("after")
        if page["next"] is None:
            break
        assert page["next"] == seen[-1]
        if len(arrived) < 3:  # new cases arrive between pages
            arrived.append(report(capped, description="新来的"))
        params["after"] = page["next"]
    assert len(seen) == len(set(seen)) and set(seen) == {*first, *arrived}
    assert len(arrived) == 3


def test_the_last_page_has_no_next(capped: TestClient) -> None:
    ids = [report(capped) for _ in range(4)]
    whole = capped.get("/api/v1/issues", params={"limit": 4}).json()
    assert [f["id"] for f in whole["features"]] == ids and whole["next"] is None
    rest = capped.get("/api/v1/issues", params={"limit": 2, "after": ids[1]}).json()
    assert [f["id"] for f in rest["features"]] == ids[2:] and rest["next"] is None
    # offset still pages, and counts from the cursor when both are given
    both = capped.get("/api/v1/issues", params={"limit": 1, "after": ids[0], "offset": 1})
    assert [f["id"] for f in both.json()["features"]] == [ids[2]]
    assert both.json()["next"] == ids[2]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", str(2**40)])
def test_a_bad_cursor_is_refused_naming_it(capped: TestClient, cursor: str) -> None:
    response = capped.get("/api/v1/issues", params={"after": cursor})
    assert response.status_code == 422
    assert "after" in response.json()["error"]["message"]


def test_the_total_is_exact_up_to_the_cap_and_estimated_beyond(capped: TestClient) -> None:
    market = report(capped, lon=121.8270, lat=29.8975, category="merchant")
    for _ in range(CAP - 1):
        report(capped)
    at_cap = capped.get("/api/v1/issues", params={"limit": 1}).json()
    assert (at_cap["total"], at_cap["total_is_estimate"]) == (CAP, False)
    report(capped)
    report(capped)
    beyond = capped.get("/api/v1/issues", params={"limit": 1}).json()
    assert beyond["total_is_estimate"] is True
    assert beyond["total"] > CAP  # at least the cap + 1 that was counted
    few = capped.get("/api/v1/issues", params={"category": "merchant"}).json()
    assert few["total"] == 1 and few["total_is_estimate"] is False
    assert [f["id"] for f in few["features"]] == [market]


def test_an_uncapped_count_is_exact(loaded_url: str) -> None:
    insert_cases(loaded_url, [stored_case(LINGXIAO_CODE) for _ in range(7)])
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        query = issue_query(session, IssueFilter())
        assert count_matching(session, query, None).value == 7
        assert count_matching(session, query, 7).estimate is False
        over = count_matching(session, query, 6)
        assert over.estimate and over.value >= 7
        rows, after = page_issues(session, IssueFilter(limit=3, after=2))
        assert [r.id for r in rows] == [3, 4, 5] and after == 5
        newest, after = page_issues(session, IssueFilter(limit=2, after=5, newest_first=True))
        assert [r.id for r in newest] == [4, 3] and after == 3
    engine.dispose()


def test_postgresql_connections_plan_for_the_values_and_compile_nothing(
    fresh_postgis: Any,
) -> None:
    engine = make_engine(fresh_postgis())
    with engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"
        assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
    engine.dispose()


def _plan(session: Session, query: Any) -> str:
    """The plan of ``query`` as one string: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's
    EXPLAIN with sequential scans discouraged (the sample's tables are tiny)."""
    bind = session.get_bind()
    compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "sqlite":
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return " ".join(str(r[-1]) for r in rows)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    return " ".join(r[0] for r in session.execute(text(f"EXPLAIN {compiled}")))


def test_the_queries_use_the_new_indexes(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    since = MORNING - timedelta(days=7)
    with Session(engine) as session:
        duplicates = select(Issue.id).where(
            Issue.category == "stairwell_clutter",
            Issue.status.in_([s.value for s in OPEN_STATUSES]),
            Issue.reported_at >= since,
            Issue.lon.between(121.82, 121.83),
            Issue.lat.between(29.89, 29.90),
        )
        if engine.dialect.name == "sqlite":  # the duplicate search's (PostGIS: GiST)
            assert "ix_issues_category_reported_at" in _plan(session, duplicates)
            box = issue_query(session, IssueFilter(bbox=(121.82, 29.89, 121.83, 29.90)))
            counted = box.with_only_columns(Issue.id, Issue.status, Issue.due_at)
            assert "COVERING INDEX ix_issues_cells" in _plan(session, counted)
        # the stats' escalation step; SQLite weighs a partial index once it has statistics
        session.execute(text("ANALYZE"))
        escalations = (
            select(IssueEvent.issue_id, func.max(escalation_rank()))
            .where(IssueEvent.escalation_sql())
            .group_by(IssueEvent.issue_id)
        )
        assert "ix_issue_events_escalations" in _plan(session, escalations)
        session.rollback()
    engine.dispose()
