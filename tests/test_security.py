"""Security headers, CSRF, request size limit and the Indonesian error pages."""

import pytest
import sqlalchemy as sa

from coop_app.auth.access import public
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from tests.helpers import audit_rows, login, post

EXPECTED_CSP = {
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}


def test_every_page_carries_the_security_headers(client):
    headers = client.get("/auth/login").headers
    assert set(headers["Content-Security-Policy"].split("; ")) == EXPECTED_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # local http://127.0.0.1 use


def test_production_sends_hsts_over_https(make_app):
    app = make_app(COOP_ENV="production", FORCE_HTTPS=False, SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/auth/login", base_url="https://coop.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_authenticated_pages_are_never_cached(client, login_as):
    login_as(Role.TREASURER)
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/auth/password").headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    assert client.get("/static/css/app.css").headers.get("Cache-Control") != "no-store"


def test_a_post_without_csrf_token_is_refused_in_indonesian_and_changes_nothing(
    app, client, login_as
):
    login_as(Role.ADMIN, "ketua")
    response = client.post(
        "/admin/users/new", data={"username": "penyusup", "full_name": "X", "role": "admin"}
    )
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa atau tidak valid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(User.username)).scalars().all() == ["ketua"]
    assert audit_rows(app)[-1].status_code == 400


def test_a_forged_csrf_token_is_refused(client, make_user):
    make_user(Role.TREASURER, "bendahara")
    response = client.post(
        "/auth/login",
        data={"username": "bendahara", "password": "x", "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_a_request_over_the_size_limit_gets_413_in_indonesian(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    response = post(client, "/auth/login", {"username": "x" * 1025, "password": "y"})
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)


def test_a_request_exactly_at_the_limit_is_read(make_app):
    app = make_app(MAX_CONTENT_LENGTH=4096)
    client = app.test_client()
    assert post(client, "/auth/login", {"username": "x" * 100, "password": "y"}).status_code == 422


def test_unknown_url_gets_the_indonesian_404_page(client):
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


def test_forbidden_page_is_403_in_indonesian_and_audited(app, client, login_as):
    login_as(Role.TRAINER, "pelatih")
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "Akses ditolak" in response.get_data(as_text=True)
    row = audit_rows(app)[-1]
    assert (row.actor, row.outcome, row.path) == ("pelatih", "denied", "/audit/")


@pytest.fixture
def failing_app(make_app):
    app = make_app()

    @public
    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/explode", "explode", explode, methods=["GET", "POST"])
    return app


def test_an_unexpected_error_shows_a_code_and_never_a_traceback(failing_app, caplog):
    response = failing_app.test_client().get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Terjadi kesalahan" in page
    assert "Traceback" not in page and "hunter2" not in page and "RuntimeError" not in page
    code = page.split('data-testid="error-code">')[1].split("<")[0]
    assert len(code) == 8
    assert any(code in record.getMessage() for record in caplog.records), "code is in the log"


def test_an_error_in_a_post_is_audited_as_an_error(failing_app):
    client = failing_app.test_client()
    response = post(client, "/explode", token_page="/auth/login")
    assert response.status_code == 500
    assert audit_rows(failing_app)[-1].outcome == "error"


def test_wrong_credentials_change_nothing_but_the_failure_count(app, client, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.app_context():
        before = db.session.execute(sa.select(User)).scalar_one().version
    login(client, "bendahara", "salah-salah-salah")
    with app.app_context():
        assert db.session.execute(sa.select(User)).scalar_one().version == before


def test_a_nul_byte_in_a_form_is_refused_in_indonesian_and_audited(app, client):
    response = post(
        client, "/auth/login", {"username": "ketua\x00", "password": "x"}, token_page="/auth/login"
    )
    assert response.status_code == 400
    assert "Kiriman Anda berisi karakter yang tidak diizinkan." in response.get_data(as_text=True)
    row = audit_rows(app)[-1]
    assert (row.action, row.status_code) == ("auth.login", 400)


def test_a_nul_byte_in_a_query_is_refused(client, login_as):
    login_as(Role.SUPERVISOR)
    assert client.get("/audit/?actor=%00").status_code == 400


def test_other_client_errors_keep_their_status_and_are_not_server_errors(client, caplog):
    response = client.get("/static/css/app.css", headers={"Range": "bytes=999999-"})
    assert response.status_code == 416
    assert "Permintaan tidak valid" in response.get_data(as_text=True)
    assert not [record for record in caplog.records if "unhandled error" in record.getMessage()]


def test_requests_for_pages_that_do_not_exist_leave_no_audit_rows(app, client):
    client.get("/tidak-ada")
    client.post("/tidak-ada", data={"x": "y"})
    assert audit_rows(app) == []


def test_anonymous_requests_are_rate_limited_but_logged_in_users_are_not(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, ANONYMOUS_RATE_LIMIT="5 per minute")
    stranger = app.test_client()
    statuses = [stranger.get("/").status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(audit_rows(app)) == 5, "the refused flood adds no more rows"
    make_user(Role.TREASURER, "bendahara")
    member = app.test_client()
    member.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    login(member, "bendahara")
    assert {member.get("/").status_code for _ in range(10)} == {200}
