"""Member import: every problem of every row, all or nothing, once only; and the CLI."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from coop_app.auth.models import AuditEvent
from coop_app.db import utcnow
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.members import importing
from coop_app.members.import_models import MemberImport
from coop_app.members.models import Member, Village
from coop_app.members.services import register_member
from tests.members.conftest import TODAY, member_data
from tests.members.test_spreadsheets import csv_bytes, member_row, png_bytes, xlsx_bytes


def _upload(data: bytes, name: str = "anggota.xlsx") -> MemberImport:
    return importing.upload_import(name, data, by=None)


def _problems(pending: MemberImport) -> list[tuple]:
    _candidates, problems = importing.check_rows(pending.rows, today=TODAY)
    return [(p.row, p.column, p.message) for p in problems]


def _members() -> list[Member]:
    return db.session.execute(sa.select(Member).order_by(Member.id)).scalars().all()


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def test_a_clean_file_imports_every_member_with_leading_zeros_and_dates(app, villages):
    rows = [
        member_row(
            Nomor_anggota="00042",
            NIK="0107014501850001",
            No_HP="0812-3456-7890",
            Tanggal_lahir=date(1985, 1, 5),  # a real spreadsheet date
        ),
        member_row(
            NIK="3307014501850002",
            Nama="Budi  Santoso",
            Jenis_kelamin="L",
            Desa="SOJOKERTO",
            Kelompok="",
            No_HP="+62 812 1111 2222",
            Tanggal_masuk="1/2/2025",
            Status="",
        ),
    ]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes(rows))
        assert (pending.row_count, _problems(pending)) == (2, [])
        assert importing.confirm_import(pending, today=TODAY, by=None) == 2
        db.session.commit()
        first, second = _members()
        assert (first.number, first.nik, first.phone) == (
            "00042",
            "0107014501850001",
            "081234567890",
        )
        assert (first.birth_date, first.join_date) == (date(1985, 1, 5), date(2024, 3, 17))
        assert (first.status, first.sex, first.group_id) == (
            "active",
            "P",
            villages["Kalibeber"][1],
        )
        assert (second.number, second.name, second.phone) == (
            "KPM-00001",
            "Budi Santoso",
            "+6281211112222",
        )
        assert (second.village_id, second.group_id) == (villages["Sojokerto"][0], None)
        assert (second.status, second.join_date) == ("candidate", date(2025, 2, 1))
        db.session.refresh(pending)
        assert (pending.status, pending.imported_count, pending.rows) == ("imported", 2, [])


def test_every_problem_of_every_row_is_listed_with_row_column_and_message(app, villages):
    kalibeber, _ = villages["Kalibeber"]
    rows = [
        member_row(),
        member_row(NIK="33070145018500", Tanggal_lahir="31/02/1990", Jenis_kelamin="X"),
        member_row(NIK="3307014501850001", No_HP="12345", Nama="x" * 500),
        member_row(NIK="3307014501850099", Desa="Atlantis", Status="keluar"),
        member_row(
            NIK="3307014501850005",
            Kelompok="Kelompok Sojokerto 1",
            Tanggal_masuk="01/01/2027",
            Tanggal_lahir="kemarin",
        ),
        member_row(NIK=3307014501850007, Nama="", Nomor_anggota="A/1", Ahli_waris="y" * 121),
    ]
    with app.test_request_context(method="POST"):
        register_member(member_data(kalibeber, nik="3307014501850099"), today=TODAY, by=None)
        db.session.commit()
        pending = _upload(xlsx_bytes(rows))
        assert _problems(pending) == [
            (3, "NIK", "NIK harus tepat 16 angka."),
            (3, "Jenis kelamin", "Jenis kelamin harus L (laki-laki) atau P (perempuan)."),
            (3, "Tanggal lahir", "31/02/1990 bukan tanggal yang ada."),
            (4, "NIK", "Nilai yang sama sudah ada di baris 2."),
            (4, "Nama", "Nama paling banyak 120 karakter."),
            (
                4,
                "No HP",
                "Nomor HP harus diawali 08 atau +628 dan terdiri dari 9 sampai 14 angka.",
            ),
            (5, "NIK", "NIK ini sudah terdaftar untuk anggota KPM-00001."),
            (5, "Desa", "Tidak ada desa bernama Atlantis."),
            (5, "Status", "Status harus calon atau aktif (kosong berarti calon)."),
            (6, "Tanggal lahir", "Tulis tanggal sebagai dd/mm/yyyy, misalnya 05/01/1985."),
            (
                6,
                "Kelompok",
                "Desa Kalibeber tidak memiliki kelompok bernama Kelompok Sojokerto 1.",
            ),
            (6, "Tanggal masuk", "Tanggal masuk tidak boleh di masa depan."),
            (
                7,
                "Nomor anggota",
                "Nomor anggota terdiri dari 3 sampai 20 huruf, angka, titik atau tanda hubung.",
            ),
            (
                7,
                "NIK",
                "Sel ini berisi angka, sehingga nol di depan dan digit setelah digit ke-15 "
                "hilang. Ubah format kolom menjadi Teks lalu ketik ulang.",
            ),
            (7, "Nama", "Nama wajib diisi."),
            (7, "Ahli waris", "Nama paling banyak 120 karakter."),
        ]


def test_duplicate_member_numbers_in_the_file_and_in_the_database(app, villages):
    kalibeber, _ = villages["Kalibeber"]
    rows = [
        member_row(Nomor_anggota="lama-001", NIK="3307014501850001"),
        member_row(Nomor_anggota="LAMA-001", NIK="3307014501850002"),
        member_row(Nomor_anggota="lama-002", NIK="3307014501850003"),
    ]
    with app.test_request_context(method="POST"):
        data = member_data(kalibeber, nik="3307014501850099", number="LAMA-002")
        register_member(data, today=TODAY, by=None)
        pending = _upload(csv_bytes(rows), "anggota.csv")
        assert _problems(pending) == [
            (3, "Nomor anggota", "Nilai yang sama sudah ada di baris 2."),
            (4, "Nomor anggota", "Nomor anggota LAMA-002 sudah dipakai."),
        ]


def test_one_bad_row_imports_nothing_and_leaves_the_import_pending(app, villages):
    rows = [
        member_row(NIK="3307014501850001"),
        member_row(NIK="3307014501850002", Tanggal_lahir="31/02/1990"),
        member_row(NIK="3307014501850003"),
    ]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes(rows))
        db.session.commit()
        with pytest.raises(importing.ImportRefused) as refused:
            importing.confirm_import(pending, today=TODAY, by=None)
        db.session.rollback()
        assert [(p.row, p.column) for p in refused.value.problems] == [(3, "Tanggal lahir")]
        assert refused.value.message.startswith("Tidak ada yang diimpor: ditemukan 1 masalah.")
        assert _count(Member) == 0
        assert db.session.get(MemberImport, pending.id).status == "pending"


def test_confirm_checks_again_against_the_database_as_it_is_now(app, villages):
    kalibeber, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes([member_row(NIK="3307014501850001")]))
        db.session.commit()
        assert _problems(pending) == []
        register_member(member_data(kalibeber, nik="3307014501850001"), today=TODAY, by=None)
        db.session.commit()
        with pytest.raises(importing.ImportRefused) as refused:
            importing.confirm_import(pending, today=TODAY, by=None)
        db.session.rollback()
        problem = refused.value.problems[0]
        assert (problem.row, problem.column, problem.message) == (
            2,
            "NIK",
            "NIK ini sudah terdaftar untuk anggota KPM-00001.",
        )
        assert _count(Member) == 1


def test_a_second_confirm_imports_nothing_and_reports_the_first(app, villages):
    rows = [member_row(NIK="3307014501850001"), member_row(NIK="3307014501850002")]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes(rows))
        db.session.commit()
        assert importing.confirm_import(pending, today=TODAY, by=None) == 2
        db.session.commit()
        assert importing.confirm_import(pending, today=TODAY, by=None) is None
        db.session.commit()
        assert _count(Member) == 2


def test_the_claim_is_a_conditional_update_not_a_read(app, villages):
    """A confirm that read the import as pending, just before another one claimed it."""
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes([member_row()]))
        db.session.commit()
        assert pending.status == "pending"
        db.session.execute(
            sa.update(MemberImport).where(MemberImport.id == pending.id).values(status="imported"),
            execution_options={"synchronize_session": False},
        )
        assert pending.status == "pending", "this object still believes it is pending"
        assert importing.confirm_import(pending, today=TODAY, by=None) is None
        assert _count(Member) == 0


def test_hostile_text_is_kept_as_plain_text(app, villages):
    rows = [
        member_row(NIK="3307014501850001", Nama="<script>alert(1)</script>"),
        member_row(NIK="3307014501850002", Nama='=HYPERLINK("http://x","klik")'),
    ]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes(rows))
        assert importing.confirm_import(pending, today=TODAY, by=None) == 2
        names = [member.name for member in _members()]
        assert names == ["<script>alert(1)</script>", '=HYPERLINK("http://x","klik")']


def test_control_characters_in_a_cell_are_a_problem(app, villages):
    with app.test_request_context(method="POST"):
        pending = _upload(csv_bytes([member_row(Alamat="RT 01\x07")]), "anggota.csv")
        assert _problems(pending) == [
            (2, "Alamat", "Kiriman Anda berisi karakter yang tidak diizinkan."),
        ]


def test_a_semicolon_csv_with_a_bom_imports_like_a_workbook(app, villages):
    row = member_row(Nomor_anggota="007", NIK="0107014501850001", No_HP="081234567890")
    with app.test_request_context(method="POST"):
        pending = _upload(csv_bytes([row], delimiter=";"), "anggota.csv")
        assert importing.confirm_import(pending, today=TODAY, by=None) == 1
        (member,) = _members()
        assert (member.number, member.nik, member.phone) == (
            "007",
            "0107014501850001",
            "081234567890",
        )


def test_a_file_without_the_needed_columns_is_refused_at_upload(app, villages):
    header = ["NIK", "Nama", "Desa", "Nama"]
    with app.test_request_context(method="POST"):
        with pytest.raises(DomainError) as refused:
            _upload(xlsx_bytes([["3307014501850001", "Ani", "Kalibeber", "Ani"]], header))
        assert refused.value.message == "Kolom Nama muncul dua kali."
        with pytest.raises(DomainError) as refused:
            _upload(xlsx_bytes([["3307014501850001", "Ani"]], ["NIK", "Nama"]))
        assert refused.value.message == (
            "Baris pertama tidak memiliki kolom: Jenis kelamin, Tanggal lahir, Desa, Tanggal masuk."
        )
        assert _count(MemberImport) == 0


def test_extra_columns_are_ignored_and_headers_are_matched_loosely(app, villages):
    header = ["No.", "nik", "NAMA", "Jenis Kelamin (L/P)", "Tgl. lahir", "desa", "Tanggal  masuk"]
    row = ["1", "3307014501850001", "Ani", "P", "05/01/1985", "Kalibeber", "17/03/2024"]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes([row], header))
        assert _problems(pending) == []


def test_an_expired_upload_cannot_be_confirmed_and_is_removed_later(app, villages):
    with app.test_request_context(method="POST"):
        old = _upload(xlsx_bytes([member_row()]))
        old.created_at = utcnow() - timedelta(days=3)
        old_token = old.token
        db.session.commit()
        with pytest.raises(DomainError) as refused:
            importing.confirm_import(old, today=TODAY, by=None)
        assert "kedaluwarsa" in refused.value.message
        db.session.rollback()
        fresh = _upload(xlsx_bytes([member_row()]))
        db.session.commit()
        assert db.session.execute(sa.select(MemberImport.id)).scalars().all() == [fresh.id]
        assert len(fresh.token) >= 40 and fresh.token != old_token


def test_a_village_deactivated_after_upload_is_caught_at_confirm(app, villages):
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes([member_row()]))
        db.session.get(Village, villages["Kalibeber"][0]).active = False
        db.session.commit()
        with pytest.raises(importing.ImportRefused) as refused:
            importing.confirm_import(pending, today=TODAY, by=None)
        assert [(p.column, p.message) for p in refused.value.problems] == [
            ("Desa", "Tidak ada desa bernama Kalibeber.")
        ]


# --- the command line ---------------------------------------------------------------------


def _write(tmp_path, data: bytes, name: str = "anggota.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _in_db(app, model) -> int:
    with app.app_context():
        return _count(model)


def test_cli_imports_a_clean_file_and_records_it(app, villages, tmp_path):
    rows = [member_row(NIK="3307014501850001"), member_row(NIK="3307014501850002")]
    path = _write(tmp_path, xlsx_bytes(rows))
    result = app.test_cli_runner().invoke(args=["import-members", path])
    assert result.exit_code == 0, result.output
    assert "2 anggota sudah diimpor." in result.output
    assert _in_db(app, Member) == 2
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent)).scalar_one()
        imported = db.session.execute(sa.select(MemberImport)).scalar_one()
        assert (event.action, event.detail) == ("cli.import-members", "imported 2 members")
        assert (event.entity, imported.status) == (f"import:{imported.id}", "imported")


def test_cli_dry_run_counts_and_writes_nothing(app, villages, tmp_path):
    path = _write(tmp_path, xlsx_bytes([member_row()]))
    result = app.test_cli_runner().invoke(args=["import-members", path, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 anggota akan diimpor; belum ada yang disimpan." in result.output
    assert (_in_db(app, Member), _in_db(app, MemberImport), _in_db(app, AuditEvent)) == (0, 0, 0)


def test_cli_prints_every_row_problem_and_writes_nothing(app, villages, tmp_path):
    rows = [
        member_row(),
        member_row(NIK="123", No_HP="999"),
        member_row(Tanggal_lahir="31/02/1990"),
    ]
    path = _write(tmp_path, csv_bytes(rows), "anggota.csv")
    result = app.test_cli_runner().invoke(args=["import-members", path])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:3] == [
        "Baris 3, NIK: NIK harus tepat 16 angka.",
        "Baris 3, No HP: Nomor HP harus diawali 08 atau +628 dan terdiri dari 9 sampai 14 angka.",
        "Baris 4, NIK: Nilai yang sama sudah ada di baris 2.",
    ]
    assert "Baris 4, Tanggal lahir: 31/02/1990 bukan tanggal yang ada." in lines
    assert (_in_db(app, Member), _in_db(app, MemberImport), _in_db(app, AuditEvent)) == (0, 0, 0)


def test_cli_applies_the_upload_limit_to_the_byte(make_app, villages, tmp_path):
    data = xlsx_bytes([member_row()])
    path = _write(tmp_path, data)
    over = make_app(MAX_CONTENT_LENGTH=len(data) - 1).test_cli_runner()
    result = over.invoke(args=["import-members", path, "--dry-run"])
    assert result.exit_code == 1
    assert "Berkas lebih besar dari batas" in result.output
    exact = make_app(MAX_CONTENT_LENGTH=len(data)).test_cli_runner()
    assert exact.invoke(args=["import-members", path, "--dry-run"]).exit_code == 0


def test_cli_refuses_a_fake_workbook(app, villages, tmp_path):
    path = _write(tmp_path, png_bytes())
    result = app.test_cli_runner().invoke(args=["import-members", path])
    assert result.exit_code == 1
    assert "bukan spreadsheet .xlsx asli" in result.output
    assert _in_db(app, MemberImport) == 0


def test_a_number_kept_from_old_books_on_a_later_row_is_not_taken_by_an_earlier_one(app, villages):
    rows = [
        member_row(NIK="3307014501850001"),  # no number: gets the next automatic one
        member_row(Nomor_anggota="KPM-00001", NIK="3307014501850002", Nama="Dewi"),
    ]
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes(rows))
        assert _problems(pending) == []
        assert importing.confirm_import(pending, today=TODAY, by=None) == 2
        db.session.commit()
        numbers = {member.nik: member.number for member in _members()}
    assert numbers == {"3307014501850002": "KPM-00001", "3307014501850001": "KPM-00002"}


def test_an_address_too_long_is_a_problem_not_silently_cut(app, villages):
    with app.test_request_context(method="POST"):
        pending = _upload(xlsx_bytes([member_row(Alamat="Jalan " + "panjang " * 60)]))
        problems = _problems(pending)
    assert [(row, column) for row, column, _message in problems] == [(2, "Alamat")]
    assert "Alamat paling banyak 255 karakter." in problems[0][2]
