"""Login, logout, sessions, forced password change and the board's user screens, over HTTP."""

import re
import time
from datetime import timedelta

import sqlalchemy as sa

from coop_app.auth.models import AuditEvent, LoginSession, User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from tests.helpers import PASSWORD, audit_rows, csrf_token, login, post


def _copy_cookie(app, client):
    """A second client holding a copy of `client`'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _lands_on_login(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_login_page_is_indonesian_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="id">' in page
    assert "Nama pengguna" in page and "Kata sandi" in page


def test_failed_login_is_refused_audited_and_never_logs_the_password(app, client, make_user):
    make_user(Role.TREASURER, "bendahara")
    secret = "rahasia-yang-salah-sekali"
    response = login(client, "bendahara", secret)
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    (row,) = audit_rows(app)
    assert (row.action, row.actor, row.outcome, row.status_code) == (
        "auth.login",
        "bendahara",
        "failure",
        422,
    )
    for event in audit_rows(app):
        for column in AuditEvent.__table__.columns:
            assert secret not in str(getattr(event, column.key))


def test_successful_login_is_audited_with_the_user_and_address(app, client, make_user):
    make_user(Role.TREASURER, "bendahara")
    assert login(client, "bendahara").headers["Location"] == "/"
    (row,) = audit_rows(app)
    assert (row.action, row.actor, row.outcome, row.ip) == (
        "auth.login",
        "bendahara",
        "success",
        "127.0.0.1",
    )
    assert row.user_id is not None
    for event in audit_rows(app):
        assert PASSWORD not in str(event.detail) + str(event.entity) + str(event.path)


def test_logout_is_post_only(client, login_as):
    login_as(Role.TREASURER)
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "Cara akses tidak diizinkan" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200, "a GET on logout must not log anyone out"


def test_a_copied_cookie_stops_working_after_logout(app, client, login_as):
    login_as(Role.TREASURER)
    thief = _copy_cookie(app, client)
    assert thief.get("/").status_code == 200
    post(client, "/auth/logout")
    assert _lands_on_login(thief)
    assert _lands_on_login(client)


def test_a_copied_cookie_stops_working_after_a_password_change(app, client, login_as):
    login_as(Role.TREASURER)
    thief = _copy_cookie(app, client)
    response = post(
        client,
        "/auth/password",
        {"current": PASSWORD, "new": "kata-sandi-baru-ku", "confirm": "kata-sandi-baru-ku"},
    )
    assert response.status_code == 302
    assert _lands_on_login(thief)
    assert client.get("/").status_code == 200, "the device that changed it stays logged in"


def test_a_copied_cookie_stops_working_after_deactivation(app, client, login_as, make_user):
    login_as(Role.TREASURER, "bendahara")
    thief = _copy_cookie(app, client)
    admin = app.test_client()
    make_user(Role.ADMIN, "ketua")
    login(admin, "ketua")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == "bendahara")).scalar()
        user_id, version = user.id, user.version
    response = post(admin, f"/admin/users/{user_id}/active", {"version": version})
    assert response.status_code == 302
    assert _lands_on_login(thief)
    assert _lands_on_login(client)


def test_an_idle_session_ends(app, client, login_as):
    login_as(Role.TREASURER)
    with client.session_transaction() as session:
        session["last_active"] = int(time.time()) - 31 * 60
    response = client.get("/", follow_redirects=True)
    assert "Anda dikeluarkan karena lama tidak aktif." in response.get_data(as_text=True)
    with app.app_context():
        reasons = db.session.execute(sa.select(LoginSession.revoked_reason)).scalars().all()
    assert reasons == ["idle"]


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, client, login_as):
    login_as(Role.TREASURER)
    with app.app_context():
        row = db.session.execute(sa.select(LoginSession)).scalar_one()
        row.created_at = row.created_at - timedelta(hours=12, minutes=1)
        db.session.commit()
    assert _lands_on_login(client)


def test_a_temporary_password_must_be_changed_before_anything_else(app, client, make_user):
    make_user(Role.MEMBER, "anggota", must_change_password=True)
    login(client, "anggota")
    response = client.get("/")
    assert response.headers["Location"] == "/auth/password"
    page = client.get("/auth/password").get_data(as_text=True)
    assert "Anda memakai kata sandi sementara." in page
    post(
        client,
        "/auth/password",
        {"current": PASSWORD, "new": "kata-sandi-baru-ku", "confirm": "kata-sandi-baru-ku"},
        token_page="/auth/password",
    )
    assert client.get("/").status_code == 200


def test_login_redirects_only_to_pages_of_this_site(client, make_user):
    make_user(Role.ADMIN, "ketua")
    for target, expected in (
        ("/admin/users/", "/admin/users/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        client.delete_cookie("session")
        token_page = f"/auth/login?next={target}"
        response = post(
            client,
            f"/auth/login?next={target}",
            {"username": "ketua", "password": PASSWORD},
            token_page=token_page,
        )
        assert response.headers["Location"] == expected, target


def test_login_posts_are_rate_limited_per_address(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [login(client, "siapa", "salah-salah-salah").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    response = login(client, "siapa", "salah-salah-salah")
    assert "Terlalu banyak percobaan dalam waktu singkat" in response.get_data(as_text=True)
    assert [row.status_code for row in audit_rows(app)][-2:] == [429, 429]


def test_admin_creates_a_user_whose_slip_password_works_once_changed(app, client, login_as):
    login_as(Role.ADMIN)
    response = post(
        client,
        "/admin/users/new",
        {"username": "Pelatih2", "full_name": "Dewi Lestari", "role": "trainer"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    temporary = re.search(r'data-testid="slip-password">([^<]+)<', page).group(1)
    assert "pelatih2" in page
    newcomer = app.test_client()
    assert login(newcomer, "pelatih2", temporary).status_code == 302
    assert newcomer.get("/").headers["Location"] == "/auth/password"
    (created,) = [row for row in audit_rows(app) if row.action == "users.create"]
    assert created.outcome == "success" and created.detail == "role trainer"
    assert temporary not in str(created.detail)


def test_admin_changes_a_role_and_a_stale_form_is_refused(app, client, login_as, make_user):
    login_as(Role.ADMIN)
    make_user(Role.TRAINER, "pelatih")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == "pelatih")).scalar()
        user_id, version = user.id, user.version
    form = {"full_name": "Dewi", "role": "treasurer", "version": version}
    assert post(client, f"/admin/users/{user_id}", form).status_code == 302
    stale = post(client, f"/admin/users/{user_id}", form | {"role": "admin"})
    assert stale.status_code == 422
    assert "sudah diubah oleh orang lain" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).role == "treasurer"
    details = [row.detail for row in audit_rows(app) if row.action == "users.update"]
    assert details == ["role trainer -> treasurer", None]


def test_supervisor_reads_users_but_gets_no_edit_controls(app, client, login_as, make_user):
    login_as(Role.SUPERVISOR)
    make_user(Role.TRAINER, "pelatih")
    with app.app_context():
        user_id = db.session.execute(sa.select(User.id).where(User.username == "pelatih")).scalar()
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "pelatih" in page
    assert ">Simpan<" not in page and "Atur ulang kata sandi" not in page


def test_activity_log_lists_and_filters_events(client, login_as, make_user):
    make_user(Role.TREASURER, "bendahara")
    login(client, "bendahara", "salah-salah-salah")
    login_as(Role.SUPERVISOR)
    page = client.get("/audit/?outcome=failure").get_data(as_text=True)
    assert "bendahara" in page and "auth.login" in page
    assert "Ditolak" in page
    empty = client.get("/audit/?actor=tidak-ada").get_data(as_text=True)
    assert "Tidak ada aktivitas yang cocok." in empty


def test_language_switch_changes_the_interface_and_stays_on_the_site(client, login_as):
    login_as(Role.TREASURER)
    response = post(client, "/i18n/language", {"lang": "en", "next": "/auth/password"})
    assert response.headers["Location"] == "/auth/password"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log out" in page
    response = post(client, "/i18n/language", {"lang": "id", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
    assert "Keluar" in client.get("/").get_data(as_text=True)


def test_the_database_lock_holds_over_http_even_for_the_right_password(client, make_user):
    make_user(Role.TREASURER, "bendahara")
    for _ in range(5):
        assert login(client, "bendahara", "salah-salah-salah").status_code == 422
    response = login(client, "bendahara")
    assert response.status_code == 422
    assert "Terlalu banyak percobaan gagal" in response.get_data(as_text=True)


def test_logging_in_starts_a_new_cookie_session_keeping_only_the_language(client, make_user):
    make_user(Role.TREASURER, "bendahara")
    client.get("/auth/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
        token_before = session["csrf_token"]
    login(client, "bendahara")
    client.get("/auth/password")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["csrf_token"] != token_before


def test_an_idle_post_does_nothing_and_is_audited_as_denied(app, client, login_as, make_user):
    login_as(Role.ADMIN, "ketua")
    make_user(Role.TRAINER, "pelatih")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == "pelatih")).scalar()
        user_id, version = user.id, user.version
    token = csrf_token(client, "/auth/password")
    with client.session_transaction() as session:
        session["last_active"] = int(time.time()) - 31 * 60
    response = client.post(
        f"/admin/users/{user_id}/active", data={"csrf_token": token, "version": version}
    )
    assert response.headers["Location"] == "/auth/login"
    with app.app_context():
        assert db.session.get(User, user_id).active
    row = audit_rows(app)[-1]
    assert (row.action, row.outcome, row.detail) == (
        "users.set_active",
        "denied",
        "session expired",
    )


def test_a_post_before_the_required_password_change_is_denied(app, client, make_user):
    make_user(Role.ADMIN, "ketua", must_change_password=True)
    login(client, "ketua")
    response = post(
        client,
        "/admin/users/new",
        {"username": "baru", "full_name": "Baru", "role": "admin"},
        token_page="/auth/password",
    )
    assert response.headers["Location"] == "/auth/password"
    with app.app_context():
        assert db.session.execute(sa.select(User.username)).scalars().all() == ["ketua"]
    row = audit_rows(app)[-1]
    assert (row.action, row.outcome, row.detail) == (
        "users.create",
        "denied",
        "password change required",
    )


def test_a_login_post_while_logged_in_is_no_login(app, client, login_as):
    login_as(Role.TREASURER)
    response = post(client, "/auth/login", {"username": "x", "password": "y"})
    assert response.headers["Location"] == "/"
    row = audit_rows(app)[-1]
    assert (row.action, row.outcome, row.detail) == ("auth.login", "failure", "already logged in")


def test_an_unknown_username_is_audited_without_the_typed_text(app, client):
    login(client, "tiga-ekor-kambing-di-sawah", "apa-saja-lah")
    (row,) = audit_rows(app)
    assert (row.actor, row.outcome, row.detail) == (None, "failure", "unknown username")
