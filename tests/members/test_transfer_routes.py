"""Import and export screens: upload, preview, confirm once; refused files; downloads."""

import io
import re
import threading
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.members import services
from coop_app.members.import_models import MemberImport
from coop_app.members.models import Member, MemberStatus
from tests.helpers import audit_rows, csrf_token, login, post
from tests.members.conftest import member_data
from tests.members.test_spreadsheets import (
    HEADER,
    csv_bytes,
    member_row,
    png_bytes,
    xlsx_bytes,
    xml_bomb_xlsx,
    zip_bomb,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def treasurer(login_as, villages):
    return login_as(Role.TREASURER, "bendahara")


def _upload(client, data: bytes, name: str = "anggota.xlsx"):
    return post(
        client,
        "/members/import",
        {"file": (io.BytesIO(data), name)},
        token_page="/members/import",
        content_type="multipart/form-data",
    )


def _token(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/members/import/([A-Za-z0-9_-]{40,})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _confirm(client, token: str):
    return post(client, f"/members/import/{token}/confirm", token_page=f"/members/import/{token}")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def test_one_bad_row_is_shown_refused_then_the_fixed_file_imports(app, client, treasurer):
    bad = [member_row(NIK="3307014501850001"), member_row(NIK="123")]
    token = _token(_upload(client, xlsx_bytes(bad)))
    page = client.get(f"/members/import/{token}").get_data(as_text=True)
    assert "1 masalah di 1 baris" in page
    assert "<td>3</td><td>NIK</td><td>NIK harus tepat 16 angka.</td>" in page
    assert 'data-testid="confirm-import"' not in page

    refused = _confirm(client, token)
    assert refused.status_code == 422
    assert "Tidak ada yang diimpor: ditemukan 1 masalah." in refused.get_data(as_text=True)
    assert _count(app, Member) == 0

    fixed = [member_row(NIK="3307014501850001"), member_row(NIK="3307014501850002")]
    token = _token(_upload(client, csv_bytes(fixed), "anggota-perbaikan.csv"))
    page = client.get(f"/members/import/{token}").get_data(as_text=True)
    assert "Semua 2 baris benar" in page and 'data-testid="confirm-import"' in page
    done = _confirm(client, token)
    assert (done.status_code, done.headers["Location"]) == (302, f"/members/import/{token}")
    page = client.get(f"/members/import/{token}").get_data(as_text=True)
    assert "2 anggota sudah diimpor." in page and "2 anggota diimpor pada" in page
    assert 'data-testid="confirm-import"' not in page
    assert _count(app, Member) == 2

    details = [(row.entity, row.detail) for row in audit_rows(app) if row.method == "POST"][1:]
    assert details == [
        ("import:1", "uploaded 2 rows"),
        ("import:1", "refused: 1"),
        ("import:2", "uploaded 2 rows"),
        ("import:2", "imported 2 members"),
    ]


def test_the_same_confirm_posted_twice_imports_once(app, client, treasurer):
    token = _token(_upload(client, xlsx_bytes([member_row()])))
    assert _confirm(client, token).status_code == 302
    again = _confirm(client, token)
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Berkas ini sudah diimpor sebelumnya" in page
    assert "1 anggota diimpor pada" in page
    assert _count(app, Member) == 1


def test_two_tabs_confirming_at_once_import_once(app, client, treasurer):
    rows = [member_row(NIK=f"33070145018500{n:02d}") for n in range(1, 6)]
    token = _token(_upload(client, xlsx_bytes(rows)))
    second = app.test_client()
    login(second, treasurer)
    clients = [client, second]
    forms = [{"csrf_token": csrf_token(c, f"/members/import/{token}")} for c in clients]
    start = threading.Barrier(2)
    statuses = []

    def confirm(c, form):
        start.wait()
        statuses.append(c.post(f"/members/import/{token}/confirm", data=form).status_code)

    threads = [
        threading.Thread(target=confirm, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    assert _count(app, Member) == 5
    details = sorted(row.detail for row in audit_rows(app) if row.path.endswith("/confirm"))
    assert details == ["already imported", "imported 5 members"]


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (png_bytes, "anggota.xlsx", "bukan spreadsheet .xlsx asli"),
        (zip_bomb, "anggota.xlsx", "(bom zip)"),
        (xml_bomb_xlsx, "anggota.xlsx", "(bom XML)"),
        (lambda: b"NIK,Nama\n33\x00,Ani\n", "anggota.csv", "bukan berkas teks CSV"),
        (lambda: csv_bytes([member_row()]), "anggota.txt", "Unggah berkas .xlsx atau .csv"),
        (lambda: xlsx_bytes([["Ani"]], ["Nama"]), "anggota.xlsx", "tidak memiliki kolom: NIK"),
    ],
)
def test_a_refused_file_is_shown_again_with_the_reason(app, client, treasurer, make, name, message):
    response = _upload(client, make(), name)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="invalid-feedback"' in page
    assert _count(app, MemberImport) == 0
    row = audit_rows(app)[-1]
    assert (row.status_code, row.outcome, row.detail) == (422, "failure", "file refused")


def test_an_upload_without_a_file_is_refused(client, treasurer):
    response = post(client, "/members/import", token_page="/members/import")
    assert response.status_code == 422
    assert "Pilih berkas." in response.get_data(as_text=True)


def test_a_file_one_byte_over_the_limit_gets_413(make_app, make_user, villages):
    limit = 50_000
    small = make_app(MAX_CONTENT_LENGTH=limit)
    client = small.test_client()
    login(client, make_user(Role.TREASURER, "bendahara"))
    response = _upload(client, b"a" * (limit + 1), "anggota.csv")
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)
    assert _count(small, MemberImport) == 0
    assert audit_rows(small)[-1].status_code == 413


def test_hostile_text_echoed_in_a_problem_is_shown_escaped(client, treasurer):
    rows = [member_row(Desa="<script>alert(1)</script>")]
    token = _token(_upload(client, xlsx_bytes(rows)))
    page = client.get(f"/members/import/{token}").get_data(as_text=True)
    assert "Tidak ada desa bernama &lt;script&gt;alert(1)&lt;/script&gt;." in page
    assert "<script>alert(1)" not in page


def test_the_preview_of_a_clean_file_lists_its_rows_escaped(client, treasurer):
    token = _token(_upload(client, xlsx_bytes([member_row(Nama="<script>alert(1)</script>")])))
    page = client.get(f"/members/import/{token}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_an_unknown_import_is_not_found(client, treasurer):
    assert (
        client.get("/members/import/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    )


def test_the_upload_page_offers_the_template(client, treasurer):
    page = client.get("/members/import").get_data(as_text=True)
    assert 'href="/members/import/template.xlsx"' in page
    assert 'enctype="multipart/form-data"' in page and 'accept=".xlsx,.csv"' in page


def test_the_template_download_is_a_workbook_with_the_columns(client, treasurer):
    response = client.get("/members/import/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "no-store"
    assert "template-anggota.xlsx" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert [cell.value for cell in workbook["Anggota"][1]] == HEADER


@pytest.fixture
def members(app, villages):
    kalibeber, _ = villages["Kalibeber"]
    sojokerto, _ = villages["Sojokerto"]
    with app.test_request_context(method="POST"):
        today = local_today()
        services.register_member(
            member_data(kalibeber, name="=1+1"), today=today, by=None, status=MemberStatus.ACTIVE
        )
        services.register_member(
            member_data(sojokerto, nik="3307014501850002", name="Budi"), today=today, by=None
        )
        db.session.commit()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TREASURER, Role.SUPERVISOR])
def test_the_export_download_follows_the_list_filters(client, login_as, members, villages, role):
    login_as(role)
    response = client.get("/members/export.xlsx?q=&status=active&village=")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "no-store"
    expected_name = f"anggota-{local_today():%Y-%m-%d}.xlsx"
    assert f"attachment; filename={expected_name}" == response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert [(row[2].value, row[2].data_type, row[11].value) for row in rows] == [
        ("=1+1", "s", "aktif")
    ]
    assert rows[0][4].value.date() == date(1985, 1, 5)
    village = villages["Sojokerto"][0]
    by_village = client.get(f"/members/export.xlsx?village={village}")
    names = [r[2] for r in openpyxl.load_workbook(io.BytesIO(by_village.data)).active.values]
    assert names == ["Nama", "Budi"]
