"""The one spreadsheet writer, used by every export (reading uploads is in uploads.py).

It uses xlsxwriter directly, row by row in constant-memory mode: text stays text (no
formulas from `=...`, a quote prefix on text starting with = + - @), dates are real dates,
numbers real numbers, with a frozen header, an autofilter and column widths.
"""

import io
import logging
import tempfile
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath
from typing import IO

import xlsxwriter
from flask import send_file
from xlsxwriter.workbook import Workbook

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- writing ------------------------------------------------------------------------------

WORKBOOK_OPTIONS = {
    # Rows go to a temporary file as they are written: memory stays flat for any size.
    "constant_memory": True,
    # A member called "=HYPERLINK(...)" stays a name, never a live formula.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": "dd/mm/yyyy",
}

#: Text starting with one of these is what spreadsheet programs take for a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


class Kind(StrEnum):
    """How a column's values are written."""

    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    MONEY = "money"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, how its values are written, and its width."""

    header: str
    kind: Kind = Kind.TEXT
    width: float = 16


@dataclass(frozen=True)
class Formula:
    """A formula cell that carries its computed value (shown by viewers that do not compute)."""

    formula: str
    value: int | float | str


_FORMATS = weakref.WeakKeyDictionary()


def _formats(workbook: Workbook) -> dict:
    """The workbook's cell formats, made once per workbook."""
    if workbook not in _FORMATS:
        _FORMATS[workbook] = {
            "header": workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#E8F0EC"}),
            Kind.TEXT: workbook.add_format({"num_format": "@"}),
            "quoted": workbook.add_format({"num_format": "@", "quote_prefix": True}),
            Kind.DATE: workbook.add_format({"num_format": "dd/mm/yyyy"}),
            Kind.INTEGER: workbook.add_format({"num_format": "0"}),
            Kind.MONEY: workbook.add_format({"num_format": "#,##0"}),
        }
    return _FORMATS[workbook]


def new_workbook(target: str | PurePath | IO[bytes]) -> Workbook:
    """A workbook with the safe options, writing to a path or a binary file object."""
    return xlsxwriter.Workbook(
        str(target) if isinstance(target, PurePath) else target, WORKBOOK_OPTIONS
    )


def sheet_name(name: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("-" if char in "[]:*?/\\" else char for char in name).strip("'")
    return cleaned[:31] or "Sheet1"


def write_sheet(
    workbook: Workbook, name: str, columns: Sequence[Column], rows: Iterable[Sequence]
) -> int:
    """Add a sheet: header, then `rows` one by one (an iterator is never held in memory).

    Returns the number of rows written (the header not counted).
    """
    sheet = workbook.add_worksheet(sheet_name(name))
    formats = _formats(workbook)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width, formats[column.kind])
        sheet.write_string(0, index, column.header, formats["header"])
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, column in enumerate(columns):
            _write_cell(sheet, count, index, row[index], column.kind, formats)
    sheet.autofilter(0, 0, count, max(len(columns) - 1, 0))
    return count


def _write_cell(sheet, row: int, col: int, value, kind: Kind, formats: dict) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Formula):
        number_format = formats[kind] if kind != Kind.TEXT else None
        sheet.write_formula(row, col, value.formula, number_format, value.value)
    elif isinstance(value, datetime | date):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        sheet.write_datetime(row, col, value, formats[Kind.DATE])
    elif isinstance(value, bool):
        sheet.write_string(row, col, str(value), formats[Kind.TEXT])
    elif isinstance(value, int | float | Decimal):
        number_format = formats[kind] if kind in (Kind.INTEGER, Kind.MONEY) else None
        sheet.write_number(row, col, value, number_format)
    else:
        text = str(value)
        quoted = text.startswith(FORMULA_STARTS)
        sheet.write_string(row, col, text, formats["quoted" if quoted else Kind.TEXT])


@dataclass(frozen=True)
class Sheet:
    """A sheet to write with `write_workbook`."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]


def write_workbook(target: str | PurePath | IO[bytes], sheets: Sequence[Sheet]) -> list[int]:
    """Write `sheets` to a path or a binary file; returns the row count of each sheet."""
    workbook = new_workbook(target)
    try:
        return [write_sheet(workbook, s.name, s.columns, s.rows) for s in sheets]
    finally:
        workbook.close()


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as bytes (for small sheets; large ones go to a temporary file)."""
    buffer = io.BytesIO()
    write_workbook(buffer, sheets)
    return buffer.getvalue()


def xlsx_download(write: Callable[[IO[bytes]], object], name: str):
    """Send a workbook that `write` builds into a temporary file (kept off the heap,
    deleted when sent), as a download named `name`."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (send_file closes it)
    write(handle)
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)
