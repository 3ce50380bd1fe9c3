"""Reading uploaded spreadsheets safely (XLSX and CSV) for every import.

An untrusted file is checked before any parser sees it (size, extension, magic bytes, zip
entry count, uncompressed size and compression ratio, no DTD), and openpyxl then parses
through defusedxml. Cells come back as text, dates and numbers, never converted behind the
caller's back, with the row number the user sees in their spreadsheet.
"""

import csv
import io
import logging
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import PurePath

from flask_babel import gettext as _

from coop_app.errors import DomainError

log = logging.getLogger(__name__)


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
#: Rows read in all (blank ones too) per allowed data row, so that a file of blank
#: lines is refused quickly instead of being read to its end.
BLANK_ROWS_ALLOWED = 10


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
        # Blank rows are skipped but still read: past this many rows in all, stop reading.
        too_many_read = number > max_rows * BLANK_ROWS_ALLOWED
        if too_many_read or (len(data) == max_rows and not _blank(values[:width])):
            raise SpreadsheetError(
                _("The file has more than %(n)d rows. Split it into smaller files.", n=max_rows)
            )
        if _blank(values[:width]):
            continue
        data.append((number, values[:width] + [None] * (width - len(values))))
    if not data:
        raise SpreadsheetError(_("The file has no data rows under the column names."))
    return Table(header=header, rows=data)
