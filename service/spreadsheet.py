"""Tables that staff open in a spreadsheet: every text cell stays text.

A cell a resident wrote may start like a formula (``=HYPERLINK(…)``); opened in
Excel or WPS it would run. In CSV such a cell is prefixed with an apostrophe
(the form spreadsheets read as "this is text"); in XLSX every text cell is
written with the explicit string type, so nothing is ever a formula. Characters
a format cannot hold (control characters in XLSX, lone surrogates anywhere) are
replaced with U+FFFD instead of failing the whole export.
"""

from __future__ import annotations

import io
import re
from typing import Any

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


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with a byte-order mark (so that Excel reads the Chinese)."""
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            safe[name] = column.map(_csv_value).astype(object)
    return safe.to_csv(index=False).encode("utf-8-sig")


def _csv_value(value: Any) -> Any:
    return text_cell(value) if isinstance(value, str) else value


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The frame as one XLSX sheet; text cells are typed as strings, never formulas."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append([_xlsx_cell(ws, str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        ws.append([_xlsx_cell(ws, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
