"""The one spreadsheet helper: safe XLSX writing for every export, guarded reading of uploads.

Writing uses xlsxwriter directly, row by row in constant-memory mode: text stays text (no
formulas from `=...`, a quote prefix on text starting with = + - @), dates are real dates,
numbers real numbers, with a frozen header, an autofilter and column widths.

Reading checks an untrusted file before any parser sees it (size, extension, magic bytes,
zip entry count, uncompressed size and compression ratio, no DTD) and lets openpyxl parse
through defusedxml. Cells come back as text, dates and numbers, never converted behind the
caller's back, with the row number the user sees in their spreadsheet.
"""

import csv
import io
import logging
import warnings
import weakref
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath
from typing import IO

import xlsxwriter
from flask_babel import gettext as _
from xlsxwriter.workbook import Workbook

from coop_app.errors import DomainError

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


# --- reading ------------------------------------------------------------------------------

XLSX, CSV = "xlsx", "csv"
ZIP_MAGIC = b"PK\x03\x04"
#: A workbook from Excel or LibreOffice has 10 to 30 parts; 200 leaves room for images.
MAX_ZIP_ENTRIES = 200
#: 2,000 members unpack to about 1 MB of XML (measured); twenty times that leaves room for
#: styles, images and other sheets, and still parses in seconds.
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
#: A member sheet compresses about 12 times (measured); zip bombs a thousand times and more.
MAX_COMPRESSION_RATIO = 100
#: Parts smaller than this are not held to the ratio (tiny repetitive XML compresses well).
RATIO_CHECKED_FROM = 1024 * 1024
#: The XML declaration and a DTD come first; a DTD is where entity bombs live.
PROLOG_BYTES = 64 * 1024
CSV_DELIMITERS = (",", ";", "\t")


class SpreadsheetError(DomainError):
    """An uploaded file refused before or while reading it (the message says why)."""


def _not_xlsx() -> str:
    return _("This file is not a real .xlsx spreadsheet (it may be another file renamed).")


def _damaged() -> str:
    return _("The .xlsx file is damaged and cannot be read.")


def _zip_bomb() -> str:
    return _("The .xlsx file unpacks to far more data than a spreadsheet holds (a zip bomb).")


def _xml_bomb() -> str:
    return _("The .xlsx file contains XML declarations that spreadsheets never use (an XML bomb).")


@dataclass
class Table:
    """The first sheet of a file: its header row and its non-blank data rows.

    Each row is (row number as the spreadsheet shows it, values); a value is a str,
    a date, an int or a float (xlsx only), or None for an empty cell.
    """

    header: list[str]
    rows: list[tuple[int, list]]


def read_table(
    data: bytes, filename: str, *, max_bytes: int, max_rows: int, max_columns: int
) -> Table:
    """Check an uploaded XLSX or CSV file, then read its first sheet.

    Raises SpreadsheetError with an Indonesian message when the file is too large, is not
    what its name says, is a zip or XML bomb, has more than `max_rows` data rows, or
    cannot be read.
    """
    kind = check_file(data, filename, max_bytes=max_bytes)
    rows = _xlsx_rows(data, max_columns) if kind == XLSX else _csv_rows(data, max_columns)
    with closing(rows):
        return _table(rows, max_rows)


def check_file(data: bytes, filename: str, *, max_bytes: int) -> str:
    """Size, extension and magic bytes (and for xlsx the zip's shape); returns the kind."""
    if len(data) > max_bytes:
        raise SpreadsheetError(
            _("The file is larger than the limit of %(size)s.", size=size_text(max_bytes))
        )
    if not data:
        raise SpreadsheetError(_("The file is empty."))
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".xlsx":
        if not data.startswith(ZIP_MAGIC):
            raise SpreadsheetError(_not_xlsx())
        _check_zip(data)
        return XLSX
    if extension == ".csv":
        _decode_csv(data)
        return CSV
    raise SpreadsheetError(_("Upload an .xlsx or .csv file."))


