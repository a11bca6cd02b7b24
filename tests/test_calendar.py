"""China's working days: the State Council's arrangement, the operator file, unknown years.

Dates are literal, never today's: the suite also runs 40 days ahead and on
days inside holidays.  The 2026 arrangement is the State Council's notice
(国办发明电〔2025〕7号, published 4 November 2025):

* Spring Festival: off Sun 15 Feb to Mon 23 Feb (9 days); Sat 14 Feb and
  Sat 28 Feb are worked;
* Mid-Autumn: off Fri 25 Sep to Sun 27 Sep;
* National Day: off Thu 1 Oct to Wed 7 Oct (7 days); Sun 20 Sep and Sat 10 Oct
  are worked.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from cases.deadlines import (
    Calendar,
    add_limit,
    china_calendar,
    configure_workdays_file,
    default_calendar,
)
from cases.workdays import BadWorkdaysFile, library_arrangement, load_workdays
from tests.helpers import DATA

LOGGER = "cases.deadlines"

SPRING_2026_OFF = [date(2026, 2, d) for d in range(15, 24)]
SPRING_2026_WORKED = [date(2026, 2, 14), date(2026, 2, 28)]  # both Saturdays
MID_AUTUMN_2026_OFF = [date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)]
NATIONAL_2026_OFF = [date(2026, 10, d) for d in range(1, 8)]
NATIONAL_2026_WORKED = [date(2026, 9, 20), date(2026, 10, 10)]  # a Sunday and a Saturday

FICTIONAL = """\
# a made-up arrangement for a year no library knows
date,kind,name
2199-09-28,workday,国庆节调休上班
2199-10-01,holiday,国庆节
2199-10-02,holiday,国庆节
2199-10-03,holiday,国庆节
2199-10-04,holiday,国庆节
2199-10-07,holiday,国庆节
2199-10-12,workday,国庆节调休上班
"""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def write(tmp_path: Path, text: str, name: str = "workdays.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_library_holds_the_2026_arrangement() -> None:
    """The literal dates above are what the installed library ships."""
    for day in SPRING_2026_OFF + MID_AUTUMN_2026_OFF + NATIONAL_2026_OFF:
        assert day in chinese_calendar.holidays, day
    for day in SPRING_2026_WORKED + NATIONAL_2026_WORKED:
        assert day in chinese_calendar.workdays, day
    assert [d.strftime("%a") for d in SPRING_2026_WORKED] == ["Sat", "Sat"]
    assert [d.strftime("%a") for d in NATIONAL_2026_WORKED] == ["Sun", "Sat"]
    assert 2026 in library_arrangement().years


def test_2026_spring_festival_and_national_day() -> None:
    cal = china_calendar()
    assert cal.knows(2026)
    for day in SPRING_2026_OFF + MID_AUTUMN_2026_OFF + NATIONAL_2026_OFF:
        assert not cal.is_working_day(day), day
    for day in SPRING_2026_WORKED + NATIONAL_2026_WORKED:
        assert cal.is_working_day(day), day
    # the days around them are ordinary
    assert cal.is_working_day(date(2026, 2, 13))  # Friday before
    assert cal.is_working_day(date(2026, 2, 24))  # Tuesday after
    assert not cal.is_working_day(date(2026, 3, 1))  # Sunday after the make-up Saturday
    assert cal.is_working_day(date(2026, 9, 30))  # Wednesday before National Day
    assert cal.is_working_day(date(2026, 10, 8))  # Thursday after
    assert not cal.is_working_day(date(2026, 10, 11))  # Sunday after the make-up Saturday


def test_a_report_on_30_september_is_due_after_national_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    report = utc("2026-09-30T02:00:00")  # Wednesday 10:00 in Ningbo
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        # 1–7 October are off: Thursday 8 and Friday 9 October are the two working days
        assert add_limit(report, "2wd") == utc("2026-10-09T02:00:00")
        # and the third is the make-up Saturday, 10 October
        assert add_limit(report, "3wd") == utc("2026-10-10T02:00:00")
        assert add_limit(report, "4wd") == utc("2026-10-12T02:00:00")  # Sunday 11th is off
    assert not caplog.records  # 2026 is known: nothing to warn about


def test_make_up_saturdays_are_working_days() -> None:
    friday = utc("2026-02-13T02:00:00")  # Friday 13 February, 10:00 local
    assert add_limit(friday, "1wd") == utc("2026-02-14T02:00:00")  # the make-up Saturday
    assert add_limit(friday, "2wd") == utc("2026-02-24T02:00:00")  # after 15–23 February
    after = utc("2026-02-27T02:00:00")  # Friday 27 February
    assert add_limit(after, "1wd") == utc("2026-02-28T02:00:00")  # Saturday, worked
    assert add_limit(after, "2wd") == utc("2026-03-02T02:00:00")
    before_national_day = utc("2026-09-18T02:00:00")  # Friday 18 September
    assert add_limit(before_national_day, "1wd") == utc("2026-09-20T02:00:00")  # Sunday, worked


def test_a_start_on_a_holiday_counts_from_the_next_working_day() -> None:
    # Wednesday 18 February, 10:00 local, mid Spring Festival: counting starts at
    # 00:00 local on Tuesday 24th, so one working day on is Wednesday 25th 00:00 local
    assert add_limit(utc("2026-02-18T02:00:00"), "1wd") == utc("2026-02-24T16:00:00")
    # Saturday 3 October: from Thursday 8th, two working days end as the make-up Saturday begins
    assert add_limit(utc("2026-10-03T06:00:00"), "2wd") == utc("2026-10-09T16:00:00")


def test_days_are_local_days() -> None:
    # 23:30 on 30 September in Ningbo is still a working day ...
    assert add_limit(utc("2026-09-30T15:30:00"), "1wd") == utc("2026-10-08T15:30:00")
    # ... but 00:30 on 1 October is National Day, although it is 30 September in UTC
    assert add_limit(utc("2026-09-30T16:30:00"), "1wd") == utc("2026-10-08T16:00:00")
    # the time zone is the calendar's
    in_utc = china_calendar(tz=ZoneInfo("UTC"))
    assert add_limit(utc("2026-09-30T16:30:00"), "1wd", in_utc) == utc("2026-10-08T16:30:00")


def test_the_operator_file_adds_a_year(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, FICTIONAL)
    arrangement = load_workdays(path)
    assert arrangement.years == {2199}
    assert date(2199, 10, 1) in arrangement.holidays
    assert arrangement.workdays == {date(2199, 9, 28), date(2199, 10, 12)}
    cal = china_calendar(path)
    assert cal.knows(2199) and cal.knows(2026)
    assert china_calendar(path) is cal  # cached
    monday = utc("2199-09-30T02:00:00")  # Monday 30 September 2199, 10:00 local
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert add_limit(monday, "2wd", cal) == utc("2199-10-09T02:00:00")  # Tue 8, Wed 9
        # Friday 27 September: the next day, a Saturday, is a make-up working day
        assert add_limit(utc("2199-09-27T02:00:00"), "1wd", cal) == utc("2199-09-28T02:00:00")
        assert add_limit(utc("2199-10-11T02:00:00"), "1wd", cal) == utc("2199-10-12T02:00:00")
    assert not caplog.records
    # the library's own days are still there
    assert add_limit(utc("2026-09-30T02:00:00"), "2wd", cal) == utc("2026-10-09T02:00:00")


def test_the_operator_file_corrects_a_library_day(tmp_path: Path) -> None:
    path = write(tmp_path, "date,kind,name\n2026-10-08,holiday,\n2026-10-10,holiday,correction\n")
    cal = china_calendar(path)
    assert not cal.is_working_day(date(2026, 10, 8))
    assert not cal.is_working_day(date(2026, 10, 10))  # no longer a make-up Saturday
    assert add_limit(utc("2026-09-30T02:00:00"), "2wd", cal) == utc("2026-10-12T02:00:00")


def test_the_committed_operator_file_is_valid_and_adds_nothing() -> None:
    arrangement = load_workdays(DATA / "workdays.csv")
    assert not arrangement.holidays and not arrangement.workdays and not arrangement.years


@pytest.mark.parametrize(
    ("row", "value"),
    [
        ("2199-13-01,holiday,国庆节", "2199-13-01"),
        ("2199-02-30,holiday,", "2199-02-30"),
        ("01/10/2199,holiday,国庆节", "01/10/2199"),
        ("21991001,holiday,国庆节", "21991001"),
        ("2199-10-01,off,国庆节", "off"),
        ("2199-10-01,holiday", "2199-10-01,holiday"),
        ("2199-10-01,holiday,国庆节,extra", "2199-10-01,holiday,国庆节,extra"),
        ("2199-10-01,workday,twice", "2199-10-01"),
    ],
)
def test_a_bad_row_names_the_file_line_and_value(tmp_path: Path, row: str, value: str) -> None:
    path = write(tmp_path, f"date,kind,name\n2199-10-01,holiday,国庆节\n{row}\n")
    with pytest.raises(BadWorkdaysFile, match="line 3") as caught:
        load_workdays(path)
    assert caught.value.path == path and caught.value.line == 3
    assert caught.value.value == value
    assert str(path) in str(caught.value) and repr(value) in str(caught.value)
    with pytest.raises(BadWorkdaysFile):
        china_calendar(path)


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "day,type,label\n2199-10-01,holiday,x\n"]
)
def test_a_file_without_its_header_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(BadWorkdaysFile, match="header"):
        load_workdays(write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadWorkdaysFile, match="cannot read") as caught:
        load_workdays(tmp_path / "absent.csv")
    assert caught.value.line is None


def test_configuring_the_file_changes_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, FICTIONAL)
    monday = utc("2199-09-30T02:00:00")
    try:
        assert configure_workdays_file(path) is default_calendar()
        assert add_limit(monday, "2wd") == utc("2199-10-09T02:00:00")
        with pytest.raises(BadWorkdaysFile):
            configure_workdays_file(write(tmp_path, "date,kind,name\nsoon,holiday,\n", "bad.csv"))
        assert default_calendar().knows(2199)  # a bad file leaves the default alone
    finally:
        configure_workdays_file(None)
    assert not default_calendar().knows(2199)
    assert default_calendar() is china_calendar()


def test_an_unknown_year_warns_and_counts_weekdays(caplog: pytest.LogCaptureFixture) -> None:
    cal = china_calendar()
    assert not cal.knows(2199)
    monday = utc("2199-09-30T02:00:00")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert add_limit(monday, "2wd") == utc("2199-10-02T02:00:00")  # plain Tuesday, Wednesday
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2199" in warnings[0].getMessage()


def test_counting_into_an_unknown_year_warns_about_that_year(
    caplog: pytest.LogCaptureFixture,
) -> None:
    known = {2198}  # a calendar that knows 2198 but not the year after
    cal = Calendar(holidays={date(2198, 12, 31)}, known_years=known)
    friday = utc("2198-12-28T02:00:00")  # Friday 28 December 2198, 10:00 local
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        # Monday 31st is off; Tuesday 1 January 2199 counts as a plain weekday
        assert add_limit(friday, "1wd", cal) == utc("2199-01-01T02:00:00")
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 1
    assert messages[0].startswith("no holiday arrangement known for 2199 ")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        thursday = utc("2198-12-27T02:00:00")
        assert add_limit(thursday, "1wd", cal) == utc("2198-12-28T02:00:00")
    assert not caplog.records


def test_a_hand_made_calendar_knows_every_year(caplog: pytest.LogCaptureFixture) -> None:
    plain = Calendar()
    assert plain.knows(2199) and plain.tz == ZoneInfo("Asia/Shanghai")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert add_limit(utc("2199-09-30T02:00:00"), "2wd", plain) == utc("2199-10-02T02:00:00")
    assert not caplog.records
