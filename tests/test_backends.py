"""SQLite and PostGIS give the same answers, and both use their spatial indexes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from cases.indicators import indicators, month_of
from store.db import create_schema, make_engine
from store.demo import load_demo_cases
from store.issues import IssueFilter, cases_frame, find_duplicates, issue_query, list_issues
from store.layers import read_layer
from store.load import load_folder
from tests.helpers import DATA
from tests.helpers import MORNING as NOW

BOXES = [
    (121.8300, 29.8930, 121.8360, 29.8960),
    (121.8220, 29.8885, 121.8462, 29.8998),  # everything
    (121.8440, 29.8928, 121.8462, 29.8958),  # one grid
    (121.8380, 29.8885, 121.8381, 29.8886),  # almost nothing
    (121.80, 29.80, 121.81, 29.81),  # nothing
]


def _prepared(url: str) -> str:
    engine = make_engine(url)
    create_schema(engine)
    assert load_folder(engine, DATA).ok
    with Session(engine) as session, session.begin():
        load_demo_cases(session, NOW)
    engine.dispose()
    return url


@pytest.fixture()
def both(tmp_path, fresh_postgis) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    sqlite = _prepared(f"sqlite:///{tmp_path / 'same.sqlite3'}")
    yield sqlite, _prepared(fresh_postgis())


def answers(url: str) -> dict[str, object]:
    engine = make_engine(url)
    out: dict[str, object] = {}
    with Session(engine) as session:
        for i, box in enumerate(BOXES):
            rows, total = list_issues(session, IssueFilter(bbox=box, limit=None, now=NOW))
            out[f"issues {i}"] = (total, [r.id for r in rows])
            out[f"layer {i}"] = sorted(read_layer(session, "merchants", box).get("id", []))
            out[f"grids {i}"] = sorted(read_layer(session, "grids", box).get("code", []))
        frame = cases_frame(session, NOW - timedelta(days=90), NOW, NOW)
        frame["month"] = month_of(frame["reported_at"])
        for key in ("grid_code", "squad_id", "category", "month"):
            table = indicators(frame, key, NOW - timedelta(days=90), NOW, NOW)
            out[f"stats {key}"] = table.round(9).to_dict("records")
        rows, _ = list_issues(session, IssueFilter(overdue=True, limit=None, now=NOW))
        out["overdue"] = [r.id for r in rows]
        for issue in list_issues(session, IssueFilter(limit=None, now=NOW))[0]:
            near = find_duplicates(
                session,
                issue.category,
                issue.lon,
                issue.lat,
                600,
                NOW - timedelta(days=90),
                exclude=issue.id,
            )
            out[f"dup {issue.id}"] = [(other.id, round(d, 6)) for other, d in near]
    engine.dispose()
    return out


@pytest.mark.dated
def test_spatial_queries_agree_across_backends(both: tuple[str, str]) -> None:
    sqlite, postgis = both
    left, right = answers(sqlite), answers(postgis)
    assert left == right
    assert left["issues 1"][0] == 300  # type: ignore[index]
    assert sum(r["reported"] for r in left["stats month"]) == 300  # type: ignore[attr-defined]
    assert any(v for k, v in left.items() if k.startswith("dup"))


def test_bbox_queries_use_the_spatial_index(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        query = issue_query(session, IssueFilter(bbox=BOXES[0]))
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " ".join(
                    str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                )
                assert "ix_issues_cells" in plan
            else:
                conn.execute(text("SET enable_seqscan = off"))
                plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))
                assert "ix_issues_geom" in plan
    engine.dispose()
