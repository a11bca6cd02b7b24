"""Tables that staff open in a spreadsheet: every text cell stays text.

A cell a resident wrote may start like a formula (``=HYPERLINK(…)``); opened in
Excel or WPS it would run. In CSV such a cell is prefixed with an apostrophe
(the form spreadsheets read as "this is text"); in XLSX every text cell is
written with the explicit string type, so nothing is ever a formula. Characters
a format cannot hold (control characters in XLSX, lone surrogates anywhere) are
replaced with U+FFFD instead of failing the whole export.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def text_cell(value: str) -> str:
    """``value`` as CSV text that no spreadsheet reads as a formula, encodable in UTF-8."""
    value = _SURROGATES.sub(REPLACEMENT, value).replace("\x00", REPLACEMENT)
    return "'" + value if value.startswith(FORMULA_START) else value


BOM = "\ufeff"  # so that Excel reads UTF-8 (and the Chinese text) right


def csv_chunks(
    columns: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]
) -> Iterator[bytes]:
    """Rows as UTF-8 CSV with a byte-order mark, one piece per batch of rows, the header
    (and the mark) first: a file of any length is written without being held whole.

    Cells are written as pandas' ``to_csv`` writes them (``,``, ``"`` quoting when
    needed, ``\n`` line ends, an empty cell for None, a time as ``YYYY-MM-DD
    HH:MM:SS[.ffffff]``); text cells go through :func:`text_cell`.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    yield (BOM + buffer.getvalue()).encode("utf-8")
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_value(v) for v in row] for row in batch)
        yield buffer.getvalue().encode("utf-8")


def _csv_value(value: Any) -> Any:
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, datetime):  # each time as itself: seconds, or microseconds if any
        return value.isoformat(sep=" ")
    return value


def write_xlsx(
    target: Path | BinaryIO, sheet: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Rows as one XLSX sheet written to ``target``; text cells are typed as strings,
    never formulas.

    openpyxl's write-only workbook keeps the rows in a temporary file of its own
    until the book is saved, so a sheet of any length is written in little memory.
    """
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    try:
        ws.append([_xlsx_cell(ws, str(c)) for c in columns])
        for row in rows:
            ws.append([_xlsx_cell(ws, v) for v in row])
        book.save(target)
    except BaseException:
        _discard_rows(ws)
        raise


def _discard_rows(ws: Any) -> None:
    """Remove the temporary file openpyxl was writing a write-only sheet's rows to: saving
    removes it, but after a failure it would stay until the process exits."""
    writer = ws._writer  # openpyxl's WorksheetWriter, None before the first row
    if writer is None:
        return
    with contextlib.suppress(Exception):  # closing what a failure left half-written
        if ws._rows is not None:  # the generator writing the rows, then the XML file
            ws._rows.close()
        writer.close()
    with contextlib.suppress(OSError, ValueError):  # already removed by a failing save
        writer.cleanup()


def _xlsx_cell(ws: Any, value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        text = _XLSX_ILLEGAL.sub(REPLACEMENT, _SURROGATES.sub(REPLACEMENT, value))
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"  # explicit: a leading '=' stays text
        return cell
    return value.item() if hasattr(value, "item") else value
