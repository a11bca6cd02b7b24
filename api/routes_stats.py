"""Indicators and exports."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import require
from api.deps import SessionDep, get_now, snapshot_of
from api.errors import ApiError
from api.routes_issues import FilterDep
from cases.indicators import indicators, month_of
from cases.lifecycle import OPEN
from service.views import iso
from store.issues import cases_frame, categories_by_code, list_issues

router = APIRouter(prefix="/api/v1", tags=["indicators"])
GROUP_COLUMN = {"grid": "grid_code", "squad": "squad_id", "category": "category", "month": "month"}
EXPORT_LIMIT = 200_000


@router.get("/stats")
def stats(
    request: Request,
    session: SessionDep,
    group_by: Literal["grid", "squad", "category", "month"] = "grid",
    start: Annotated[str | None, Query(alias="from", description="Reported from (date)")] = None,
    end: Annotated[str | None, Query(alias="to", description="Reported before (date)")] = None,
) -> dict[str, Any]:
    """Indicators per grid, squad, category or month for cases reported in [from, to)."""
    now = get_now(request)
    until = _date(end, "to") if end else now + timedelta(seconds=1)
    since = _date(start, "from") if start else until - timedelta(days=90)
    if since >= until:
        raise ApiError(
            400, "bad_period", f"from ({since:%Y-%m-%d}) must come before to ({until:%Y-%m-%d})"
        )
    frame = cases_frame(session, since, until)
    frame["month"] = month_of(frame["reported_at"]) if len(frame) else []
    key = GROUP_COLUMN[group_by]
    table = indicators(frame, key, since, until, now)
    areas = snapshot_of(request, session)
    names = {
        "grid": areas.grid_names,
        "squad": areas.squad_names,
        "category": {c.code: c.name_zh for c in categories_by_code(session).values()},
    }.get(group_by)
    rows = []
    for record in table.to_dict("records"):
        code = record.pop(key)
        row = {"key": code, "name": names.get(code) if names else code}
        row.update(
            {
                k: (
                    None if pd.isna(v) else (round(float(v), 4) if isinstance(v, float) else int(v))
                )
                for k, v in record.items()
            }
        )
        rows.append(row)
    return {
        "group_by": group_by,
        "from": iso(since),
        "to": iso(until),
        "now": iso(now),
        "rows": rows,
    }


def _date(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(
            400, "bad_datetime", f"{name} {text!r} is not a date like 2026-11-01"
        ) from exc


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/exports/issues.{fmt}", dependencies=[Depends(require())])
def export_issues(fmt: str, request: Request, session: SessionDep, filters: FilterDep) -> Response:
    """All cases matching the filters as CSV, GeoJSON, GeoPackage or Excel (staff).

    Exports carry no reporter contact details.
    """
    if fmt not in MEDIA:
        raise ApiError(
            404, "unknown_format", f"export format {fmt!r} is not one of: {', '.join(MEDIA)}"
        )
    filters.limit, filters.offset = EXPORT_LIMIT, 0
    rows, total = list_issues(session, filters)
    if total > EXPORT_LIMIT:
        raise ApiError(
            422,
            "export_too_large",
            f"{total} cases match; narrow the filters to {EXPORT_LIMIT} or fewer",
        )
    frame = _export_frame(rows, request, session, filters.now)
    name = f"issues-{filters.now:%Y%m%d-%H%M%S}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(_encode(frame, fmt), media_type=MEDIA[fmt], headers=headers)


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
TIMES = (
    "reported_at",
    "filed_at",
    "dispatched_at",
    "resolved_at",
    "closed_at",
    "handle_deadline",
    "deadline",
)


def _export_frame(
    rows: list[Any], request: Request, session: SessionDep, now: datetime
) -> gpd.GeoDataFrame:
    areas = snapshot_of(request, session)
    names = {c.code: c.name_zh for c in categories_by_code(session).values()}
    records = [
        {f: getattr(i, f) for f in EXPORT_FIELDS}
        | {
            "category_name": names.get(i.category),
            "grid_name": areas.grid_names.get(i.grid_code),
            "deadline": i.due_at,
            "overdue": i.status in OPEN and i.due_at < now,
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
        return pd.DataFrame(frame.drop(columns="geometry")).to_csv(index=False).encode("utf-8-sig")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        pd.DataFrame(frame.drop(columns="geometry")).to_excel(
            buffer, index=False, sheet_name="issues"
        )
        return buffer.getvalue()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "issues.gpkg"
        frame.to_file(path, layer="issues", driver="GPKG")
        return path.read_bytes()
