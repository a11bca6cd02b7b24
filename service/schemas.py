"""Request bodies, validated by pydantic."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gis.crs import SUPPORTED_INPUT_CRS
from service.errors import Malformed

# Ids are stored as 32-bit integers on PostgreSQL: anything larger names no row, and is
# refused as input (422) before it can reach the database and overflow there.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

# Control characters (other than tab and newline) and lone surrogates are refused in
# every text field: they hide text, break exports, and cannot be stored everywhere.
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _plain_text(value: str) -> str:
    bad = _NOT_TEXT.search(value)
    if bad:
        raise ValueError(
            f"holds the character U+{ord(bad.group()):04X} at position {bad.start()}; "
            "only printable text, tabs and new lines are accepted"
        )
    return value


Text = Annotated[str, AfterValidator(_plain_text)]

Channel = Literal["mobile", "web", "patrol", "phone"]
STAFF_CHANNELS = frozenset({"patrol", "phone"})


class Reporter(BaseModel):
    """Optional contact details; seen by staff only, never in public answers."""

    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(default=None, max_length=40)
    phone: Text | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9][0-9 \-]{4,19}$")


class IssueIn(BaseModel):
    """A report: where (in the given CRS), what, and optionally who."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: float = Field(description="Longitude in the given crs")
    lat: float = Field(description="Latitude in the given crs")
    crs: Literal["wgs84", "gcj02", "bd09"] = Field(
        default="wgs84", description=f"One of {', '.join(SUPPORTED_INPUT_CRS)}"
    )
    category: Text = Field(min_length=1, max_length=40)
    description: Text = Field(description="What is wrong, in the reporter's words")
    reporter: Reporter | None = None
    channel: Channel = "web"


class TransitionIn(BaseModel):
    """A move of a case to a new status, with what that move needs."""

    model_config = ConfigDict(extra="forbid")
    to: Text
    note: Text | None = Field(default=None, max_length=2000)
    squad: Text | None = None
    department: Text | None = None
    deadline: Text | None = Field(default=None, description="The department's limit: 24h, 3d, 5wd")
    response: Text | None = Field(default=None, max_length=2000)
    duplicate_of: RowId | None = None
    override: bool = Field(
        default=False,
        description="Dispatch to a squad already at capacity on purpose (dispatchers and "
        "above; needs a note, which the history keeps)",
    )


class DispatchIn(BaseModel):
    """Which squad: the best one unless a dispatcher names another able one."""

    model_config = ConfigDict(extra="forbid")
    squad: Text | None = None
    note: Text | None = Field(default=None, max_length=2000)
    override: bool = Field(
        default=False,
        description="Send to the named squad even though it is at capacity (dispatchers and "
        "above; needs a note, which the history keeps)",
    )


class BatchIn(BaseModel):
    """Cases to share out (default: every filed case), and whether to only plan."""

    model_config = ConfigDict(extra="forbid")
    issue_ids: list[RowId] | None = Field(default=None, max_length=1000)
    dry_run: bool = False


class PositionIn(BaseModel):
    """A member's position from the phone."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    member_id: Text = Field(min_length=1, max_length=20)
    lon: float
    lat: float
    crs: Text = "wgs84"
    on_duty: bool = True


class StaffAccountIn(BaseModel):
    """A staff account to create: who it is for, the role, and where the role holds."""

    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=80)
    role: Literal["grid_worker", "dispatcher", "manager", "planner", "admin"]
    area: Text = Field(
        default="",
        max_length=12,
        description="a community (12 digits), street (9) or district (6) code; "
        "empty for the whole deployment",
    )
    member_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="a squad member's id: the account is that member's phone",
    )


# the years an instant given in a query may fall in: any window measured from it stays
# within what dates can hold (0001-01-01 an hour east of UTC would be year 0)
YEARS = (1900, 2999)


def parse_instant(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 (W3C) date or time from a query as naive UTC; one without an offset is
    taken as UTC.  ``None`` for none given.

    Raises
    ------
    Malformed
        ``bad_datetime``, naming ``name`` and the value: not a date or time, or a year
        outside :data:`YEARS`.
    """
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Malformed(
            "bad_datetime",
            f"{name} {text[:40]!r} is not an ISO 8601 date or time, e.g. 2026-11-26T08:00:00Z",
        ) from exc
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Malformed(
            "bad_datetime", f"{name} {text[:40]!r} is not between {YEARS[0]} and {YEARS[1]}"
        )
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
