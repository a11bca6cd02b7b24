"""Division codes: levels, parents, containment and the refusal of malformed codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cases.areas import (
    DEPLOYMENT,
    BadAreaCode,
    Level,
    ancestors,
    area_at,
    check_area,
    check_child,
    check_code,
    common_area,
    contains,
    level_of,
    parent_of,
)

BEILUN = "330206"
XINQI = "330206002"
LINGXIAO = "330206002016"
GRID = "330206002016001"
OTHER_STREET = "330206003"
OTHER_COMMUNITY = "330206002017"  # a neighbour of Lingxiao in Xinqi


@pytest.mark.parametrize(
    ("code", "level"),
    [
        (BEILUN, Level.DISTRICT),
        (XINQI, Level.STREET),
        (LINGXIAO, Level.COMMUNITY),
        (GRID, Level.GRID),
    ],
)
def test_level_follows_the_length(code: str, level: Level) -> None:
    assert level_of(code) is level
    assert level.digits == len(code)
    assert check_code(code) == code
    assert check_code(code, level) == code


def test_levels_run_largest_first_and_are_strings() -> None:
    assert list(Level) == [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
    assert [level.digits for level in Level] == [6, 9, 12, 15]
    assert Level("community") is Level.COMMUNITY
    assert f"{Level.STREET}" == "street"


@pytest.mark.parametrize(
    ("code", "parent"),
    [(BEILUN, None), (XINQI, BEILUN), (LINGXIAO, XINQI), (GRID, LINGXIAO)],
)
def test_parent_is_the_code_one_level_up(code: str, parent: str | None) -> None:
    assert parent_of(code) == parent


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (BEILUN, ()),
        (XINQI, (BEILUN,)),
        (LINGXIAO, (BEILUN, XINQI)),
        (GRID, (BEILUN, XINQI, LINGXIAO)),
    ],
)
def test_ancestors_run_from_the_district_to_the_parent(code: str, expected: tuple) -> None:
    assert ancestors(code) == expected
    if expected:
        assert ancestors(code)[-1] == parent_of(code)


@pytest.mark.parametrize(
    ("code", "level", "area"),
    [
        (GRID, Level.STREET, XINQI),
        (GRID, Level.DISTRICT, BEILUN),
        (LINGXIAO, Level.STREET, XINQI),
        (LINGXIAO, Level.COMMUNITY, LINGXIAO),  # at its own level, itself
        (XINQI, Level.STREET, XINQI),
    ],
)
def test_area_at_a_level_is_the_codes_first_digits(code: str, level: Level, area: str) -> None:
    assert area_at(code, level) == area
    assert contains(area, code)


def test_no_smaller_area_holds_a_code() -> None:
    with pytest.raises(BadAreaCode, match="street code '330206002' lies above the community"):
        area_at(XINQI, Level.COMMUNITY)


@pytest.mark.parametrize("code", [BEILUN, XINQI, LINGXIAO])
def test_districts_streets_and_communities_are_areas(code: str) -> None:
    assert check_area(code) == code


@pytest.mark.parametrize(
    ("code", "says"),
    [(GRID, "is a grid code"), ("33020600201", "11 digits"), ("", "empty"), (None, "NoneType")],
)
def test_a_grid_or_a_malformed_code_is_no_area(code: object, says: str) -> None:
    with pytest.raises(BadAreaCode) as caught:
        check_area(code)
    assert says in str(caught.value) and repr(code) in str(caught.value)


@pytest.mark.parametrize(
    ("area", "code", "held"),
    [
        (LINGXIAO, LINGXIAO, True),  # an area holds itself
        (LINGXIAO, GRID, True),
        (XINQI, GRID, True),
        (BEILUN, GRID, True),
        (BEILUN, XINQI, True),
        (GRID, LINGXIAO, False),  # not its parent
        (LINGXIAO, XINQI, False),
        (OTHER_COMMUNITY, GRID, False),  # a neighbour's grid
        (OTHER_STREET, LINGXIAO, False),
        (DEPLOYMENT, BEILUN, True),  # the deployment holds everything
        (DEPLOYMENT, GRID, True),
        (DEPLOYMENT, DEPLOYMENT, True),
        (BEILUN, DEPLOYMENT, False),  # and is held only by itself
        (GRID, DEPLOYMENT, False),
    ],
)
def test_contains_is_the_prefix_rule(area: str, code: str, held: bool) -> None:
    assert contains(area, code) is held


BAD_CODES = [
    pytest.param("", "empty", id="empty"),
    pytest.param("33020", "5 digits", id="five-digits"),
    pytest.param("3302060", "7 digits", id="seven-digits"),
    pytest.param("3302060020160010", "16 digits", id="sixteen-digits"),
    pytest.param("33020600201", "11 digits", id="eleven-digits"),
    pytest.param("33020a", "other than the digits", id="letter"),
    pytest.param("330-206", "other than the digits", id="dash"),
    pytest.param("-33020", "other than the digits", id="minus"),
    pytest.param("３３０２０６", "'330206'", id="full-width-says-ascii"),
    pytest.param("３３０２０", "other than the digits", id="full-width-wrong-length"),
    pytest.param("٣٣٠٢٠٦", "other than the digits", id="arabic-indic"),
    pytest.param(" 330206", "other than the digits", id="leading-space"),
    pytest.param("330206 ", "other than the digits", id="trailing-space"),
    pytest.param("330206\n", "other than the digits", id="trailing-newline"),
    pytest.param("330 206", "other than the digits", id="inner-space"),
    pytest.param("330206\u3000", "other than the digits", id="ideographic-space"),
    pytest.param("   ", "other than the digits", id="blank"),
    pytest.param(330206, "is a int", id="int"),
    pytest.param(None, "is a NoneType", id="none"),
    pytest.param(b"330206", "is a bytes", id="bytes"),
]


@pytest.mark.parametrize(("code", "says"), BAD_CODES)
def test_a_malformed_code_is_refused_naming_it(code: object, says: str) -> None:
    with pytest.raises(BadAreaCode) as caught:
        check_code(code)
    message = str(caught.value)
    assert says in message
    assert repr(code) in message


@pytest.mark.parametrize(("code", "says"), BAD_CODES)
def test_every_function_refuses_a_malformed_code(code: object, says: str) -> None:
    calls: list[Callable[[Any], object]] = [
        level_of,
        parent_of,
        ancestors,
        check_area,
        lambda c: area_at(c, Level.DISTRICT),
        lambda c: common_area([LINGXIAO, c]),
    ]
    if code != DEPLOYMENT:  # a scope, which contains() takes on either side
        calls += [lambda c: contains(BEILUN, c), lambda c: contains(c, GRID)]
    for call in calls:
        with pytest.raises(BadAreaCode):
            call(code)


def test_bad_area_code_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="5 digits"):
        level_of("33020")


def test_the_deployment_scope_is_not_a_code() -> None:
    with pytest.raises(BadAreaCode, match="empty"):
        check_code(DEPLOYMENT)
    with pytest.raises(BadAreaCode, match="empty"):
        parent_of(DEPLOYMENT)


def test_a_malformed_scope_is_refused() -> None:
    with pytest.raises(BadAreaCode, match="' 330206'"):
        contains(" 330206", GRID)


@pytest.mark.parametrize(
    ("code", "level", "says"),
    [
        (LINGXIAO, Level.GRID, "is a community code (12 digits), expected a grid code (15 digits)"),
        (GRID, Level.COMMUNITY, "is a grid code (15 digits), expected a community code"),
        (BEILUN, Level.STREET, "is a district code"),
    ],
)
def test_a_code_of_the_wrong_level_is_refused(code: str, level: Level, says: str) -> None:
    with pytest.raises(BadAreaCode) as caught:
        check_code(code, level)
    assert says in str(caught.value)
    assert repr(code) in str(caught.value)


@pytest.mark.parametrize(
    ("parent", "child"),
    [(BEILUN, XINQI), (XINQI, LINGXIAO), (LINGXIAO, GRID)],
)
def test_a_child_under_its_parent_passes(parent: str, child: str) -> None:
    check_child(parent, child)


@pytest.mark.parametrize(
    ("parent", "child", "says"),
    [
        (
            LINGXIAO,
            "330206002017001",
            "grid code '330206002017001' does not start with its community code '330206002016'",
        ),
        (XINQI, "330206003016", "community code '330206003016' does not start with its street"),
        (BEILUN, "330211002", "street code '330211002' does not start with its district"),
        (XINQI, GRID, "cannot lie directly in street code '330206002'; a street holds community"),
        (LINGXIAO, XINQI, "street code '330206002' cannot lie directly in community code"),
        (LINGXIAO, LINGXIAO, "a community holds grid codes"),
        (GRID, GRID, "a grid holds no smaller area"),
        (LINGXIAO, "330206002016001 ", "other than the digits"),
        ("33020600201", GRID, "11 digits"),
    ],
)
def test_a_child_not_under_its_parent_is_refused(parent: str, child: str, says: str) -> None:
    with pytest.raises(BadAreaCode) as caught:
        check_child(parent, child)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("codes", "area"),
    [
        ([LINGXIAO], LINGXIAO),
        ([LINGXIAO, LINGXIAO], LINGXIAO),
        ([LINGXIAO, OTHER_COMMUNITY], XINQI),
        ([OTHER_COMMUNITY, LINGXIAO, GRID], XINQI),
        ([GRID, LINGXIAO], LINGXIAO),
        ([LINGXIAO, OTHER_STREET + "001"], BEILUN),
        ([XINQI, LINGXIAO], XINQI),
        ([LINGXIAO, "330211002001"], DEPLOYMENT),  # another district
        ([], DEPLOYMENT),
    ],
)
def test_the_common_area_is_the_smallest_holding_them_all(codes: list[str], area: str) -> None:
    assert common_area(codes) == area
    assert all(contains(area, code) for code in codes)
