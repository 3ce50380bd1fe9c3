"""The shared spreadsheet helper: safe writing read back with openpyxl, guarded reading.

The builders of ordinary and hostile files at the top are shared with the import tests.
"""

import csv
import io
import struct
import time
import zipfile
import zlib
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter

from coop_app import create_app, uploads
from coop_app.config import config_for_tests
from coop_app.spreadsheets import (
    Column,
    Formula,
    Kind,
    Sheet,
    sheet_name,
    workbook_bytes,
    write_workbook,
)
from coop_app.uploads import SpreadsheetError, read_table

# --- builders of files ----------------------------------------------------------------------

#: The template's columns, written out here rather than imported from the code under test.
HEADER = [
    "Nomor anggota", "NIK", "Nama", "Jenis kelamin", "Tanggal lahir", "Desa", "Kelompok",
    "Alamat", "No HP", "Tanggal masuk", "Ahli waris", "Status",
]  # fmt: skip


def member_row(**cells) -> dict:
    """A valid row of the template (village Kalibeber of the `villages` fixture)."""
    row = {
        "Nomor anggota": "",
        "NIK": "3307014501850001",
        "Nama": "Siti Aminah",
        "Jenis kelamin": "P",
        "Tanggal lahir": "05/01/1985",
        "Desa": "Kalibeber",
        "Kelompok": "Kelompok Kalibeber 1",
        "Alamat": "RT 02 RW 03",
        "No HP": "081234567890",
        "Tanggal masuk": "17/03/2024",
        "Ahli waris": "Ahmad Fauzi",
        "Status": "aktif",
    }
    row.update({name.replace("_", " "): value for name, value in cells.items()})
    return row


def xlsx_bytes(rows: list, header: list | None = None) -> bytes:
    """An xlsx made with xlsxwriter: str as text cells, dates as dates, numbers as numbers."""
    header = header or HEADER
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet("Anggota")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        values = [row.get(name) for name in header] if isinstance(row, dict) else row
        for c, value in enumerate(values):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def csv_bytes(rows: list, header: list | None = None, delimiter=",", bom=True) -> bytes:
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header] if isinstance(row, dict) else row)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of a zip with one part replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = content if item.filename == name else source.read(item.filename)
            target.writestr(item.filename, body)
    return out.getvalue()


