"""Indicators over a street: ``/api/v1/stats`` with ``area=`` and ``group_by=community``
or ``street``.

A street's rates are counted from its cases, never averaged from its
communities' rates; every group's counts equal a count made directly in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from cases.areas import Level
from cases.indicators import GROUPS, areas_at
from service.stats import GroupBy
from store.db import make_engine
from store.load import load_folder
from store.models import Issue
from tests.helpers import GOOD_REPORT, MORNING, SHIMAO, neighbour_community

LINGXIAO = "330206002016"
GAOTANG = "330206002017"
XINQI = "330206002"
ELSEWHERE = "330206003005"  # a community of another street of Beilun, not loaded
BEILUN = "330206"

REPORTED = MORNING - timedelta(days=7)
DEADLINE = REPORTED + timedelta(days=3)  # passed by MORNING: every filed case is due
ON_TIME = DEADLINE - timedelta(days=1)
LATE = DEADLINE + timedelta(days=1)
# the default period: the 90 days up to the (fixed) clock, as service.stats.period sets it
UNTIL = MORNING + timedelta(seconds=1)
SINCE = UNTIL - timedelta(days=90)


def _case(community: str, closed_at: datetime | None = None) -> dict[str, Any]:
    """A filed case of ``community`` handled by ``DEADLINE``: closed at ``closed_at``, or
    still in progress (and so overdue at ``MORNING``)."""
    return {
        **GOOD_REPORT,
        "input_crs": "wgs84",
        "input_lon": SHIMAO[0],
        "input_lat": SHIMAO[1],
        "geom": shapely.Point(SHIMAO),
        "grid_code": f"{community}016",
        "community_code": community,
        "status": "in_progress" if closed_at is None else "closed",
        "squad_id": None,
        "reported_at": REPORTED,
        "updated_at": closed_at or REPORTED,
        "filed_at": REPORTED,
        "resolved_at": closed_at,
        "closed_at": closed_at,
        "file_deadline": REPORTED + timedelta(days=2),
        "handle_deadline": DEADLINE,
        "due_at": DEADLINE,
        "rework_count": 0,
        "version": 1,
    }


def _insert(url: str, rows: list[dict[str, Any]]) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(insert(Issue), rows)
    engine.dispose()


def _with_gaotang(url: str, tmp_path: Path) -> None:
    folder = neighbour_community(tmp_path / "gaotang", GAOTANG, "高塘社区(示意)", 0.05, "GT-")
    engine = make_engine(url)
    assert load_folder(engine, folder).ok
    engine.dispose()


def _client(url: str, tmp_path: Path) -> Iterator[TestClient]:
    from api.app import create_app
    from service.settings import Settings

    app = create_app(Settings(database_url=url, var_dir=tmp_path / "var"))
    with TestClient(app) as client:
        client.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
        yield client
    app.state.engine.dispose()


def _rows(api: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    answer = api.get("/api/v1/stats", params=params)
    assert answer.status_code == 200, answer.text
    return {row["key"]: row for row in answer.json()["rows"]}


@pytest.fixture()
def uneven(loaded_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """Xinqi street with Lingxiao (1 case, closed on time) and Gaotang (9 cases, 1 closed
    late), and a community of another street (1 case closed on time, 1 open)."""
    _with_gaotang(loaded_url, tmp_path)
    _insert(
        loaded_url,
        [
            _case(LINGXIAO, ON_TIME),
            _case(GAOTANG, LATE),
            *(_case(GAOTANG) for _ in range(8)),
            _case(ELSEWHERE, ON_TIME),
            _case(ELSEWHERE),
        ],
    )
    yield from _client(loaded_url, tmp_path)


def _direct(url: str, prefix: str) -> dict[str, int]:
    """Counts of the cases whose community code starts with ``prefix``, straight from SQL."""
    like = Issue.community_code.like(f"{prefix}%")
    closed = Issue.status == "closed"
    conditions = {
        "reported": [],
        "filed": [Issue.filed_at.is_not(None)],
        "closed": [closed],
        "closed_on_time": [closed, Issue.closed_at <= Issue.handle_deadline],
        "due": [
            Issue.filed_at.is_not(None),
            or_(Issue.handle_deadline < MORNING, closed),
        ],
        "open": [Issue.status.not_in(["closed", "rejected", "duplicate"])],
        "overdue": [
            Issue.status.not_in(["closed", "rejected", "duplicate"]),
            Issue.due_at < MORNING,
        ],
    }
    engine = make_engine(url)
    with Session(engine) as session:
        out = {
            name: int(
                session.scalar(
                    select(func.count())
                    .select_from(Issue)
                    .where(
                        and_(like, Issue.reported_at >= SINCE, Issue.reported_at < UNTIL, *where)
                    )
                )
                or 0
            )
            for name, where in conditions.items()
        }
    engine.dispose()
    return out


def test_a_streets_rates_come_from_its_cases_not_from_its_communities_rates(
    uneven: TestClient, loaded_url: str
) -> None:
    communities = _rows(uneven, group_by="community", area=XINQI)
    assert set(communities) == {LINGXIAO, GAOTANG}
    assert communities[LINGXIAO]["closure_rate"] == communities[LINGXIAO]["on_time_rate"] == 1.0
    assert communities[GAOTANG]["closure_rate"] == round(1 / 9, 4)
    assert communities[GAOTANG]["on_time_rate"] == 0.0

    street = _rows(uneven, group_by="street", area=XINQI)[XINQI]
    direct = _direct(loaded_url, XINQI)
    assert (direct["due"], direct["closed"], direct["closed_on_time"]) == (10, 2, 1)
    assert street["closure_rate"] == direct["closed"] / direct["due"] == 0.2
    assert street["on_time_rate"] == direct["closed_on_time"] / direct["due"] == 0.1
    # the mean of the communities' rates would be 55.6 % and 50 %: not the street's figure
    for rate in ("closure_rate", "on_time_rate"):
        mean = sum(row[rate] for row in communities.values()) / len(communities)
        assert abs(street[rate] - mean) > 0.3, (rate, street[rate], mean)


def test_communities_are_named_from_their_layer_and_streets_by_code_alone(
    uneven: TestClient,
) -> None:
    communities = _rows(uneven, group_by="community")
    assert {k: r["name"] for k, r in communities.items()} == {
        LINGXIAO: "凌霄社区",
        GAOTANG: "高塘社区(示意)",
        ELSEWHERE: None,  # cases of a community whose layer is not loaded
    }
    streets = _rows(uneven, group_by="street")
    assert {k: r["name"] for k, r in streets.items()} == {XINQI: None, "330206003": None}
    assert streets[XINQI]["reported"] == 10 and streets["330206003"]["reported"] == 2


def test_an_area_keeps_its_own_cases_and_says_which_it_was(uneven: TestClient) -> None:
    answer = uneven.get("/api/v1/stats", params={"group_by": "grid", "area": GAOTANG}).json()
    assert answer["area"] == GAOTANG
    assert [r["key"] for r in answer["rows"]] == [f"{GAOTANG}016"]
    assert answer["rows"][0]["name"] == "凌霄社区第十六网格"  # the copy keeps the grids' names
    everywhere = uneven.get("/api/v1/stats", params={"group_by": "month"}).json()
    assert everywhere["area"] is None and everywhere["rows"][0]["reported"] == 12
    district = _rows(uneven, group_by="month", area=BEILUN)
    assert [r["reported"] for r in district.values()] == [12]


BAD_AREAS = [
    ("33020600201", "11 digits"),
    ("３３０２０６", "full-width digits? '330206'"),
    ("330206 ", "other than the digits"),
    ("%", "other than the digits"),
]


def test_a_bad_area_is_a_422_naming_it(api: TestClient) -> None:
    for area, says in BAD_AREAS:
        answer = api.get("/api/v1/stats", params={"area": area})
        assert answer.status_code == 422, (area, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "bad_area" and says in error["message"], (area, error)
        assert repr(area) in error["message"]


def test_an_area_without_cases_has_no_rows(uneven: TestClient) -> None:
    for area in ("330211", "330206009", "330206002099"):  # a district, street, community
        answer = uneven.get("/api/v1/stats", params={"group_by": "street", "area": area})
        assert answer.status_code == 200, (area, answer.text)
        assert answer.json()["rows"] == [] and answer.json()["area"] == area


@pytest.fixture()
def busy_street(loaded_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The demo history spread over Lingxiao and Gaotang, and cases of another street."""
    from store.demo import load_demo_cases

    _with_gaotang(loaded_url, tmp_path)
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        assert load_demo_cases(session, MORNING) == 300
    engine.dispose()
    _insert(loaded_url, [_case(ELSEWHERE, ON_TIME), _case(ELSEWHERE, LATE), _case(ELSEWHERE)])
    yield from _client(loaded_url, tmp_path)


