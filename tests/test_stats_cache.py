"""/stats answers are kept a few seconds (``service.stats_cache``), and dropped as soon as
a case is written in the process: a report or a transition shows in the next answer.

No test waits: the cache's clock is a counter the test moves, and the app's clock is
fixed so that every request falls in one rounding of ``now``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

import service.stats
from service.stats_cache import BadLifetime, TtlCache
from store.case_writes import case_writes
from store.db import make_engine
from store.models import Issue
from tests.helpers import GOOD_REPORT, MORNING, auth, stored_case


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_an_answer_is_kept_for_its_lifetime_only() -> None:
    clock = Clock()
    cache: TtlCache[int] = TtlCache(ttl_s=5, clock=clock)
    worked: list[str] = []

    def work(key: str) -> int:
        worked.append(key)
        return len(worked)

    assert cache.get("a", lambda: work("a")) == 1
    clock.t = 4.9
    assert cache.get("a", lambda: work("a")) == 1  # kept
    assert cache.get("b", lambda: work("b")) == 2  # another key, worked out
    clock.t = 5.0
    assert cache.get("a", lambda: work("a")) == 3  # expired
    assert worked == ["a", "b", "a"]


def test_a_full_cache_drops_entries_and_still_answers() -> None:
    cache: TtlCache[int] = TtlCache(ttl_s=5, max_entries=4, clock=Clock())
    for n in range(20):
        assert cache.get(n, lambda n=n: n * n) == n * n  # type: ignore[misc]
    assert cache.get(19, lambda: -1) == 19 * 19  # the newest is kept


@pytest.mark.parametrize(("ttl", "size"), [(0, 10), (-1, 10), (5, 0)])
def test_a_lifetime_or_size_below_one_is_refused_by_value(ttl: float, size: int) -> None:
    with pytest.raises(BadLifetime, match=rf"\({ttl!r}\).*\({size!r}\)"):
        TtlCache(ttl_s=ttl, max_entries=size)


def test_a_case_written_through_any_session_drops_every_answer(loaded_url: str) -> None:
    cache: TtlCache[int] = TtlCache(ttl_s=5, clock=Clock())
    assert cache.get("k", lambda: 1) == 1
    before = case_writes()
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():  # a bulk ORM insert, no flush
        session.execute(insert(Issue), [stored_case("330206002016")])
    engine.dispose()
    assert case_writes() > before
    assert cache.get("k", lambda: 2) == 2


def _stats(api: TestClient, **params: str) -> dict[str, Any]:
    answer = api.get("/api/v1/stats", params={"group_by": "category", **params})
    assert answer.status_code == 200, answer.text
    return {row["key"]: row for row in answer.json()["rows"]}


@pytest.mark.dated
def test_reports_and_transitions_show_in_the_next_answer(
    api: TestClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    worked: list[object] = []
    counted = service.stats.stats

    def counting(*args: Any, **kwargs: Any) -> Any:
        worked.append(args[2])
        return counted(*args, **kwargs)

    monkeypatch.setattr(service.stats, "stats", counting)
    first = _stats(api)
    assert _stats(api) == first and len(worked) == 1  # the second answer is the kept one
    _stats(api, area="330206002016")
    _stats(api, **{"from": "2026-11-01"})
    assert len(worked) == 3  # another area, another period: other answers

    created = api.post("/api/v1/issues", json=GOOD_REPORT)
    assert created.status_code == 201, created.text
    after = _stats(api)
    assert len(worked) == 4
    category = GOOD_REPORT["category"]
    assert after[category]["reported"] == first.get(category, {}).get("reported", 0) + 1
    assert after[category]["filed"] == first.get(category, {}).get("filed", 0)

    moved = api.post(
        f"/api/v1/issues/{created.json()['id']}/transitions",
        json={"to": "filed", "note": "立案"},
        headers=auth(tokens["admin"]),
    )
    assert moved.status_code == 200, moved.text
    assert _stats(api)[category]["filed"] == after[category]["filed"] + 1
    assert len(worked) == 5

    api.app.state.clock = lambda: MORNING + timedelta(minutes=1)  # type: ignore[attr-defined]
    _stats(api)
    assert len(worked) == 6  # a later now is another answer
