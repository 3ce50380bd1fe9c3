"""Helpers for tests: CSRF-aware posting, logging in, reading the audit log."""

import re
import threading

import pytest
import sqlalchemy as sa

from coop_app.extensions import db

#: Run a database test on one database only (it checks something only that one has).
only_sqlite = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
only_postgres = pytest.mark.parametrize("database_uri", ["postgresql"], indirect=True)

#: The password every test user gets (long enough, not on the common list).
PASSWORD = "tiga-ekor-kambing-di-sawah"

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    """Read a CSRF token from a page, as a browser would."""
    response = client.get(path, follow_redirects=True)
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client, path: str, data: dict | None = None, token_page: str = "/", **kwargs):
    """POST with a valid CSRF token taken from `token_page`."""
    form = dict(data or {})
    form.setdefault("csrf_token", csrf_token(client, token_page))
    return client.post(path, data=form, **kwargs)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the login form; returns the response."""
    return post(
        client,
        "/auth/login",
        {"username": username, "password": password},
        token_page="/auth/login",
    )


def audit_rows(app) -> list:
    """Every audit row, oldest first."""
    from coop_app.auth.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()
        return rows.all()


def wait_until_a_query_waits_for_a_lock(app) -> None:
    """Poll PostgreSQL (on a connection of its own) until some query waits for a lock."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            for _ in range(3000):  # a bound, so that a broken claim fails instead of hanging
                if connection.execute(waiting).scalar():
                    return
                connection.rollback()
                threading.Event().wait(0.01)
        pytest.fail("no query ever waited for a lock")
    finally:
        engine.dispose()


def planner_statistics(app, table: str) -> int | None:
    """How many of a table's columns PostgreSQL has statistics for (ANALYZE writes them;
    loading rows or building an index does not, and autovacuum is off on the test server);
    None on SQLite, which keeps none unless asked."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        return db.session.execute(
            sa.text("SELECT count(*) FROM pg_stats WHERE tablename = :table"), {"table": table}
        ).scalar_one()
