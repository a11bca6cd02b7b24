"""China's statistical division codes: which area holds which.

A deployment holds many communities, so every place and every member of staff
belongs to an area named by its division code (统计用区划代码), one level
nested in the next:

========  ======  =================  ==========================
level     digits  example            what
========  ======  =================  ==========================
district  6       330206             Beilun District (北仑区)
street    9       330206002          Xinqi Street (新碶街道)
community 12      330206002016       Lingxiao Community (凌霄社区)
grid      15      330206002016001    a grid of Lingxiao
========  ======  =================  ==========================

Each code starts with its parent's code, so "area A holds area B" is "B's code
starts with A's".  The whole deployment is the scope :data:`DEPLOYMENT`, the
empty string, which is a prefix of every code: it holds every area.

Codes are strings of the ASCII digits 0-9, never numbers (a number would drop
leading zeros) and never stripped or normalised here: a code that arrives with
a space or full-width digits (３３０２０６, easy to type with a Chinese input
method) is refused with a message naming it, so that it is fixed where it was
typed rather than stored in two spellings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

DEPLOYMENT: Final = ""
"""The scope of the whole deployment: holds every area (the empty prefix)."""

_ASCII_DIGITS: Final = re.compile(r"[0-9]+")


class BadAreaCode(ValueError):
    """A division code is malformed, of the wrong level, or not under its parent."""


class Level(StrEnum):
    """The levels of the division hierarchy, largest first."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"

    @property
    def digits(self) -> int:
        """The length of a code at this level: 6, 9, 12 or 15."""
        return _DIGITS[self]


_DIGITS: Final = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}
_BY_LENGTH: Final = {digits: level for level, digits in _DIGITS.items()}
_ORDER: Final = tuple(Level)


def check_code(code: object, level: Level | None = None) -> str:
    """Return ``code`` unchanged if it is a well-formed division code.

    Parameters
    ----------
    code : object
        The value to check; only a ``str`` of 6, 9, 12 or 15 ASCII digits
        passes.  :data:`DEPLOYMENT` is a scope, not a code, and does not.
    level : Level, optional
        The level the code must have.

    Returns
    -------
    str
        ``code`` itself, so that a check can sit inside an expression.

    Raises
    ------
    BadAreaCode
        Naming the value (``repr``, so spaces show) and what is wrong with it:
        not a string, empty, a character other than 0-9 (with the ASCII
        spelling when it is made of full-width digits), a length that is no
        level's, or a level other than ``level``.
    """
    if not isinstance(code, str):
        raise BadAreaCode(
            f"area code {code!r} is a {type(code).__name__}; a division code is a string of digits"
        )
    if not code:
        raise BadAreaCode("area code '' is empty")
    if not _ASCII_DIGITS.fullmatch(code):
        raise BadAreaCode(
            f"area code {code!r} has characters other than the digits 0-9{_hint(code)}"
        )
    found = _BY_LENGTH.get(len(code))
    if found is None:
        raise BadAreaCode(f"area code {code!r} has {len(code)} digits; {_lengths()}")
    if level is not None and found is not level:
        raise BadAreaCode(
            f"area code {code!r} is a {found} code ({found.digits} digits), "
            f"expected a {level} code ({level.digits} digits)"
        )
    return code


def level_of(code: str) -> Level:
    """The level of a division code, from its length.

    Raises
    ------
    BadAreaCode
        When ``code`` is not a division code (:func:`check_code`).
    """
    return _BY_LENGTH[len(check_code(code))]


def check_area(code: object) -> str:
    """Return ``code`` unchanged if it names an area of communities.

    An area of communities is a district, a street or a community: what a role
    holds in and what indicators are counted for.  A grid is part of one
    community, not such an area.

    Raises
    ------
    BadAreaCode
        Naming the value, when it is not a division code (:func:`check_code`)
        or is a grid's.
    """
    checked = check_code(code)
    if level_of(checked) is Level.GRID:
        raise BadAreaCode(
            f"area code {checked!r} is a grid code; an area is a district, street or community"
        )
    return checked


def area_at(code: str, level: Level) -> str:
    """The code of the area at ``level`` that holds ``code``: its first digits.

    ``area_at("330206002016001", Level.STREET)`` is ``"330206002"``; a code at
    ``level`` is its own area.

    Raises
    ------
    BadAreaCode
        When ``code`` is not a division code, or lies above ``level`` (a
        street is held by no community).
    """
    own = level_of(code)
    if _ORDER.index(own) < _ORDER.index(level):
        raise BadAreaCode(f"{own} code {code!r} lies above the {level} level; no {level} holds it")
    return code[: level.digits]


