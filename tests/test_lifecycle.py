"""The case state machine, its time limits and its indicators, without a database."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import pandas as pd
import pytest

from cases.deadlines import BadLimit, Calendar, add_limit, parse_limit
from cases.indicators import indicators, month_of
from cases.lifecycle import (
    TRANSITIONS,
    IllegalTransition,
    MissingField,
    NotAllowed,
    Role,
    Status,
    allowed_targets,
    check_transition,
)

LEGAL = {(t.source, t.target) for t in TRANSITIONS}
EVERYTHING = {
    "note": "n",
    "squad": "SQ1",
    "department": "U01",
    "response": "r",
    "duplicate_of": "1",
}


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_pair_is_legal_or_refused(source: Status, target: Status) -> None:
    if (source, target) in LEGAL:
        assert check_transition(source, target, Role.ADMIN, EVERYTHING).target == target
    else:
        with pytest.raises(IllegalTransition, match=f"a {source} case cannot become {target}"):
            check_transition(source, target, Role.ADMIN, EVERYTHING)


def test_the_expected_path_and_branches_exist() -> None:
    path = ["reported", "filed", "dispatched", "in_progress", "resolved", "closed"]
    assert all((Status(a), Status(b)) in LEGAL for a, b in pairwise(path))
    assert (Status.RESOLVED, Status.IN_PROGRESS) in LEGAL  # rework
    assert allowed_targets(Status.REPORTED) == ["filed", "rejected", "duplicate"]
    assert allowed_targets(Status.CLOSED) == []


def test_roles_and_required_fields() -> None:
    with pytest.raises(NotAllowed, match="grid_worker may not"):
        check_transition(Status.FILED, Status.ESCALATED, Role.GRID_WORKER, EVERYTHING)
    assert check_transition(Status.FILED, Status.DISPATCHED, Role.GRID_WORKER, EVERYTHING)
    with pytest.raises(NotAllowed):
        check_transition(Status.FILED, Status.DISPATCHED, Role.PLANNER, EVERYTHING)
    with pytest.raises(NotAllowed):
        check_transition(Status.REPORTED, Status.FILED, Role.PLANNER, {})
    with pytest.raises(MissingField, match="needs squad"):
        check_transition(Status.FILED, Status.DISPATCHED, Role.DISPATCHER, {"note": "x"})
    with pytest.raises(MissingField, match="needs department"):
        check_transition(Status.FILED, Status.ESCALATED, Role.MANAGER, {"department": ""})


def test_limits_parse_and_refuse_nonsense() -> None:
    assert parse_limit("24h") == (24, "h") and parse_limit(" 7wd ") == (7, "wd")
    for bad in ("7", "0d", "three days", "5w", ""):
        with pytest.raises(BadLimit, match="must be a positive number"):
            parse_limit(bad)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.dated
def test_hours_and_days_are_calendar_time() -> None:
    start = utc("2026-11-27T02:00:00")  # Friday 10:00 in Ningbo
    assert add_limit(start, "24h") == utc("2026-11-28T02:00:00")
    assert add_limit(start, "3d") == utc("2026-11-30T02:00:00")


@pytest.mark.dated
def test_working_days_skip_weekends_and_holidays() -> None:
    friday = utc("2026-11-27T02:00:00")  # Friday 10:00 local
    assert add_limit(friday, "2wd") == utc("2026-12-01T02:00:00")  # Tuesday 10:00
    assert add_limit(friday, "7wd") == utc("2026-12-08T02:00:00")
    monday = utc("2026-11-30T01:00:00")
    holiday = Calendar(holidays={datetime(2026, 12, 1).date()})
    assert add_limit(monday, "1wd", holiday) == utc("2026-12-02T01:00:00")
    makeup = Calendar(workdays={datetime(2026, 12, 5).date()})  # a working Saturday
    assert add_limit(friday, "1wd", makeup) == utc("2026-11-30T02:00:00")
    assert add_limit(utc("2026-12-04T02:00:00"), "1wd", makeup) == utc("2026-12-05T02:00:00")


@pytest.mark.dated
def test_working_days_from_a_weekend_count_from_monday_morning() -> None:
    saturday = utc("2026-11-28T06:00:00")
    # counted from Monday 00:00 local (Sunday 16:00 UTC): 2 working days on is Wednesday 00:00
    assert add_limit(saturday, "2wd") == utc("2026-12-01T16:00:00")


def test_local_month() -> None:
    months = month_of(pd.Series([utc("2026-10-31T17:00:00"), utc("2026-10-31T15:00:00")]))
    assert months.tolist() == ["2026-11", "2026-10"]


@pytest.mark.dated
def test_indicators_against_hand_computed_values() -> None:
    t = utc
    rows = [
        # grid A: 4 cases
        (
            "A",
            "closed",
            t("2026-10-01T00:00"),
            t("2026-10-01T02:00"),
            t("2026-10-02T00:00"),
            t("2026-10-02T00:00"),
            t("2026-10-03T00:00"),
            0,
        ),  # closed on time, 24 h
        (
            "A",
            "closed",
            t("2026-10-02T00:00"),
            t("2026-10-02T00:00"),
            t("2026-10-06T00:00"),
            t("2026-10-06T00:00"),
            t("2026-10-04T00:00"),
            1,
        ),  # closed late, reworked, 96 h
        (
            "A",
            "in_progress",
            t("2026-10-03T00:00"),
            t("2026-10-03T00:00"),
            None,
            None,
            t("2026-10-05T00:00"),
            0,
        ),  # due, overdue
        ("A", "rejected", t("2026-10-04T00:00"), None, None, None, None, 0),
        # grid B: 2 cases
        (
            "B",
            "filed",
            t("2026-10-05T00:00"),
            t("2026-10-05T00:00"),
            None,
            None,
            t("2026-12-30T00:00"),
            0,
        ),  # not yet due
        (
            "B",
            "resolved",
            t("2026-10-06T00:00"),
            t("2026-10-06T00:00"),
            None,
            t("2026-10-07T00:00"),
            t("2026-10-08T00:00"),
            0,
        ),  # due, not closed, overdue
        # outside the period
        (
            "B",
            "closed",
            t("2026-09-01T00:00"),
            t("2026-09-01T00:00"),
            t("2026-09-02T00:00"),
            t("2026-09-02T00:00"),
            t("2026-09-03T00:00"),
            0,
        ),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "grid_code",
            "status",
            "reported_at",
            "filed_at",
            "closed_at",
            "resolved_at",
            "handle_deadline",
            "rework_count",
        ],
    )
    frame["due_at"] = frame["handle_deadline"].fillna(t("2026-10-06T00:00"))
    # the store's overdue rule (Issue.overdue_at), worked by hand: open and past due_at
    terminal = {"closed", "rejected", "duplicate"}
    frame["overdue"] = ~frame["status"].isin(terminal) & (frame["due_at"] < t("2026-11-15T00:00"))
    # how far each case was escalated: never, community, street, district (by row)
    frame["escalation_rank"] = [3, 2, 1] + [0] * (len(frame) - 3)
    # the store's due rule (Issue.due_sql), worked by hand: filed, and closed or past the
    # handling deadline by the horizon (the period's end, before now)
    frame["due"] = frame["filed_at"].notna() & (
        (frame["handle_deadline"] < t("2026-11-01T00:00")) | (frame["status"] == "closed")
    )
    result = indicators(
        frame, "grid_code", t("2026-10-01T00:00"), t("2026-11-01T00:00"), now=t("2026-11-15T00:00")
    ).set_index("grid_code")
    a, b = result.loc["A"], result.loc["B"]
    assert (a.reported, a.filed, a.due, a.closed, a.closed_on_time) == (4, 3, 3, 2, 1)
    assert a.closure_rate == pytest.approx(2 / 3)
    assert a.on_time_rate == pytest.approx(1 / 3)
    assert a.rework_rate == pytest.approx(1 / 2)
    assert a.mean_handling_hours == pytest.approx((24 + 96) / 2)
    assert a.overdue == 1 and a.open == 1
    assert (b.reported, b.filed, b.due, b.closed) == (2, 2, 1, 0)
    assert b.closure_rate == 0 and b.on_time_rate == 0
    assert b.rework_rate == 0 and pd.isna(b.mean_handling_hours)
    assert b.overdue == 1
    # A's first three cases reached the district, the street and their community's unit
    assert (a.escalated, a.escalated_street, a.escalated_district) == (3, 2, 1)
    assert (b.escalated, b.escalated_street, b.escalated_district) == (0, 0, 0)
