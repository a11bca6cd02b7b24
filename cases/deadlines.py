"""Time limits: parsing them, adding working days, and telling what is overdue.

Limits are written ``24h`` (hours), ``3d`` (calendar days) or ``7wd`` (working
days).  Working days follow China's calendar: Monday to Friday in the
community's local time, minus the statutory public holidays and plus the
weekend make-up working days (调休) of the State Council's arrangement for each
year, taken from the ``chinesecalendar`` library and an optional operator file
(see :mod:`cases.workdays`).  A year neither knows falls back to Monday to
Friday, with a warning.  All datetimes are naive UTC; working days are counted
in the community's local time zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from cases.workdays import library_arrangement, load_workdays

LIMIT = re.compile(r"^\s*(\d+)\s*(h|d|wd)\s*$")
LOCAL = ZoneInfo("Asia/Shanghai")

logger = logging.getLogger(__name__)


class BadLimit(ValueError):
    """A time limit is not written as ``<n>h``, ``<n>d`` or ``<n>wd``."""


@dataclass(frozen=True)
class Calendar:
    """Which local dates are working days.

    Build China's calendar with :func:`china_calendar`; construct one directly
    with explicit sets in tests or for another arrangement.

    Attributes
    ----------
    holidays
        Local dates that are days off although they may be weekdays.
    workdays
        Local dates that are working days although they fall on a weekend
        (make-up working days); they win over ``holidays``.
    tz
        The community's time zone, in which days begin and end.
    known_years
        The years whose arrangement the sets describe; ``None`` (the default)
        means every year, so a hand-made calendar never warns.  For a year
        outside it :func:`add_limit` counts Monday to Friday and logs a warning.
    """

    holidays: Collection[date] = field(default_factory=frozenset)
    workdays: Collection[date] = field(default_factory=frozenset)  # weekend make-up days
    tz: ZoneInfo = LOCAL
    known_years: Collection[int] | None = None

    def is_working_day(self, day: date) -> bool:
        """Whether the local date ``day`` is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def knows(self, year: int) -> bool:
        """Whether the holidays and make-up days of ``year`` are known."""
        return self.known_years is None or year in self.known_years


def china_calendar(extra: Path | None = None, tz: ZoneInfo = LOCAL) -> Calendar:
    """China's working-day calendar: the library's arrangement plus an operator file.

    Parameters
    ----------
    extra
        An operator file (``date,kind,name`` CSV, see
        :func:`cases.workdays.load_workdays`) adding a year the library does not
        know yet or correcting a day; its days win over the library's.  ``None``
        uses the library alone.
    tz
        The community's time zone.

    Returns
    -------
    Calendar
        Cached per file and time zone: the file is read once per process, so
        restart after editing it.

    Raises
    ------
    cases.workdays.BadWorkdaysFile
        When ``extra`` is missing, unreadable or has a bad row.
    """
    return _china_calendar(extra.resolve() if extra is not None else None, tz)


@lru_cache(maxsize=16)
def _china_calendar(extra: Path | None, tz: ZoneInfo) -> Calendar:
    arrangement = library_arrangement()
    if extra is not None:
        arrangement = arrangement.overridden_by(load_workdays(extra))
    return Calendar(
        holidays=arrangement.holidays,
        workdays=arrangement.workdays,
        tz=tz,
        known_years=arrangement.years,
    )


_configured: Calendar | None = None


def configure_workdays_file(path: Path | None) -> Calendar:
    """Make China's calendar with the operator file ``path`` the default of :func:`add_limit`.

    Call it once at start-up with the configured file (``GRIDGOV_WORKDAYS_FILE``)
    so that a bad file stops the service there rather than when a case is
    filed; ``None`` goes back to the library alone.

    Parameters
    ----------
    path
        The operator file, or ``None``.

    Returns
    -------
    Calendar
        The calendar now used by default.

    Raises
    ------
    cases.workdays.BadWorkdaysFile
        When the file is missing, unreadable or has a bad row; the default is
        then left as it was.
    """
    global _configured
    _configured = china_calendar(path)
    return _configured


def default_calendar() -> Calendar:
    """The calendar :func:`add_limit` uses when given none.

    China's calendar with the file given to :func:`configure_workdays_file`, or
    with the library alone if none was configured.
    """
    return _configured if _configured is not None else china_calendar()


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the store keeps."""
    return datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)


def parse_limit(text: str) -> tuple[int, str]:
    """``"7wd"`` → ``(7, "wd")``."""
    match = LIMIT.match(text)
    if not match or int(match.group(1)) == 0:
        raise BadLimit(
            f"time limit {text!r} must be a positive number followed by h, d or wd "
            "(hours, days, working days)"
        )
    return int(match.group(1)), match.group(2)


def add_limit(start: datetime, limit: str, calendar: Calendar | None = None) -> datetime:
    """The deadline ``limit`` after ``start`` (naive UTC in, naive UTC out).

    Working days end at the same local clock time on the n-th following
    working day; a start on a non-working day counts from the start (00:00
    local) of the next working day.

    Parameters
    ----------
    start
        When the clock starts, naive UTC.
    limit
        ``<n>h``, ``<n>d`` or ``<n>wd``.
    calendar
        Which days are working days; :func:`default_calendar` (China's) if
        ``None``.

    Returns
    -------
    datetime
        The deadline, naive UTC.

    Raises
    ------
    BadLimit
        When ``limit`` is not written as above.

    Notes
    -----
    When counting working days reaches a year the calendar does not know (a
    year the State Council's arrangement for has not been installed), that
    year's days count Monday to Friday and a warning naming the year is
    logged, so that the operator adds it to the working-day file.
    """
    amount, unit = parse_limit(limit)
    if unit == "h":
        return start + timedelta(hours=amount)
    if unit == "d":
        return start + timedelta(days=amount)
    cal = calendar if calendar is not None else default_calendar()
    local = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(cal.tz)
    first = day = local.date()
    if not cal.is_working_day(day):
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        local = datetime.combine(day, datetime.min.time(), tzinfo=cal.tz)
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
    for year in range(first.year, day.year + 1):
        if not cal.knows(year):
            logger.warning(
                "no holiday arrangement known for %d (neither the chinesecalendar library "
                "nor the working-day file has it): counting Monday to Friday in %d for the "
                "%s limit from %s; add the State Council's %d arrangement to the file",
                year,
                year,
                limit,
                start.isoformat(),
                year,
            )
    end = datetime.combine(day, local.timetz())
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def limit_hours(limit: str) -> float:
    """A limit's nominal length in hours (working days as 24 h), for display and sorting."""
    amount, unit = parse_limit(limit)
    return float(amount) if unit == "h" else amount * 24.0
