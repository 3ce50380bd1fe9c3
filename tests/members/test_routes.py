"""The member registry over HTTP: register, search, edit, status, profile, logins, privacy."""

import re

import pytest
import sqlalchemy as sa

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.members.models import Member
from tests.helpers import audit_rows, csrf_token, login, post

FORM = {
    "nik": "3307014501850001",
    "name": "Siti Aminah",
    "sex": "P",
    "birth_date": "05/01/1985",
    "address": "RT 02 RW 03",
    "phone": "0812 3456 7890",
    "join_date": "17/03/2024",
    "heir": "Ahmad Fauzi",
}


def _register(client, villages, **changes):
    village_id, group_id = villages["Kalibeber"]
    form = FORM | {"village_id": village_id, "group_id": group_id} | changes
    return post(client, "/members/new", form, token_page="/members/new")


def _member(app, nik: str = FORM["nik"]) -> Member | None:
    with app.app_context():
        return db.session.execute(sa.select(Member).where(Member.nik == nik)).scalar()


def test_treasurer_registers_a_member_and_sees_the_record(app, client, login_as, villages):
    login_as(Role.TREASURER)
    response = _register(client, villages)
    member = _member(app)
    assert response.headers["Location"] == f"/members/{member.id}"
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Siti Aminah" in page and "KPM-00001" in page and "081234567890" in page
    assert "Kalibeber" in page and "Calon anggota" in page
    assert audit_rows(app)[-1].entity == f"member:{member.id}"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nik": "12345"}, "NIK harus tepat 16 angka."),
        ({"birth_date": "31/02/1990"}, "Tanggal tidak valid. Tulis seperti 17/03/2025."),
        ({"phone": "bukan nomor"}, "Nomor HP harus diawali 08 atau +628"),
        ({"name": "x" * 500}, "Isian tidak boleh lebih dari 200 karakter."),
        ({"name": "x" * 150}, "Nama paling banyak 120 karakter."),
        ({"join_date": "01/01/2099"}, "Tanggal masuk tidak boleh di masa depan."),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    app, client, login_as, villages, changes, message
):
    login_as(Role.TREASURER)
    response = _register(client, villages, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Member)).scalar() == 0