def zip_bomb(size: int = 30 * 1024 * 1024) -> bytes:
    """An xlsx-shaped zip whose sheet unpacks from a few kilobytes to `size` bytes."""
    valid = xlsx_bytes([member_row()])
    return _replace_part(valid, "xl/worksheets/sheet1.xml", b" " * size)


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sst [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&h;</t></si></sst>"""


def xml_bomb_xlsx() -> bytes:
    """A real workbook whose sharedStrings.xml holds a billion-laughs entity."""
    return _replace_part(xlsx_bytes([member_row()]), "xl/sharedStrings.xml", BILLION_LAUGHS)


# --- writing --------------------------------------------------------------------------------

COLUMNS = [
    Column("Nama", Kind.TEXT, 30),
    Column("Lahir", Kind.DATE, 12),
    Column("Simpanan", Kind.MONEY, 14),
    Column("Jumlah", Kind.INTEGER, 8),
]


def _read_back(data: bytes, **options):
    return openpyxl.load_workbook(io.BytesIO(data), **options)


def test_text_that_looks_like_a_formula_is_written_as_quoted_text():
    rows = [['=HYPERLINK("http://x","klik")'], ["+62 812"], ["-5"], ["@SUM(A1)"], ["Ani"]]
    data = workbook_bytes([Sheet("Anggota", [Column("Nama")], rows)])
    cells = [row[0] for row in _read_back(data).active.iter_rows(min_row=2)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == [
        ('=HYPERLINK("http://x","klik")', "s", True),
        ("+62 812", "s", True),
        ("-5", "s", True),
        ("@SUM(A1)", "s", True),
        ("Ani", "s", False),
    ]
    raw = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in raw, "no formula element anywhere in the sheet"


def test_values_keep_their_types_and_formats():
    rows = [
        ["007", date(1985, 1, 5), 1250000, 3],
        ["0812", datetime(2024, 3, 17, 9, 30), 0, None],
    ]
    data = workbook_bytes([Sheet("Data", COLUMNS, rows)])
    sheet = _read_back(data).active
    first, second = list(sheet.iter_rows(min_row=2))
    assert (first[0].value, first[0].data_type) == ("007", "s")
    assert second[0].value == "0812"
    assert first[1].value == datetime(1985, 1, 5) and first[1].is_date
    assert first[1].number_format == "dd/mm/yyyy"
    assert second[1].value == datetime(2024, 3, 17, 9, 30)
    assert (first[2].value, first[2].data_type, first[2].number_format) == (1250000, "n", "#,##0")
    assert (first[3].value, first[3].number_format) == (3, "0")
    assert second[3].value is None


def test_header_is_frozen_filtered_and_columns_have_widths():
    data = workbook_bytes([Sheet("Data", COLUMNS, [["A", None, 1, 1], ["B", None, 2, 2]])])
    sheet = _read_back(data).active
    assert [cell.value for cell in sheet[1]] == ["Nama", "Lahir", "Simpanan", "Jumlah"]
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D3"
    assert sheet.column_dimensions["A"].width >= 30
    assert sheet.column_dimensions["B"].width < sheet.column_dimensions["A"].width


def test_an_empty_sheet_still_has_its_header_and_filter():
    sheet = _read_back(workbook_bytes([Sheet("Kosong", COLUMNS, [])])).active
    assert [cell.value for cell in sheet[1]] == ["Nama", "Lahir", "Simpanan", "Jumlah"]
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:D1"


def test_formulas_carry_their_computed_value():
    rows = [
        ["A", None, 1000, 1],
        ["B", None, 2500, 1],
        ["Total", None, Formula("=SUM(C2:C3)", 3500), None],
    ]
    data = workbook_bytes([Sheet("Data", COLUMNS, rows)])
    assert _read_back(data)["Data"]["C4"].value == "=SUM(C2:C3)"
    assert _read_back(data, data_only=True)["Data"]["C4"].value == 3500


def test_rows_are_streamed_from_a_generator_and_no_cell_is_lost(tmp_path):
    """The constant-memory trap of pandas: every streamed cell must arrive."""
    count = 20_000

    def rows():
        for n in range(count):
            yield [f"Anggota {n:05d}", date(2000, 1, 1 + n % 28), n * 1000, n]

    path = tmp_path / "besar.xlsx"
    (written,) = write_workbook(path, [Sheet("Besar", COLUMNS, rows())])
    assert written == count
    sheet = openpyxl.load_workbook(path, read_only=True).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == count
    assert values[0] == ("Anggota 00000", datetime(2000, 1, 1), 0, 0)
    assert values[-1] == ("Anggota 19999", datetime(2000, 1, 8), 19_999_000, 19_999)
    assert all(all(cell is not None for cell in row) for row in values)


def test_sheet_names_follow_excels_rules():
    assert sheet_name("Simpanan/Pinjaman [2026]") == "Simpanan-Pinjaman -2026-"
    assert len(sheet_name("x" * 40)) == 31


# --- reading --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_app():
    """An app for Indonesian messages; these tests need no database."""
    return create_app(config_for_tests("sqlite://") | {"SECRET_KEY": "x"})


def _read(app, data: bytes, name: str, max_bytes=10 * 1024 * 1024, max_rows=100):
    with app.test_request_context():
        return read_table(data, name, max_bytes=max_bytes, max_rows=max_rows, max_columns=30)


def _refusal(app, data: bytes, name: str, **limits) -> str:
    with pytest.raises(SpreadsheetError) as refused:
        _read(app, data, name, **limits)
    return refused.value.message


def test_xlsx_cells_come_back_typed_with_spreadsheet_row_numbers(plain_app):
    rows = [["007", date(1985, 1, 5), 81234567890], [], ["Ani", "05/01/1985", 2.5]]
    table = _read(plain_app, xlsx_bytes(rows, header=["Nomor", "Lahir", "HP"]), "a.xlsx")
    assert table.header == ["Nomor", "Lahir", "HP"]
    numbers = [number for number, _values in table.rows]
    assert numbers == [2, 4], "the blank row 3 is skipped but still counted"
    assert table.rows[0][1][:3] == ["007", datetime(1985, 1, 5), 81234567890]
    assert table.rows[1][1][:3] == ["Ani", "05/01/1985", 2.5]


def test_xlsx_dimensions_that_lie_do_not_hide_rows(plain_app):
    data = xlsx_bytes([[f"r{n}"] for n in range(5)], header=["Nama"])
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    lying = sheet_xml.replace(b'<dimension ref="A1:A6"/>', b'<dimension ref="A1:A2"/>')
    assert lying != sheet_xml
    table = _read(plain_app, _replace_part(data, "xl/worksheets/sheet1.xml", lying), "a.xlsx")
    assert [values[0] for _n, values in table.rows] == ["r0", "r1", "r2", "r3", "r4"]


def test_csv_with_bom_and_semicolons_is_read_as_text(plain_app):
    data = csv_bytes([["007", "05/01/1985"], ["", ""], ["Ani", "x"]], ["Nomor", "Lahir"], ";")
    table = _read(plain_app, data, "daftar.CSV")
    assert table.header == ["Nomor", "Lahir"]
    assert table.rows == [(2, ["007", "05/01/1985"]), (4, ["Ani", "x"])]


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (png_bytes, "anggota.xlsx", "bukan spreadsheet .xlsx asli"),
        (png_bytes, "anggota.csv", "bukan berkas teks CSV"),
        (lambda: b"NIK,Nama\n3307\x00,Ani\n", "anggota.csv", "bukan berkas teks CSV"),
        (lambda: "NIK,Nama\n1,Ánì\n".encode("cp1252"), "anggota.csv", "UTF-8"),
        (lambda: xlsx_bytes([["a"]]), "anggota.xls", "Unggah berkas .xlsx atau .csv"),
        (lambda: xlsx_bytes([["a"]]), "anggota", "Unggah berkas .xlsx atau .csv"),
        (lambda: b"", "anggota.csv", "Berkas kosong"),
        (lambda: b"PK\x03\x04" + b"\x00" * 100, "anggota.xlsx", "rusak"),
    ],
)
def test_files_that_are_not_what_their_name_says_are_refused(plain_app, make, name, message):
    assert message in _refusal(plain_app, make(), name)


def test_a_zip_that_is_not_a_workbook_is_refused(plain_app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert "bukan spreadsheet .xlsx asli" in _refusal(plain_app, out.getvalue(), "a.xlsx")


def test_a_zip_bomb_is_refused_by_its_total_size(plain_app, monkeypatch):

    monkeypatch.setattr(uploads, "MAX_COMPRESSION_RATIO", 10**6)  # this check alone
    bomb = zip_bomb(30 * 1024 * 1024)
    assert len(bomb) < 200_000
    assert "bom zip" in _refusal(plain_app, bomb, "anggota.xlsx")


def test_a_zip_bomb_is_refused_by_its_compression_ratio(plain_app, monkeypatch):

    monkeypatch.setattr(uploads, "MAX_UNCOMPRESSED_BYTES", 10**12)  # this check alone
    bomb = zip_bomb(8 * 1024 * 1024)  # 1000 times compressed
    assert "bom zip" in _refusal(plain_app, bomb, "anggota.xlsx")


def test_a_big_but_ordinary_workbook_passes_the_zip_checks(plain_app):
    rows = [member_row(NIK=f"3307{n:012d}") for n in range(2000)]
    assert len(_read(plain_app, xlsx_bytes(rows), "a.xlsx", max_rows=2000).rows) == 2000


def test_a_zip_with_too_many_parts_is_refused(plain_app):
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes([["a"]]))) as source,
        zipfile.ZipFile(out, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        for n in range(250):
            target.writestr(f"xl/media/image{n}.png", b"x")
    assert "terlalu banyak bagian" in _refusal(plain_app, out.getvalue(), "a.xlsx")


def test_an_xml_bomb_is_refused_quickly(plain_app):
    started = time.monotonic()
    message = _refusal(plain_app, xml_bomb_xlsx(), "anggota.xlsx")
    assert "bom XML" in message
    assert time.monotonic() - started < 5


def test_openpyxl_itself_parses_through_defusedxml(plain_app, monkeypatch):
    """Even if the DTD scan missed a bomb, the parser refuses entities."""

    monkeypatch.setattr(uploads, "_has_dtd", lambda _archive, _entry: False)
    assert "bom XML" in _refusal(plain_app, xml_bomb_xlsx(), "anggota.xlsx")


def test_the_size_limit_is_exact(plain_app):
    data = csv_bytes([["a"]], ["Nama"])
    assert _read(plain_app, data, "a.csv", max_bytes=len(data)).rows == [(2, ["a"])]
    message = _refusal(plain_app, data, "a.csv", max_bytes=len(data) - 1)
    assert "lebih besar dari batas" in message


def test_too_many_rows_or_none_at_all_are_refused(plain_app):
    rows = [[f"r{n}"] for n in range(4)]
    assert "lebih dari 3 baris" in _refusal(
        plain_app, xlsx_bytes(rows, ["Nama"]), "a.xlsx", max_rows=3
    )
    assert len(_read(plain_app, xlsx_bytes(rows, ["Nama"]), "a.xlsx", max_rows=4).rows) == 4
    assert "tidak memiliki baris data" in _refusal(plain_app, csv_bytes([], ["Nama"]), "a.csv")
    assert "nama kolom" in _refusal(plain_app, b"\n\nNama\nAni\n", "a.csv")


def test_blank_rows_are_skipped_but_a_file_of_blank_lines_is_not_read_to_its_end(plain_app):
    few_blanks = csv_bytes([member_row(), [], [], member_row()])
    assert len(_read(plain_app, few_blanks, "anggota.csv", max_rows=3).rows) == 2
    endless = csv_bytes([member_row()] + [[]] * 40)  # 41 rows read for 3 allowed
    assert "lebih dari 3 baris" in _refusal(plain_app, endless, "anggota.csv", max_rows=3)
