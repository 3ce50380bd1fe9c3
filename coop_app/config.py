"""Configuration read from the environment at app creation, with safe local defaults."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path, production: bool, given: str | None) -> str:
    """Return SECRET_KEY from the environment, or a key generated once into instance/.

    Production refuses to start without an explicit key: a key generated on one machine
    would differ between app instances behind a proxy and log everyone out at random.
    """
    key = given or os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when COOP_ENV=production")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def database_url(url: str) -> str:
    """Accept the usual `postgresql://` URL and use the psycopg 3 driver we install."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict:
    """A PostgreSQL connection may be dropped by the server (a restart) while it waits in the
    pool, so it is checked before use; a SQLite file has no server, and the check would be
    one more statement on every request."""
    return {"pool_pre_ping": True} if url.startswith("postgresql") else {}


def build_config(instance_path: str, *, secret_key: str | None = None) -> dict:
    """Build the app's configuration from the environment (never at import time)."""
    instance = Path(instance_path)
    production = os.environ.get("COOP_ENV", "local") == "production"
    default_db = f"sqlite:///{instance / 'coop.db'}"
    return {
        "COOP_ENV": "production" if production else "local",
        #: The cooperative's name, printed on receipts.
        "COOP_NAME": os.environ.get("COOP_NAME", "Koperasi Purna Migran Sejahtera"),
        "SECRET_KEY": _secret_key(instance, production, secret_key),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL", default_db)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        #: Minutes without a request after which a login session ends.
        "IDLE_TIMEOUT_MINUTES": int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30")),
        #: Hours after login after which a session ends however active it is.
        "ABSOLUTE_TIMEOUT_HOURS": int(os.environ.get("ABSOLUTE_TIMEOUT_HOURS", "12")),
        # The CSRF token lives as long as the login session, which is itself bounded.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        #: Requests per address from people not logged in (a page is about six requests).
        "ANONYMOUS_RATE_LIMIT": os.environ.get("ANONYMOUS_RATE_LIMIT", "300 per minute"),
        #: Trust X-Forwarded-* from this many proxies (set behind nginx/caddy in production).
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "FORCE_HTTPS": production and _env_bool("FORCE_HTTPS", True),
        #: argon2id cost; tests lower it so that the suite stays fast.
        "PASSWORD_HASH_PARAMS": {"time_cost": 3, "memory_cost": 65536, "parallelism": 2},
        "MEMBER_NUMBER_PREFIX": os.environ.get("MEMBER_NUMBER_PREFIX", "KPM"),
    }


def config_for_tests(database_uri: str) -> dict:
    """Configuration used by the test suite: real database, cheap hashing, no rate limit."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(database_uri),
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1},
        "SECRET_KEY": "test-secret-key-not-for-production",
    }