def test_a_duplicate_nik_is_refused(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    response = _register(client, villages, name="Orang Lain")
    assert response.status_code == 422
    assert "NIK ini sudah terdaftar untuk anggota KPM-00001." in response.get_data(as_text=True)


def test_hostile_text_is_shown_escaped(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages, name="<script>alert(1)</script>")
    page = client.get("/members/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_and_filters(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    _register(
        client,
        villages,
        nik="3307014501850002",
        name="Dewi Lestari",
        village_id=villages["Sojokerto"][0],
        group_id="",
    )

    def names(query: str) -> list[str]:
        page = client.get(f"/members/?{query}").get_data(as_text=True)
        return re.findall(r'class="fw-semibold" href="/members/\d+">([^<]+)<', page)

    assert names("q=dewi") == ["Dewi Lestari"]
    assert names("q=KPM-00001") == ["Siti Aminah"]
    assert names("q=33070145018500") == ["Siti Aminah", "Dewi Lestari"]
    assert names("q=sojokerto") == ["Dewi Lestari"]
    assert names(f"village={villages['Kalibeber'][0]}") == ["Siti Aminah"]
    assert names("status=active") == []
    assert names("status=candidate") == ["Siti Aminah", "Dewi Lestari"]


def test_an_edit_on_a_stale_form_is_refused(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    member = _member(app)
    village_id, group_id = villages["Kalibeber"]
    form = FORM | {"village_id": village_id, "group_id": group_id, "version": member.version}
    url = f"/members/{member.id}/edit"
    assert post(client, url, form | {"name": "Siti A."}, token_page=url).status_code == 302
    stale = post(client, url, form | {"name": "Tertimpa"}, token_page=url)
    assert stale.status_code == 422
    assert "sudah diubah oleh orang lain" in stale.get_data(as_text=True)
    assert _member(app).name == "Siti A."


def test_status_change_with_date_and_reason_is_kept_in_the_history(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    member = _member(app)
    url = f"/members/{member.id}/status"
    refused = post(
        client, url, {"status": "active", "on": "01/04/2024", "reason": "", "version": 1}, url
    )
    assert refused.status_code == 422
    response = post(
        client,
        url,
        {"status": "active", "on": "01/04/2024", "reason": "Disetujui rapat", "version": 1},
        token_page=url,
    )
    assert response.status_code == 302
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Disetujui rapat" in page and "Aktif" in page
    assert audit_rows(app)[-1].detail == "status candidate -> active"


def test_migrant_profile_after_consent_with_placements(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    member = _member(app)
    show = f"/members/{member.id}"
    assert client.get(f"{show}/profile").headers["Location"] == show
    assert post(client, f"{show}/consent", {"on": "17/03/2024"}, show).status_code == 302
    profile_url = f"{show}/profile"
    form = {"business": "Keripik singkong", "family_abroad": "1", "procedural": "yes"}
    saved = post(client, profile_url, form | {"version": 1}, token_page=profile_url)
    assert saved.status_code == 302
    placement = {
        "country": "Hong Kong",
        "sector": "Domestic work",
        "start_date": "01/02/2008",
        "end_date": "30/06/2014",
    }
    post(client, f"{show}/placements", placement, token_page=profile_url)
    page = client.get(show).get_data(as_text=True)
    assert "Keripik singkong" in page and "Hong Kong" in page and "Pekerja rumah tangga" in page


def test_a_trainer_sees_names_but_not_nik_phone_or_migrant_data(
    app, client, login_as, make_user, villages
):
    login_as(Role.TREASURER)
    _register(client, villages)
    member = _member(app)
    show = f"/members/{member.id}"
    assert post(client, f"{show}/consent", {"on": "17/03/2024"}, show).status_code == 302
    profile = {"business": "Keripik singkong", "procedural": "yes", "version": 1}
    assert post(client, f"{show}/profile", profile, show).status_code == 302
    placement = {"country": "Taiwan", "sector": "Caregiving", "start_date": "01/02/2010"}
    assert post(client, f"{show}/placements", placement, show).status_code == 302
    assert "Taiwan" in client.get(show).get_data(as_text=True)
    trainer = app.test_client()
    login(trainer, make_user(Role.TRAINER, "pelatih"))
    nik_search = trainer.get(f"/members/?q={FORM['nik'][:10]}").get_data(as_text=True)
    assert "0 anggota ditemukan" in nik_search, "a trainer cannot find members by NIK"
    for url in ("/members/", show):
        page = trainer.get(url).get_data(as_text=True)
        assert "Siti Aminah" in page
        assert FORM["nik"] not in page and "081234567890" not in page
        assert "Keripik singkong" not in page and "Profil purna migran" not in page
        assert "Taiwan" not in page


def test_a_member_sees_only_their_own_record(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    _register(client, villages, nik="3307014501850002", name="Dewi Lestari")
    own, other = _member(app), _member(app, "3307014501850002")
    slip = post(client, f"/members/{own.id}/login", token_page=f"/members/{own.id}")
    temporary = re.search(r'data-testid="slip-password">([^<]+)<', slip.get_data(as_text=True))
    member_client = app.test_client()
    login(member_client, "kpm-00001", temporary.group(1))
    new_password = "kata-sandi-anggota-baru"
    post(
        member_client,
        "/auth/password",
        {"current": temporary.group(1), "new": new_password, "confirm": new_password},
        token_page="/auth/password",
    )
    page = member_client.get("/members/me").get_data(as_text=True)
    assert "Siti Aminah" in page and FORM["nik"] in page
    assert "Riwayat status" not in page and "Profil purna migran" not in page
    assert member_client.get(f"/members/{other.id}").status_code == 404
    assert member_client.get(f"/members/{own.id}").status_code == 200
    assert member_client.get("/members/").status_code == 403


def test_the_board_keeps_the_village_list(app, client, login_as):
    login_as(Role.ADMIN)
    assert (
        post(client, "/villages/", {"name": "Kalibeber", "subdistrict": "Mojotengah"}).status_code
        == 302
    )
    again = post(client, "/villages/", {"name": "Kalibeber", "subdistrict": ""})
    assert again.status_code == 422 and "sudah ada di daftar" in again.get_data(as_text=True)
    page = client.get("/villages/").get_data(as_text=True)
    village_id = re.search(r"/villages/(\d+)/active", page).group(1)
    assert (
        post(
            client, "/villages/groups", {"village_id": village_id, "group_name": "Mawar"}
        ).status_code
        == 302
    )
    assert "Mawar" in client.get("/villages/").get_data(as_text=True)


def test_the_list_pages_by_25_and_keeps_the_filters(app, client, login_as, villages):
    from coop_app.members.services import register_member
    from tests.members.conftest import TODAY, member_data

    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        for n in range(26):
            register_member(
                member_data(village_id, nik=f"33070145018{n:05d}"), today=TODAY, by=None
            )
        db.session.commit()
    login_as(Role.SUPERVISOR)
    first = client.get(f"/members/?status=candidate&village={village_id}").get_data(as_text=True)
    assert "26 anggota ditemukan" in first and "Halaman 1 dari 2" in first
    next_link = re.search(r'href="(/members/\?page=2[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "status=candidate" in next_link and f"village={village_id}" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert second.count('class="fw-semibold" href="/members/') == 1


def test_search_wildcards_are_plain_text(client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    for wildcard in ("%", "_", "\\"):
        page = client.get("/members/", query_string={"q": wildcard}).get_data(as_text=True)
        assert "0 anggota ditemukan" in page, wildcard


def test_ids_too_large_for_the_database_are_not_found(client, login_as):
    login_as(Role.ADMIN)
    huge = "9" * 20
    assert client.get(f"/members/{huge}").status_code == 404
    assert client.get(f"/members/?village={huge}").status_code == 200
    assert client.get(f"/members/export.xlsx?village={huge}").status_code == 200
    assert post(client, f"/villages/{huge}/active").status_code == 404


def test_a_double_submitted_placement_is_recorded_once(app, client, login_as, villages):
    login_as(Role.TREASURER)
    _register(client, villages)
    show = f"/members/{_member(app).id}"
    post(client, f"{show}/consent", {"on": "17/03/2024"}, show)
    placement = {"country": "Malaysia", "sector": "Plantation", "start_date": "01/02/2010"}
    token = csrf_token(client, f"{show}/profile")
    first = client.post(f"{show}/placements", data=placement | {"csrf_token": token})
    second = client.post(f"{show}/placements", data=placement | {"csrf_token": token})
    assert (first.status_code, second.status_code) == (302, 302)
    page = client.get(f"{show}/profile").get_data(as_text=True)
    assert "Riwayat penempatan ini sudah tercatat." in page
    with app.app_context():
        assert len(db.session.get(Member, _member(app).id).profile.placements) == 1
