"""Exports of cases: CSV, GeoJSON, GeoPackage and Excel, never with reporter contacts."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from service.community import CommunitySnapshot
from service.errors import Invalid, NotFound
from service.scope import list_area
from service.spreadsheet import csv_bytes, xlsx_bytes
from service.views import iso
from store.catalogue import shared_catalogue
from store.issues import Actor, IssueFilter, list_issues

EXPORT_LIMIT = 200_000

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Export:
    """An export file: its bytes, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def export_issues(
    session: Session,
    snapshot: CommunitySnapshot,
    filters: IssueFilter,
    fmt: str,
    actor: Actor,
) -> Export:
    """All cases of ``actor``'s area matching the filters, as CSV, GeoJSON, GeoPackage or
    Excel (for staff).

    Exports carry no reporter contact details.
    """
    if fmt not in MEDIA:
        raise NotFound("unknown_format", f"export format {fmt!r} is not one of: {', '.join(MEDIA)}")
    filters = replace(filters, limit=EXPORT_LIMIT, offset=0, after=None, area=list_area(actor))
    rows, total = list_issues(session, filters)
    if total > EXPORT_LIMIT:
        raise Invalid(
            "export_too_large",
            f"{total} cases match; narrow the filters to {EXPORT_LIMIT} or fewer",
        )
    frame = _export_frame(rows, session, snapshot, filters.now)
    name = f"issues-{filters.now:%Y%m%d-%H%M%S}.{fmt}"
    return Export(_encode(frame, fmt), MEDIA[fmt], name)


# Case attributes exported as they are, then the derived columns.
EXPORT_FIELDS = (
    "id",
    "category",
    "status",
    "description",
    "lon",
    "lat",
    "grid_code",
    "district_code",
    "channel",
    "squad_id",
    "department",
    "reported_at",
    "filed_at",
    "dispatched_at",
    "resolved_at",
    "closed_at",
    "handle_deadline",
    "rework_count",
)
EXPORT_COLUMNS = (*EXPORT_FIELDS, "category_name", "grid_name", "deadline", "overdue")
# the columns holding a time (naive UTC), written as ISO 8601 in GeoJSON
TIMES = tuple(c for c in EXPORT_COLUMNS if c.endswith(("_at", "deadline")))


def _export_frame(
    rows: list[Any], session: Session, snapshot: CommunitySnapshot, now: datetime
) -> gpd.GeoDataFrame:
    names = {c.code: c.name_zh for c in shared_catalogue(session).values()}  # shared names
    records = [
        {f: getattr(i, f) for f in EXPORT_FIELDS}
        | {
            "category_name": names.get(i.category),
            "grid_name": snapshot.grid_names.get(i.grid_code),
            "deadline": i.due_at,
            "overdue": i.overdue_at(now),
        }
        for i in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(EXPORT_COLUMNS))
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )


def _encode(frame: gpd.GeoDataFrame, fmt: str) -> bytes:
    if fmt == "geojson":  # JSON has no time type: ISO 8601 in UTC
        texts = frame.assign(
            **{c: [iso(t) if pd.notna(t) else None for t in frame[c]] for c in TIMES}
        )
        return texts.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
    if fmt == "csv":
        return csv_bytes(pd.DataFrame(frame.drop(columns="geometry")))
    if fmt == "xlsx":
        return xlsx_bytes(pd.DataFrame(frame.drop(columns="geometry")), "issues")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "issues.gpkg"
        frame.to_file(path, layer="issues", driver="GPKG")
        return path.read_bytes()
