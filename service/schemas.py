"""Request bodies, validated by pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gis.crs import SUPPORTED_INPUT_CRS

Channel = Literal["mobile", "web", "patrol", "phone"]
STAFF_CHANNELS = frozenset({"patrol", "phone"})


class Reporter(BaseModel):
    """Optional contact details; seen by staff only, never in public answers."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9][0-9 \-]{4,19}$")


class IssueIn(BaseModel):
    """A report: where (in the given CRS), what, and optionally who."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: float = Field(description="Longitude in the given crs")
    lat: float = Field(description="Latitude in the given crs")
    crs: Literal["wgs84", "gcj02", "bd09"] = Field(
        default="wgs84", description=f"One of {', '.join(SUPPORTED_INPUT_CRS)}"
    )
    category: str = Field(min_length=1, max_length=40)
    description: str = Field(description="What is wrong, in the reporter's words")
    reporter: Reporter | None = None
    channel: Channel = "web"


class TransitionIn(BaseModel):
    """A move of a case to a new status, with what that move needs."""

    model_config = ConfigDict(extra="forbid")
    to: str
    note: str | None = Field(default=None, max_length=2000)
    squad: str | None = None
    department: str | None = None
    deadline: str | None = Field(default=None, description="The department's limit: 24h, 3d, 5wd")
    response: str | None = Field(default=None, max_length=2000)
    duplicate_of: int | None = None


class DispatchIn(BaseModel):
    """Which squad: the best one unless a dispatcher names another able one."""

    model_config = ConfigDict(extra="forbid")
    squad: str | None = None
    note: str | None = Field(default=None, max_length=2000)


class BatchIn(BaseModel):
    """Cases to share out (default: every filed case), and whether to only plan."""

    model_config = ConfigDict(extra="forbid")
    issue_ids: list[int] | None = Field(default=None, max_length=1000)
    dry_run: bool = False


class PositionIn(BaseModel):
    """A member's position from the phone."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    member_id: str = Field(min_length=1, max_length=20)
    lon: float
    lat: float
    crs: str = "wgs84"
    on_duty: bool = True