def size_text(size: int) -> str:
    """A size limit for people: `10 MB`, `500 KB`."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB"


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SpreadsheetError(_damaged()) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise SpreadsheetError(_("The .xlsx file has too many parts to be a spreadsheet."))
        names = {entry.filename for entry in entries}
        if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
            raise SpreadsheetError(_not_xlsx())
        # zipfile never inflates an entry beyond its declared size (it fails the CRC
        # instead), so the declared sizes are a real bound on what parsing will unpack.
        if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED_BYTES:
            raise SpreadsheetError(_zip_bomb())
        for entry in entries:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size >= RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
                raise SpreadsheetError(_zip_bomb())
            if entry.filename.endswith((".xml", ".rels")) and _has_dtd(archive, entry):
                raise SpreadsheetError(_xml_bomb())


def _has_dtd(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    """Whether a part declares a DTD (spreadsheets never do; entity bombs always do)."""
    try:
        with archive.open(entry) as part:
            prolog = part.read(PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        raise SpreadsheetError(_damaged()) from None
    markers = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
    return any(marker in prolog.upper() for marker in markers) or b"<!ENTITY" in prolog


def _decode_csv(data: bytes) -> str:
    if data.startswith(ZIP_MAGIC) or b"\x00" in data:
        raise SpreadsheetError(
            _("This file is not a CSV text file (it may be another file renamed).")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            _("The CSV file must be saved as UTF-8 text (in Excel: CSV UTF-8).")
        ) from None


def _xlsx_rows(data: bytes, max_columns: int) -> Iterator[tuple[int, list]]:
    """Every row of the first worksheet, parsed by openpyxl through defusedxml."""
    from openpyxl import DEFUSEDXML, load_workbook

    if not DEFUSEDXML:  # without it openpyxl would expand XML entities (XML bombs)
        raise RuntimeError("defusedxml must be installed to read uploaded workbooks")
    from defusedxml import DefusedXmlException

    workbook = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes about styles it ignores
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
        if not workbook.worksheets:
            raise SpreadsheetError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        # The declared dimensions may be wrong (or lie): read what is really there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=max_columns, values_only=True)
        for number, values in enumerate(rows, start=1):
            yield number, list(values)
    except SpreadsheetError:
        raise
    except Exception as error:  # hostile or broken input can make any parser step fail
        if _caused_by(error, DefusedXmlException):  # openpyxl wraps it in a ValueError
            raise SpreadsheetError(_xml_bomb()) from None
        log.info("unreadable workbook: %r", error)
        raise SpreadsheetError(_damaged()) from None
    finally:
        if workbook is not None:
            workbook.close()


def _caused_by(error: BaseException | None, kind: type) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _csv_rows(data: bytes, max_columns: int) -> Iterator[tuple[int, list]]:
    text = _decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, row[:max_columns]
    except csv.Error:
        raise SpreadsheetError(_("The CSV file is damaged and cannot be read.")) from None


def _blank(values: list) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _table(rows: Iterable[tuple[int, list]], max_rows: int) -> Table:
    rows = iter(rows)
    header_row = next(rows, None)
    if header_row is None or _blank(header_row[1]):
        raise SpreadsheetError(_("The first row must hold the column names."))
    header = ["" if value is None else str(value).strip() for value in header_row[1]]
    while not header[-1]:
        header.pop()
    width = len(header)  # cells right of the last column name have no meaning
    data = []
    for number, values in rows:
        if _blank(values[:width]):
            continue
        if len(data) == max_rows:
            raise SpreadsheetError(
                _("The file has more than %(n)d rows. Split it into smaller files.", n=max_rows)
            )
        data.append((number, values[:width] + [None] * (width - len(values))))
    if not data:
        raise SpreadsheetError(_("The file has no data rows under the column names."))
    return Table(header=header, rows=data)
