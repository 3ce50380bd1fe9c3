"""Services for users: login attempts and throttling, creation, roles, passwords.

The services run in a POST's request context, as the app runs them: a GET's transaction
only reads (READ ONLY on PostgreSQL; see `coop_app.db.wants_write_lock`).
"""

import secrets
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop_app.auth import services
from coop_app.auth.models import LoginSession, LoginThrottle, User
from coop_app.auth.passwords import verify_password
from coop_app.auth.roles import Role
from coop_app.db import utcnow
from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from tests.helpers import PASSWORD, only_postgres

WRONG = "bukan-kata-sandinya-99"


def _user(name: str) -> User:
    return db.session.execute(sa.select(User).where(User.username == name)).scalar_one()


def _fail(username: str, password: str = WRONG) -> str:
    """One failed attempt, committed as the login view does; returns the message."""
    with pytest.raises(services.LoginRefused) as refused:
        services.attempt_login(username, password)
    db.session.commit()
    return refused.value.message


def test_right_credentials_return_the_user_case_insensitively(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        assert services.attempt_login("  Bendahara ", PASSWORD).username == "bendahara"


def test_unknown_user_and_wrong_password_get_the_same_message(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        assert _fail("bendahara") == _fail("nobody-here") == "Nama pengguna atau kata sandi salah."


def test_failures_lock_the_username_with_growing_waits(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        for _ in range(services.FREE_ATTEMPTS - 1):
            _fail("bendahara")
        assert (
            db.session.get(LoginThrottle, services.throttle_key("bendahara")).locked_until is None
        )
        _fail("bendahara")
        throttle = db.session.get(LoginThrottle, services.throttle_key("bendahara"))
        wait = throttle.locked_until - throttle.last_failure_at
        assert wait == timedelta(seconds=services.FIRST_LOCK_SECONDS)
        message = _fail("bendahara", PASSWORD)  # even the right password waits
        assert message.startswith("Terlalu banyak percobaan gagal.")


def test_backoff_doubles_and_is_capped():
    waits = [services._lock_seconds(n) for n in range(4, 14)]
    assert waits[:6] == [0, 30, 60, 120, 240, 480]
    assert waits[-1] == services.MAX_LOCK_SECONDS == 900


def test_the_lock_holds_across_workers(make_app, make_user):
    """Two app instances on one database stand for two gunicorn workers."""
    worker_a, worker_b = make_app(), make_app()
    make_user(Role.TREASURER, "bendahara")
    with worker_a.test_request_context(method="POST"):
        for _ in range(services.FREE_ATTEMPTS):
            _fail("bendahara")
    with worker_b.test_request_context(method="POST"):
        assert _fail("bendahara", PASSWORD).startswith("Terlalu banyak percobaan gagal.")


def test_unknown_usernames_are_throttled_too(app):
    with app.test_request_context(method="POST"):
        for _ in range(services.FREE_ATTEMPTS):
            _fail("tebak-tebakan")
        assert (
            db.session.get(LoginThrottle, services.throttle_key("tebak-tebakan")).locked_until
            is not None
        )


def test_a_success_clears_the_failure_count(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        _fail("bendahara")
        services.attempt_login("bendahara", PASSWORD)
        db.session.commit()
        assert db.session.get(LoginThrottle, services.throttle_key("bendahara")) is None


def test_an_expired_lock_lets_the_user_try_again(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        for _ in range(services.FREE_ATTEMPTS):
            _fail("bendahara")
        db.session.get(LoginThrottle, services.throttle_key("bendahara")).locked_until = (
            utcnow() - timedelta(seconds=1)
        )
        db.session.commit()
        assert services.attempt_login("bendahara", PASSWORD).username == "bendahara"


def test_deactivated_users_cannot_log_in(app, make_user):
    make_user(Role.TREASURER, "bendahara", active=False)
    with app.test_request_context(method="POST"):
        assert _fail("bendahara", PASSWORD) == "Akun ini sudah dinonaktifkan. Hubungi pengurus."


def test_create_user_without_password_makes_a_temporary_one_to_change(app):
    with app.test_request_context(method="POST"):
        user, temporary = services.create_user(
            username="Pelatih.Desa", full_name=" Dewi Lestari ", role=Role.TRAINER
        )
        db.session.commit()
        assert user.username == "pelatih.desa"
        assert user.full_name == "Dewi Lestari"
        assert user.must_change_password
        assert verify_password(user.password_hash, temporary)
        assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("username", ["ab", "spasi di tengah", "-awal", "x" * 65, "nama<script>"])
def test_create_user_refuses_bad_usernames(app, username):
    with app.test_request_context(method="POST"):
        with pytest.raises(DomainError, match="Nama pengguna harus 3 sampai 64 karakter"):
            services.create_user(username=username, full_name="X", role=Role.MEMBER)
        assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 0


def test_create_user_refuses_a_taken_username_and_a_weak_password(app, make_user):
    make_user(Role.MEMBER, "anggota")
    with app.test_request_context(method="POST"):
        with pytest.raises(DomainError, match="sudah dipakai"):
            services.create_user(username="ANGGOTA", full_name="X", role=Role.MEMBER)
        with pytest.raises(DomainError, match="terlalu umum"):
            services.create_user(
                username="baru", full_name="X", role=Role.MEMBER, password="password123"
            )


def test_role_change_is_refused_on_a_stale_form(app, make_user):
    make_user(Role.TRAINER, "pelatih")
    with app.test_request_context(method="POST"):
        user = _user("pelatih")
        loaded_version = user.version
        services.update_user(
            user, full_name="Dewi", role=Role.MEMBER, expected_version=loaded_version
        )
        db.session.commit()
        with pytest.raises(StaleEditError):
            services.update_user(
                user, full_name="Lain", role=Role.ADMIN, expected_version=loaded_version
            )
        db.session.rollback()
        assert (_user("pelatih").role, _user("pelatih").full_name) == ("member", "Dewi")


def test_a_form_without_a_version_is_stale(app, make_user):
    make_user(Role.TRAINER, "pelatih")
    with app.test_request_context(method="POST"), pytest.raises(StaleEditError):
        services.reset_password(_user("pelatih"), expected_version=None)


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(app, make_user):
    make_user(Role.ADMIN, "ketua")
    make_user(Role.ADMIN, "wakil", active=False)
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        ketua, bendahara = _user("ketua"), _user("bendahara")
        with pytest.raises(DomainError, match="paling sedikit satu administrator aktif"):
            services.update_user(
                ketua, full_name="Ketua", role=Role.MEMBER, expected_version=ketua.version
            )
        with pytest.raises(DomainError, match="paling sedikit satu administrator aktif"):
            services.set_active(ketua, active=False, by=bendahara, expected_version=ketua.version)


def test_admins_cannot_deactivate_themselves(app, make_user):
    make_user(Role.ADMIN, "ketua")
    make_user(Role.ADMIN, "wakil")
    with app.test_request_context(method="POST"):
        ketua = _user("ketua")
        with pytest.raises(DomainError, match="akun Anda sendiri"):
            services.set_active(ketua, active=False, by=ketua, expected_version=ketua.version)


def _open_sessions(username: str) -> int:
    user = _user(username)
    query = sa.select(sa.func.count()).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    return db.session.execute(query).scalar()


def _log_in_twice(username: str) -> None:
    user = _user(username)
    for _ in range(2):
        db.session.add(LoginSession(user=user, token_hash=secrets.token_hex(32)))
    db.session.commit()


def test_deactivation_and_password_reset_end_every_session(app, make_user):
    make_user(Role.ADMIN, "ketua")
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        _log_in_twice("bendahara")
        user = _user("bendahara")
        temporary = services.reset_password(user, expected_version=user.version)
        db.session.commit()
        assert _open_sessions("bendahara") == 0
        assert user.must_change_password and verify_password(user.password_hash, temporary)
        _log_in_twice("bendahara")
        services.set_active(user, active=False, by=_user("ketua"), expected_version=user.version)
        db.session.commit()
        assert _open_sessions("bendahara") == 0 and not _user("bendahara").active


def test_changing_ones_password_checks_the_current_one_and_the_rules(app, make_user):
    make_user(Role.MEMBER, "anggota", must_change_password=True)
    with app.test_request_context(method="POST"):
        user = _user("anggota")
        with pytest.raises(DomainError, match="Kata sandi sekarang salah"):
            services.change_own_password(user, current=WRONG, new="kata-sandi-baru-ku")
        with pytest.raises(DomainError, match="harus berbeda"):
            services.change_own_password(user, current=PASSWORD, new=PASSWORD)
        with pytest.raises(DomainError, match="paling sedikit 8 karakter"):
            services.change_own_password(user, current=PASSWORD, new="pendek")
        _log_in_twice("anggota")
        services.change_own_password(user, current=PASSWORD, new="kata-sandi-baru-ku")
        db.session.commit()
        assert verify_password(user.password_hash, "kata-sandi-baru-ku")
        assert not user.must_change_password
        assert _open_sessions("anggota") == 0


@only_postgres
def test_a_concurrent_edit_between_check_and_save_is_stale_not_an_error(make_app, make_user):
    """Two workers load the same user; the second to write gets the friendly refusal.

    PostgreSQL only: on SQLite a POST takes the write lock at BEGIN, so the second
    worker waits for the first to finish and then sees its version on the form check.
    """
    worker_a, worker_b = make_app(), make_app()
    make_user(Role.TRAINER, "pelatih")
    with worker_a.test_request_context(method="POST"):
        user_a = _user("pelatih")
        with worker_b.test_request_context(method="POST"):
            user_b = _user("pelatih")
            services.update_user(
                user_b, full_name="B", role=Role.MEMBER, expected_version=user_b.version
            )
            db.session.commit()
        with pytest.raises(StaleEditError):
            services.update_user(
                user_a, full_name="A", role=Role.ADMIN, expected_version=user_a.version
            )
        db.session.rollback()
        assert (_user("pelatih").full_name, _user("pelatih").role) == ("B", "member")


def test_old_failures_are_forgotten(app, make_user):
    make_user(Role.TREASURER, "bendahara")
    with app.test_request_context(method="POST"):
        for _ in range(services.FREE_ATTEMPTS):
            _fail("bendahara")
        _fail("orang-lain")
        month_ago = utcnow() - timedelta(days=30)
        for throttle in db.session.execute(sa.select(LoginThrottle)).scalars():
            throttle.last_failure_at = month_ago
            throttle.locked_until = None
        db.session.commit()
        _fail("bendahara")  # a typo a month later
        throttle = db.session.get(LoginThrottle, services.throttle_key("bendahara"))
        assert (throttle.failures, throttle.locked_until) == (1, None)
        assert db.session.get(LoginThrottle, services.throttle_key("orang-lain")) is None


def test_a_password_typed_as_username_is_never_stored(app):
    with app.test_request_context(method="POST"):
        _fail("tiga-ekor-kambing-di-sawah")
        keys = db.session.execute(sa.select(LoginThrottle.key)).scalars().all()
    assert keys == [services.throttle_key("tiga-ekor-kambing-di-sawah")]
    assert "kambing" not in keys[0]


def test_unknown_usernames_still_cost_a_password_check(app, monkeypatch):
    checked = []
    real_verify = services.verify_password
    monkeypatch.setattr(
        services, "verify_password", lambda h, p: checked.append(h) or real_verify(h, p)
    )
    with app.test_request_context(method="POST"):
        _fail("tidak-ada-orangnya")
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


def test_wrong_current_passwords_are_throttled_like_logins(app, make_user):
    make_user(Role.MEMBER, "anggota")
    with app.test_request_context(method="POST"):
        user = _user("anggota")
        for _ in range(services.FREE_ATTEMPTS):
            with pytest.raises(services.LoginRefused, match="Kata sandi sekarang salah"):
                services.change_own_password(user, current=WRONG, new="kata-sandi-baru-ku")
            db.session.commit()
        with pytest.raises(services.LoginRefused, match="Terlalu banyak percobaan gagal"):
            services.change_own_password(user, current=PASSWORD, new="kata-sandi-baru-ku")


@only_postgres
def test_two_admins_cannot_remove_each_other_at_the_same_moment(make_app, make_user):
    """Board member A demotes herself while B deactivates A's colleague, at once."""
    make_user(Role.ADMIN, "ketua")
    make_user(Role.ADMIN, "wakil")
    worker_a, worker_b = make_app(), make_app()
    outcome = {}

    def deactivate_wakil():
        with worker_b.test_request_context(method="POST"):
            wakil = _user("wakil")
            try:
                services.set_active(
                    wakil, active=False, by=_user("ketua"), expected_version=wakil.version
                )
                db.session.commit()
                outcome["b"] = "deactivated"
            except DomainError as refused:
                db.session.rollback()
                outcome["b"] = refused.message

    with worker_a.test_request_context(method="POST"):
        ketua = _user("ketua")
        services.update_user(
            ketua, full_name="Ketua", role=Role.MEMBER, expected_version=ketua.version
        )
        other = threading.Thread(target=deactivate_wakil)
        other.start()
        other.join(timeout=1)
        assert other.is_alive(), "the second board member waits for the first"
        db.session.commit()
    other.join(timeout=10)
    assert outcome["b"] == "Koperasi harus tetap punya paling sedikit satu administrator aktif."
