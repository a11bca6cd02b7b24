"""The baseline for ``bench.exports``: case exports the way gridgov made them before
they were streamed (commit 89ba987, ``service/exports.py`` and
``service/spreadsheet.py``), kept here unchanged in what they do.

Every matching case is loaded as a full ORM row (geometry included, up to the
200,000 cap) before the count is checked, put in a GeoDataFrame, and the whole
file is encoded in memory and answered in one piece.  ``tests/test_exports.py``
checks that the streamed exports hold the same content as this.

Served as gridgov with one more route, ``GET /bench/old-exports/issues.{fmt}``
(the same filters, staff token and answer headers as ``/api/v1/exports``), the
way ``gridgov serve`` serves (``uvicorn.run``, one process); the settings come
from the environment as for ``gridgov serve``.  ``--export-limit N`` lifts the
streamed export's cap, for measuring an export larger than gridgov gives::

    python -m bench._exports_old --host 127.0.0.1 --port 8001 [--export-limit N]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.app import create_app as gridgov_app
from api.auth import StaffDep
from api.deps import SessionDep, SnapshotDep
from api.routes_issues import FilterDep
from service import exports
from service.community import CommunitySnapshot
from service.errors import Invalid, NotFound
from service.exports import EXPORT_COLUMNS, EXPORT_FIELDS, EXPORT_LIMIT, MEDIA, TIMES
from service.scope import list_area
from service.spreadsheet import text_cell, write_xlsx
from service.views import iso
from store.catalogue import shared_catalogue
from store.issues import Actor, IssueFilter, list_issues

OLD_ROUTE = "/bench/old-exports/issues.{fmt}"


def old_export(
    session: Session,
    snapshot: CommunitySnapshot,
    filters: IssueFilter,
    fmt: str,
    actor: Actor,
) -> tuple[bytes, str, str]:
    """The export file's bytes, media type and file name, made the old way."""
    if fmt not in MEDIA:
        raise NotFound("unknown_format", f"export format {fmt!r} is not one of: {', '.join(MEDIA)}")
    filters = replace(filters, limit=EXPORT_LIMIT, offset=0, area=list_area(actor))
    rows, total = list_issues(session, filters)
    if total > EXPORT_LIMIT:
        raise Invalid(
            "export_too_large",
            f"{total} cases match; narrow the filters to {EXPORT_LIMIT} or fewer",
        )
    frame = _export_frame(rows, session, snapshot, filters.now)
    name = f"issues-{filters.now:%Y%m%d-%H%M%S}.{fmt}"
    return _encode(frame, fmt), MEDIA[fmt], name


def _export_frame(
    rows: list[Any], session: Session, snapshot: CommunitySnapshot, now: datetime
) -> gpd.GeoDataFrame:
    names = {c.code: c.name_zh for c in shared_catalogue(session).values()}
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
    if fmt == "geojson":
        texts = frame.assign(
            **{c: [iso(t) if pd.notna(t) else None for t in frame[c]] for c in TIMES}
        )
        return texts.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
    if fmt == "csv":
        return _csv_bytes(pd.DataFrame(frame.drop(columns="geometry")))
    if fmt == "xlsx":
        return _xlsx_bytes(pd.DataFrame(frame.drop(columns="geometry")), "issues")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "issues.gpkg"
        frame.to_file(path, layer="issues", driver="GPKG")
        return path.read_bytes()


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            safe[name] = column.map(_csv_value).astype(object)
    return safe.to_csv(index=False).encode("utf-8-sig")


def _csv_value(value: Any) -> Any:
    return text_cell(value) if isinstance(value, str) else value


def _xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    buffer = io.BytesIO()  # the same cells as before; the workbook is written in memory
    write_xlsx(buffer, sheet, list(frame.columns), frame.itertuples(index=False, name=None))
    return buffer.getvalue()


def create_app() -> FastAPI:
    """gridgov (settings from the environment) with the old export route added."""
    app = gridgov_app()

    @app.get(OLD_ROUTE)
    def old_export_route(
        fmt: str,
        session: SessionDep,
        snapshot: SnapshotDep,
        filters: FilterDep,
        actor: StaffDep,
    ) -> Response:
        content, media_type, filename = old_export(session, snapshot, filters, fmt, actor)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(content, media_type=media_type, headers=headers)

    return app


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench._exports_old", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--export-limit",
        type=int,
        metavar="N",
        help="lift the streamed export's cap (/api/v1/exports) to N cases, for measuring "
        "exports larger than gridgov gives; the old route keeps its cap",
    )
    args = parser.parse_args(argv)
    if args.export_limit is not None:
        exports.EXPORT_LIMIT = args.export_limit
    uvicorn.run(create_app(), host=args.host, port=args.port, proxy_headers=False)


if __name__ == "__main__":
    main()
