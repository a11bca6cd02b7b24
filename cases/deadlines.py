"""Time limits: parsing them, adding working days, and telling what is overdue.

Limits are written ``24h`` (hours), ``3d`` (calendar days) or ``7wd`` (working
days, Monday to Friday in local time, skipping configured holidays and counting
configured make-up working days).  All datetimes are naive UTC; working days
are counted in the community's local time zone.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LIMIT = re.compile(r"^\s*(\d+)\s*(h|d|wd)\s*$")
LOCAL = ZoneInfo("Asia/Shanghai")


class BadLimit(ValueError):
    """A time limit is not written as ``<n>h``, ``<n>d`` or ``<n>wd``."""


@dataclass(frozen=True)
class Calendar:
    """Which local dates are working days."""

    holidays: Collection[date] = field(default_factory=frozenset)
    workdays: Collection[date] = field(default_factory=frozenset)  # weekend make-up days
    tz: ZoneInfo = LOCAL

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


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
    working day; a start on a non-working day counts from the next one.
    """
    amount, unit = parse_limit(limit)
    if unit == "h":
        return start + timedelta(hours=amount)
    if unit == "d":
        return start + timedelta(days=amount)
    cal = calendar or Calendar()
    local = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(cal.tz)
    day = local.date()
    if not cal.is_working_day(day):
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        local = datetime.combine(day, datetime.min.time(), tzinfo=cal.tz)
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
    end = datetime.combine(day, local.timetz())
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def limit_hours(limit: str) -> float:
    """A limit's nominal length in hours (working days as 24 h), for display and sorting."""
    amount, unit = parse_limit(limit)
    return float(amount) if unit == "h" else amount * 24.0
