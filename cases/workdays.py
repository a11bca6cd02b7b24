"""China's working-day arrangement: the State Council's days off and make-up working days.

Each year the General Office of the State Council publishes which days are
public holidays (放假) and which weekend days are worked to make up for them
(调休上班).  Working-day time limits (``7wd``) must follow that arrangement, so
this module gathers it from two places:

* the ``chinesecalendar`` library (module ``chinese_calendar``), which ships
  the published arrangement for every year from 2004 to the last year it was
  released for, holidays *and* make-up working days;
* an optional operator file (``data/workdays.csv`` by default, see
  :func:`load_workdays`) for a year the installed library does not know yet,
  or to correct a day.

Only the arrangement lives here; :mod:`cases.deadlines` turns it into a
calendar and counts working days with it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import chinese_calendar

KINDS = ("holiday", "workday")
HEADER = ("date", "kind", "name")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadWorkdaysFile(ValueError):
    """The operator's working-day file cannot be read, or one of its rows is wrong.

    Parameters
    ----------
    path
        The file.
    line
        The 1-based line of the bad row, or ``None`` when the whole file is at fault
        (missing, unreadable, no header).
    value
        The offending text, quoted in the message.
    reason
        What is wrong with it.
    """

    def __init__(self, path: Path, line: int | None, value: str, reason: str) -> None:
        self.path = path
        self.line = line
        self.value = value
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}: {value!r}")


@dataclass(frozen=True)
class Arrangement:
    """Days off and make-up working days, and the years they fully describe.

    Attributes
    ----------
    holidays
        Local dates that are days off, whatever their weekday.
    workdays
        Local dates that are working days although they fall on a weekend (调休上班).
    years
        The years whose arrangement is known.  A day of a year outside this set
        has no published arrangement, so callers fall back to Monday to Friday
        and say so.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    def overridden_by(self, other: Arrangement) -> Arrangement:
        """This arrangement with ``other``'s days taking precedence.

        Used to lay the operator file over the library: a day the file lists as
        a working day stops being a holiday, and the other way round, so an
        operator can correct a single day as well as add a year.
        """
        return Arrangement(
            holidays=(self.holidays - other.workdays) | other.holidays,
            workdays=(self.workdays - other.holidays) | other.workdays,
            years=self.years | other.years,
        )


@lru_cache(maxsize=1)
def library_arrangement() -> Arrangement:
    """The arrangement the installed ``chinesecalendar`` library knows.

    Its years are every year from the first to the last it holds data for (the
    same range outside which the library itself refuses to answer); it is
    cached because the library's tables never change within a process.
    """
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    listed = [d.year for d in holidays | workdays]
    years = frozenset(range(min(listed), max(listed) + 1)) if listed else frozenset()
    return Arrangement(holidays=holidays, workdays=workdays, years=years)


def _parse_row(path: Path, lineno: int, fields: list[str]) -> tuple[date, str]:
    """Check one data row of the operator file; raise :class:`BadWorkdaysFile` naming it."""
    if len(fields) != len(HEADER):
        raise BadWorkdaysFile(
            path, lineno, ",".join(fields), f"expected {len(HEADER)} fields date,kind,name"
        )
    text, kind, _name = (f.strip() for f in fields)
    if not ISO_DATE.match(text):
        raise BadWorkdaysFile(path, lineno, text, "date must be written YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadWorkdaysFile(path, lineno, text, "no such date") from None
    if kind.lower() not in KINDS:
        raise BadWorkdaysFile(path, lineno, kind, f"kind must be one of {', '.join(KINDS)}")
    return day, kind.lower()


def load_workdays(path: Path) -> Arrangement:
    """Read and check an operator's working-day file.

    The file is UTF-8 CSV (a byte-order mark is allowed) with the header
    ``date,kind,name`` and one row a day:

    ``date``
        the local date, ``YYYY-MM-DD``;
    ``kind``
        ``holiday`` for a day off, ``workday`` for a weekend day that is worked
        (调休上班);
    ``name``
        free text for people, e.g. ``国庆节``; it may be empty.

    Blank lines and lines starting with ``#`` are ignored.  A year with at
    least one row counts as known, so when adding a year copy *all* its days
    off and make-up days from the State Council notice.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Arrangement
        Its days, and the years they belong to.

    Raises
    ------
    BadWorkdaysFile
        When the file is missing or unreadable, its header is not
        ``date,kind,name``, or a row has the wrong number of fields, a date
        that is not ``YYYY-MM-DD`` or does not exist, an unknown kind, or a
        date listed twice; the message names the file, the line and the value.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadWorkdaysFile(path, None, str(path), f"cannot read the file ({exc})") from exc
    holidays: set[date] = set()
    workdays: set[date] = set()
    seen: dict[date, int] = {}
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = next(csv.reader([line]))
        if not header_seen:
            if tuple(f.strip().lower() for f in fields) != HEADER:
                raise BadWorkdaysFile(path, lineno, line, "the header must be date,kind,name")
            header_seen = True
            continue
        day, kind = _parse_row(path, lineno, fields)
        if day in seen:
            raise BadWorkdaysFile(
                path, lineno, day.isoformat(), f"date already listed on line {seen[day]}"
            )
        seen[day] = lineno
        (holidays if kind == "holiday" else workdays).add(day)
    if not header_seen:
        raise BadWorkdaysFile(path, None, str(path), "no date,kind,name header")
    return Arrangement(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        years=frozenset(d.year for d in seen),
    )