COUNTS = ("reported", "filed", "due", "closed", "closed_on_time", "open", "overdue")


@pytest.mark.dated
def test_every_roll_up_equals_a_direct_count(busy_street: TestClient, loaded_url: str) -> None:
    seen: dict[str, dict[str, dict[str, Any]]] = {
        "community": _rows(busy_street, group_by="community"),
        "street": _rows(busy_street, group_by="street"),
        "community in the street": _rows(busy_street, group_by="community", area=XINQI),
        "street in the district": _rows(busy_street, group_by="street", area=BEILUN),
    }
    assert set(seen["community"]) == {LINGXIAO, GAOTANG, ELSEWHERE}
    assert set(seen["street"]) == {XINQI, "330206003"}
    assert set(seen["community in the street"]) == {LINGXIAO, GAOTANG}
    assert seen["street in the district"] == seen["street"]
    for how, rows in seen.items():
        for code, row in rows.items():
            direct = _direct(loaded_url, code)
            assert {c: row[c] for c in COUNTS} == direct, (how, code)
            due = direct["due"]
            assert due > 0, (how, code)  # so that the rates below are numbers
            assert row["closure_rate"] == round(direct["closed"] / due, 4), (how, code)
            assert row["on_time_rate"] == round(direct["closed_on_time"] / due, 4), (how, code)
    # each grid of the street, counted over the street only, adds up to the street
    grids = _rows(busy_street, group_by="grid", area=XINQI)
    street = seen["street"][XINQI]
    for count in COUNTS:
        assert sum(r[count] for r in grids.values()) == street[count], count
    assert street["reported"] == 300


def test_the_street_of_a_community_code_is_its_first_nine_digits() -> None:
    codes = pd.Series([LINGXIAO, GAOTANG, ELSEWHERE, None, LINGXIAO])
    assert areas_at(codes, Level.STREET).tolist()[:3] == [XINQI, XINQI, "330206003"]
    assert pd.isna(areas_at(codes, Level.STREET)[3])
    assert get_args(GroupBy) == GROUPS  # the API's choices are the indicators' groups
