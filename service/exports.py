"""Exports of cases: CSV, GeoJSON, GeoPackage and Excel, never with reporter contacts.

An export may hold up to :data:`EXPORT_LIMIT` cases, so none is built in memory:
the cases are counted first (and a too large export refused before any row is
read), then only the exported columns are read, :data:`BATCH` rows at a time.
CSV and GeoJSON are encoded batch by batch as the answer is sent.  GeoPackage and
Excel cannot be written front to back, so they are written batch by batch to a
temporary file, which is then sent; its name is removed as soon as it is open
(the open file is all that is left, gone when it is closed), and a failure while
writing it removes it at once.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd
import pyogrio
from sqlalchemy.orm import Session

from service.community import CommunitySnapshot
from service.errors import Invalid, NotFound
from service.scope import list_area
from service.spreadsheet import csv_chunks, write_xlsx
from service.views import iso
from store.catalogue import shared_catalogue
from store.issues import Actor, IssueFilter, count_matching, issue_query, stream_columns
from store.models import Issue

EXPORT_LIMIT = 200_000
BATCH = 1_000  # rows read from the database, encoded and sent at a time
FILE_PIECE = 1 << 16  # bytes read from a written file at a time
GPKG_ROWS = 10_000  # rows per append to a GeoPackage

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Export:
    """An export file: its content as pieces of bytes (read from the database, or from
    a written file, as they are taken), its media type and file name.

    ``content`` holds a database cursor or an open file until it is exhausted or
    closed.
    """

    content: Iterator[bytes]
    media_type: str
    filename: str


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

Record = tuple[Any, ...]  # one case's values, in the order of EXPORT_COLUMNS


def export_issues(
    session: Session,
    snapshot: CommunitySnapshot,
    filters: IssueFilter,
    fmt: str,
    actor: Actor,
) -> Export:
    """All cases of ``actor``'s area matching the filters, as CSV, GeoJSON, GeoPackage or
    Excel (for staff).

    Exports carry no reporter contact details.  CSV and GeoJSON read the database
    while ``content`` is taken, so ``session`` must stay open until then.

    Raises
    ------
    NotFound
        ``fmt`` is not one of :data:`MEDIA`.
    Invalid
        More than :data:`EXPORT_LIMIT` cases match (``export_too_large``): refused
        after counting them, before any is read.
    """
    if fmt not in MEDIA:
        raise NotFound("unknown_format", f"export format {fmt!r} is not one of: {', '.join(MEDIA)}")
    filters = replace(filters, limit=None, offset=0, area=list_area(actor))
    total = count_matching(session, issue_query(session, filters), cap=None).value
    if total > EXPORT_LIMIT:
        raise Invalid(
            "export_too_large",
            f"{total} cases match; narrow the filters to {EXPORT_LIMIT} or fewer",
        )
    batches = _record_batches(session, snapshot, filters)
    name = f"issues-{filters.now:%Y%m%d-%H%M%S}.{fmt}"
    if fmt == "csv":
        content = csv_chunks(EXPORT_COLUMNS, batches)
    elif fmt == "geojson":
        content = _geojson_chunks(batches)
    else:
        content = _written(batches, fmt)
    return Export(content, MEDIA[fmt], name)


def _record_batches(
    session: Session, snapshot: CommunitySnapshot, filters: IssueFilter
) -> Iterator[list[Record]]:
    """The matching cases' export records, a batch at a time (read when taken)."""
    names = {c.code: c.name_zh for c in shared_catalogue(session).values()}  # shared names
    grids = snapshot.grid_names
    columns = [
        *(getattr(Issue, f) for f in EXPORT_FIELDS),
        Issue.due_at,
        Issue.overdue_sql(filters.now),  # the rule of Issue.overdue_at, in SQL
    ]
    category, grid = EXPORT_FIELDS.index("category"), EXPORT_FIELDS.index("grid_code")
    fields = len(EXPORT_FIELDS)
    for rows in stream_columns(session, filters, columns, BATCH):
        yield [
            (*row[:fields], names.get(row[category]), grids.get(row[grid]), row[-2], bool(row[-1]))
            for row in rows
        ]


# -- GeoJSON --------------------------------------------------------------------------------

_TIME_AT = tuple(EXPORT_COLUMNS.index(c) for c in TIMES)
_LON, _LAT = EXPORT_COLUMNS.index("lon"), EXPORT_COLUMNS.index("lat")


def _geojson_chunks(batches: Iterable[list[Record]]) -> Iterator[bytes]:
    """A FeatureCollection of points in WGS 84, a piece per batch; written as
    ``GeoDataFrame.to_json(drop_id=True, ensure_ascii=False)`` writes it."""
    yield b'{"type": "FeatureCollection", "features": ['
    separator = ""
    for batch in batches:
        if not batch:
            continue
        features = ", ".join(json.dumps(_feature(r), ensure_ascii=False) for r in batch)
        yield (separator + features).encode("utf-8")
        separator = ", "
    yield b"]}"


def _feature(record: Record) -> dict[str, Any]:
    values = list(record)
    for i in _TIME_AT:  # JSON has no time type: ISO 8601 in UTC
        values[i] = iso(values[i])
    return {
        "type": "Feature",
        "properties": dict(zip(EXPORT_COLUMNS, values, strict=True)),
        "geometry": {"type": "Point", "coordinates": [record[_LON], record[_LAT]]},
    }


# -- files: GeoPackage and Excel ------------------------------------------------------------


def _written(batches: Iterable[list[Record]], fmt: str) -> Iterator[bytes]:
    """The records written as a GeoPackage or Excel file in a temporary folder, then read
    back a piece at a time.

    The file is written before this returns; its folder is removed then, whether the
    writing failed or not (the open file outlives its name until it is closed).
    """
    with tempfile.TemporaryDirectory(prefix="gridgov-export-") as folder:
        path = Path(folder) / f"issues.{fmt}"
        if fmt == "gpkg":
            _write_gpkg(path, batches)
        else:
            write_xlsx(path, "issues", EXPORT_COLUMNS, chain.from_iterable(batches))
        handle = path.open("rb")
    return _pieces(handle)


def _pieces(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes, :data:`FILE_PIECE` at a time; the file is closed at the end, or
    when the iterator is closed."""
    with handle:
        while piece := handle.read(FILE_PIECE):
            yield piece


def _write_gpkg(path: Path, batches: Iterable[list[Record]]) -> None:
    """One layer ``issues`` of points in EPSG:4326, appended to :data:`GPKG_ROWS` rows at
    a time (each append opens the file and commits: a fixed cost); with no case, an
    empty layer with every column."""
    first = True
    for group in _regrouped(batches, GPKG_ROWS):
        pyogrio.write_dataframe(
            _frame(group), path, layer="issues", driver="GPKG", append=not first
        )
        first = False
    if first:
        pyogrio.write_dataframe(_frame([]), path, layer="issues", driver="GPKG")


def _regrouped(batches: Iterable[list[Record]], size: int) -> Iterator[list[Record]]:
    """The records of ``batches`` in groups of at least ``size`` (the last one smaller)."""
    pending: list[Record] = []
    for batch in batches:
        pending.extend(batch)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending


def _frame(batch: Sequence[Record]) -> gpd.GeoDataFrame:
    """A batch as a table of points whose column types do not depend on its values (a
    time column of a batch without any time is still a time column), so that every
    batch appends to the layer the first one made."""
    frame = pd.DataFrame.from_records(list(batch), columns=list(EXPORT_COLUMNS))
    for column in TIMES:
        frame[column] = pd.to_datetime(frame[column])
    frame["overdue"] = frame["overdue"].astype(bool)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
