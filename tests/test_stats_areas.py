"""Indicators over a street: ``/api/v1/stats`` with ``area=`` and ``group_by=community``
or ``street``.

A street's rates are counted from its cases, never averaged from its
communities' rates; every group's counts equal a count made directly in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cases.areas import Level
from cases.indicators import GROUPS, areas_at
from service.stats import GroupBy
from store.db import make_engine
from store.load import load_folder
from tests.helpers import (
    COUNTS,
    LATE,
    MORNING,
    ON_TIME,
    direct_counts,
    insert_cases,
    neighbour_community,
    stored_case,
)

LINGXIAO = "330206002016"
GAOTANG = "330206002017"
XINQI = "330206002"
ELSEWHERE = "330206003005"  # a community of another street of Beilun, not loaded
BEILUN = "330206"


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
    insert_cases(
        loaded_url,
        [
            stored_case(LINGXIAO, ON_TIME),
            stored_case(GAOTANG, LATE),
            *(stored_case(GAOTANG) for _ in range(8)),
            stored_case(ELSEWHERE, ON_TIME),
            stored_case(ELSEWHERE),
        ],
    )
    yield from _client(loaded_url, tmp_path)


def test_a_streets_rates_come_from_its_cases_not_from_its_communities_rates(
    uneven: TestClient, loaded_url: str
) -> None:
    communities = _rows(uneven, group_by="community", area=XINQI)
    assert set(communities) == {LINGXIAO, GAOTANG}
    assert communities[LINGXIAO]["closure_rate"] == communities[LINGXIAO]["on_time_rate"] == 1.0
    assert communities[GAOTANG]["closure_rate"] == round(1 / 9, 4)
    assert communities[GAOTANG]["on_time_rate"] == 0.0

    street = _rows(uneven, group_by="street", area=XINQI)[XINQI]
    direct = direct_counts(loaded_url, XINQI)
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
    insert_cases(
        loaded_url,
        [stored_case(ELSEWHERE, ON_TIME), stored_case(ELSEWHERE, LATE), stored_case(ELSEWHERE)],
    )
    yield from _client(loaded_url, tmp_path)


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
            direct = direct_counts(loaded_url, code)
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
