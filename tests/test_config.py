"""Configuration from the environment: the secret key, production safety, database URLs."""

import pytest

from coop_app.config import ConfigError, build_config, database_url


def test_a_local_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("COOP_ENV", raising=False)
    first = build_config(str(tmp_path))["SECRET_KEY"]
    second = build_config(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("COOP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        build_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()


def test_production_uses_the_given_key_and_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    config = build_config(str(tmp_path))
    assert config["SECRET_KEY"] == "k" * 64
    assert config["SESSION_COOKIE_SECURE"] and config["FORCE_HTTPS"]


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    uri = build_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert uri == f"sqlite:///{tmp_path / 'coop.db'}"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////x/coop.db", "sqlite:////x/coop.db"),
    ],
)
def test_database_urls_use_the_installed_driver(given, used):
    assert database_url(given) == used
