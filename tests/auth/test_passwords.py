"""Password rules, hashing and temporary passwords."""

import pytest

from coop_app.auth.passwords import (
    common_passwords,
    hash_password,
    password_problem,
    temporary_password,
    verify_password,
)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("pendek", "Kata sandi paling sedikit 8 karakter."),
        ("x" * 257, "Kata sandi paling banyak 256 karakter."),
        ("password", "Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain."),
        ("Bismillah", "Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain."),
        ("koperasi123", "Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain."),
        ("sriwahyuni", "Kata sandi tidak boleh sama dengan nama pengguna."),
    ],
)
def test_bad_passwords_are_refused_with_a_reason(app, password, problem):
    with app.test_request_context():
        assert password_problem(password, username="SriWahyuni") == problem


@pytest.mark.parametrize(
    "password",
    ["kambing makan rumput di sawah pak lurah", "8karakte", "ŚŁOŃ-zielony-4", "a" * 256],
)
def test_passphrases_and_any_characters_are_welcome_without_composition_rules(app, password):
    with app.test_request_context():
        assert password_problem(password, username="bendahara") is None


def test_the_common_list_is_bundled_and_large():
    words = common_passwords()
    assert len(words) > 8000
    assert {"12345678", "password", "bismillah"} <= words


def test_hashes_are_argon2id_and_verify(app):
    with app.app_context():
        hashed = hash_password("kata-sandi-ku-panjang")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "kata-sandi-ku-panjang")
        assert not verify_password(hashed, "kata-sandi-ku-panjanG")
        assert not verify_password("not a hash", "kata-sandi-ku-panjang")


def test_temporary_passwords_pass_the_rules_and_differ(app):
    with app.test_request_context():
        passwords = [temporary_password() for _ in range(300)]
    assert all(password_problem(password) is None for password in passwords)
    assert all(len(password.split("-")) == 5 for password in passwords)
    assert len(set(passwords)) == len(passwords)
