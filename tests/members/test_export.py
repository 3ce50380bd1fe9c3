"""Member list export and the import template, read back with openpyxl."""

import io
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.members import importing, services
from coop_app.members.exporting import write_import_template, write_member_list
from coop_app.members.models import MemberStatus
from tests.members.conftest import TODAY, member_data
from tests.members.test_spreadsheets import HEADER


@pytest.fixture
def registry(app, villages, make_user):
    """Three members: an active one with a migrant profile, a candidate, a resigned one."""
    name = make_user(Role.TREASURER, "bendahara")
    kalibeber, group = villages["Kalibeber"]
    sojokerto, _ = villages["Sojokerto"]
    with app.test_request_context(method="POST"):
        user = db.session.execute(sa.select(User).where(User.username == name)).scalar_one()
        siti = services.register_member(
            member_data(kalibeber, group_id=group), today=TODAY, by=user, status=MemberStatus.ACTIVE
        )
        services.register_member(
            member_data(
                kalibeber,
                nik="0107014501850002",
                name='=HYPERLINK("http://x","klik")',
                number="007",
                phone="0812 0000 1111",
                heir="",
            ),
            today=TODAY,
            by=user,
        )
        budi = services.register_member(
            member_data(sojokerto, nik="3307014501850003", name="Budi", sex="L"),
            today=TODAY,
            by=user,
            status=MemberStatus.ACTIVE,
        )
        services.change_status(
            budi,
            to=MemberStatus.RESIGNED,
            on=date(2025, 6, 1),
            reason="Pindah ke kota",
            today=TODAY,
            by=user,
            expected_version=budi.version,
        )
        profile = services.record_consent(siti, on=date(2024, 4, 1), today=TODAY, by=user)
        services.update_profile(
            siti,
            expected_version=profile.version,
            placement_agency="PT Agen Rahasia",
            business="Warung Rahasia",
            products="Keripik Rahasia",
            family_abroad=3,
            procedural=False,
            return_date=date(2023, 12, 1),
        )
        services.add_placement(
            siti,
            country="Taiwan",
            sector="Pabrik Rahasia",
            start=date(2015, 1, 1),
            end=date(2023, 11, 30),
            today=TODAY,
        )
        db.session.commit()


def _export(app, **filters):
    buffer = io.BytesIO()
    with app.test_request_context():
        count = write_member_list(buffer, **filters)
    return count, openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def test_the_export_has_the_template_columns_and_typed_cells(app, registry):
    count, workbook = _export(app)
    sheet = workbook["Anggota"]
    assert count == 3 and sheet.max_row == 4
    assert [cell.value for cell in sheet[1]] == HEADER
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L4"
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    siti = [cell.value for cell in rows["3307014501850001"]]
    assert siti == [
        "KPM-00001",
        "3307014501850001",
        "Siti Aminah",
        "P",
        datetime(1985, 1, 5),
        "Kalibeber",
        "Kelompok Kalibeber 1",
        "RT 02 RW 03",
        "081234567890",
        datetime(2024, 3, 17),
        "Ahmad Fauzi",
        "aktif",
    ]
    formula_like = rows["0107014501850002"]
    assert (formula_like[0].value, formula_like[0].data_type) == ("007", "s")
    assert (formula_like[1].value, formula_like[1].data_type) == ("0107014501850002", "s")
    name = formula_like[2]
    assert (name.value, name.data_type, name.quotePrefix) == (
        '=HYPERLINK("http://x","klik")',
        "s",
        True,
    )
    assert (formula_like[8].value, formula_like[8].data_type) == ("081200001111", "s")
    assert formula_like[4].is_date and formula_like[4].number_format == "dd/mm/yyyy"
    assert (formula_like[6].value, formula_like[10].value, formula_like[11].value) == (
        None,
        None,
        "calon",
    )
    assert rows["3307014501850003"][11].value == "keluar"


def test_the_export_never_contains_migrant_profile_data(app, registry):
    _count, workbook = _export(app)
    cells = [str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value]
    assert cells, "the workbook has content"
    leaks = [cell for cell in cells if "Rahasia" in cell or "Taiwan" in cell]
    assert leaks == []
    assert workbook.sheetnames == ["Anggota"] and workbook["Anggota"].max_column == 12


@pytest.mark.parametrize(
    ("filters", "niks"),
    [
        ({"status": "active"}, ["3307014501850001"]),
        ({"status": "resigned"}, ["3307014501850003"]),
        ({"text": "budi"}, ["3307014501850003"]),
        ({"text": "0107"}, ["0107014501850002"]),
        ({"status": "nonsense"}, ["0107014501850002", "3307014501850001", "3307014501850003"]),
    ],
)
def test_the_export_applies_the_list_filters(app, registry, filters, niks):
    count, workbook = _export(app, **filters)
    found = sorted(row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True))
    assert (count, found) == (len(niks), niks)


def test_the_export_filters_by_village(app, registry, villages):
    _count, workbook = _export(app, village_id=villages["Sojokerto"][0])
    villages_found = [row[5] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert villages_found == ["Sojokerto"]


def test_an_exported_list_read_by_the_import_lines_up_column_for_column(app, registry):
    buffer = io.BytesIO()
    with app.test_request_context(method="POST"):
        write_member_list(buffer)
        pending = importing.upload_import("anggota.xlsx", buffer.getvalue(), by=None)
        _candidates, problems = importing.check_rows(pending.rows, today=TODAY)
    by_column = sorted({(p.column, p.message.split(" ")[0]) for p in problems})
    # Every member is already there (NIK and number), and resigned is not importable.
    assert by_column == [("NIK", "NIK"), ("Nomor anggota", "Nomor"), ("Status", "Status")]
    assert {p.row for p in problems} == {2, 3, 4}


def test_the_template_has_the_columns_an_example_that_imports_and_a_guide(app, villages):
    buffer = io.BytesIO()
    with app.test_request_context(method="POST"):
        write_import_template(buffer)
        workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
        assert workbook.sheetnames == ["Anggota", "Petunjuk"]
        sheet = workbook["Anggota"]
        assert [cell.value for cell in sheet[1]] == HEADER
        example = [cell.value for cell in sheet[2]]
        assert example[1:7] == [
            "3307014501850001",
            "Siti Aminah",
            "P",
            datetime(1985, 1, 5),
            "Kalibeber",
            "Kelompok Kalibeber 1",
        ]
        assert sheet["B2"].data_type == "s" and sheet["B2"].number_format == "@"
        guide = workbook["Petunjuk"]
        assert [cell.value for cell in guide[1]] == ["Kolom", "Wajib?", "Cara mengisi"]
        assert (guide["A3"].value, guide["B3"].value) == ("NIK", "Wajib")
        assert (guide["A2"].value, guide["B2"].value) == ("Nomor anggota", "Tidak wajib")
        pending = importing.upload_import("template.xlsx", buffer.getvalue(), by=None)
        assert importing.confirm_import(pending, today=TODAY, by=None) == 1