def grid_number(code: str) -> int:
    """A grid's number within its community: the last three digits of its code
    (``330206002016016`` is grid 16).

    Raises
    ------
    BadAreaCode
        When ``code`` is not a grid's 15-digit code.
    """
    return int(check_code(code, Level.GRID)[Level.COMMUNITY.digits :])


def parent_of(code: str) -> str | None:
    """The code of the area directly above ``code``; ``None`` for a district.

    A district is the top of the division codes; the deployment above it is a
    scope (:data:`DEPLOYMENT`), not a parent code.

    Raises
    ------
    BadAreaCode
        When ``code`` is not a division code.
    """
    above = _level_above(level_of(code))
    return None if above is None else area_at(code, above)


def ancestors(code: str) -> tuple[str, ...]:
    """The codes of every area above ``code``, district first, parent last.

    ``ancestors("330206002016001")`` is ``("330206", "330206002",
    "330206002016")``; a district has none.

    Raises
    ------
    BadAreaCode
        When ``code`` is not a division code.
    """
    level = level_of(code)
    return tuple(area_at(code, above) for above in _ORDER[: _ORDER.index(level)])


def contains(area: str, code: str) -> bool:
    """Whether the area (or scope) ``area`` holds ``code``.

    An area holds itself and everything below it: its code is a prefix of
    theirs.  :data:`DEPLOYMENT` holds every code and is held only by itself,
    so staff scoped to the deployment see everything, and staff scoped to a
    street see none of a deployment-wide view.

    Parameters
    ----------
    area : str
        A division code, or :data:`DEPLOYMENT`.
    code : str
        A division code, or :data:`DEPLOYMENT`.

    Raises
    ------
    BadAreaCode
        When either is neither a division code nor :data:`DEPLOYMENT`.
    """
    return _check_scope(code).startswith(_check_scope(area))


def common_area(codes: Iterable[str]) -> str:
    """The smallest area that holds every one of ``codes``.

    ``common_area(["330206002016", "330206002017"])`` is the street
    ``"330206002"``; one code is its own smallest area; codes of two districts,
    or none at all, have only :data:`DEPLOYMENT` in common.

    Raises
    ------
    BadAreaCode
        When one of ``codes`` is not a division code.
    """
    found = {check_code(code) for code in codes}
    if not found:
        return DEPLOYMENT
    shortest = min(_BY_LENGTH[len(code)] for code in found)
    for level in reversed(_ORDER[: _ORDER.index(shortest) + 1]):
        prefixes = {code[: level.digits] for code in found}
        if len(prefixes) == 1:
            return prefixes.pop()
    return DEPLOYMENT


def check_child(parent: str, child: str) -> None:
    """Refuse ``child`` unless it is a code directly below ``parent``.

    The child must be exactly one level below (a street in a district, a grid
    in a community) and start with the parent's code, so a grid loaded with
    its community's layers cannot carry another community's code.

    Raises
    ------
    BadAreaCode
        When either code is malformed, the levels do not follow each other, or
        the child's code does not start with the parent's; the message names
        both codes and their levels.
    """
    above, below = level_of(parent), level_of(child)
    if _level_above(below) is not above:
        expected = _level_below(above)
        holds = f"holds {expected} codes" if expected else "holds no smaller area"
        raise BadAreaCode(
            f"{below} code {child!r} cannot lie directly in {above} code {parent!r}; "
            f"a {above} {holds}"
        )
    if not child.startswith(parent):
        raise BadAreaCode(f"{below} code {child!r} does not start with its {above} code {parent!r}")


def _check_scope(scope: str) -> str:
    """``scope`` if it is :data:`DEPLOYMENT` or a division code; else raise."""
    return scope if scope == DEPLOYMENT else check_code(scope)


def _level_above(level: Level) -> Level | None:
    i = _ORDER.index(level)
    return _ORDER[i - 1] if i else None


def _level_below(level: Level) -> Level | None:
    i = _ORDER.index(level)
    return _ORDER[i + 1] if i + 1 < len(_ORDER) else None


def _lengths() -> str:
    """The valid lengths, for messages: '6 (district), 9 (street), ...'."""
    listed = ", ".join(f"{level.digits} ({level})" for level in _ORDER)
    return f"a division code has {listed} digits"


def _hint(code: str) -> str:
    """A suggestion when ``code`` is a valid code spelled with full-width digits."""
    ascii_form = unicodedata.normalize("NFKC", code)
    if ascii_form != code and _ASCII_DIGITS.fullmatch(ascii_form) and len(ascii_form) in _BY_LENGTH:
        return f" (full-width digits? {ascii_form!r})"
    return ""
