"""The database base: SQLite settings, write transactions, migrations, append-only rows."""

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import downgrade, upgrade
from sqlalchemy import event

from coop_app import create_app
from coop_app.auth.models import AuditEvent, User
from coop_app.auth.roles import Role
from coop_app.config import config_for_tests
from coop_app.db import AppendOnlyViolation
from coop_app.extensions import db
from tests.helpers import audit_rows, login, only_postgres, only_sqlite


@only_sqlite
def test_sqlite_connections_get_the_durability_pragmas(app):
    with app.app_context():
        read = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert read("journal_mode") == "wal"
        assert read("synchronous") == 2  # FULL: a committed posting survives a power cut
        assert read("foreign_keys") == 1
        assert read("busy_timeout") == 15000


@only_sqlite
def test_post_requests_take_the_write_lock_at_begin_and_gets_do_not(app, client, make_user):
    username = make_user(Role.TREASURER)
    begins = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get("/auth/login")
        assert begins == [], "an anonymous GET of the login page needs no transaction"
        login(client, username)
        post_begins = list(begins)
        begins.clear()
        client.get("/")
        get_begins = list(begins)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert post_begins and all(b == "BEGIN IMMEDIATE" for b in post_begins)
    assert get_begins == ["BEGIN"]


@only_postgres
def test_a_page_reads_in_a_read_only_transaction_that_ends_by_commit(app, client, make_user):
    """A ROLLBACK would make psycopg forget its prepared statements (coop_app.db.end_reading)."""
    login(client, make_user(Role.TREASURER))
    ends = []
    with app.app_context():
        engine = db.engine
    record = {kind: (lambda conn, kind=kind: ends.append(kind)) for kind in ("commit", "rollback")}
    statements = []
    keep = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    for kind, listener in record.items():
        event.listen(engine, kind, listener)
    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert client.get("/").status_code == 200
    finally:
        for kind, listener in record.items():
            event.remove(engine, kind, listener)
        event.remove(engine, "before_cursor_execute", keep)
    assert statements[0] == "SET TRANSACTION READ ONLY" and len(statements) > 1
    assert ends == ["commit"]


@only_postgres
def test_a_get_that_has_not_said_it_writes_cannot_write(app, make_user):
    username = make_user(Role.TREASURER)
    rename = sa.update(User).where(User.username == username).values(full_name="Diubah")
    with app.test_request_context(), pytest.raises(sa.exc.InternalError, match="read-only"):
        db.session.execute(rename)
    with app.test_request_context():
        g.write_intent = True  # as the audit log and the idle-session check do, before writing
        db.session.execute(rename)
        db.session.commit()
    with app.app_context():
        renamed = db.session.execute(sa.select(User.full_name).filter_by(username=username))
        assert renamed.scalar_one() == "Diubah"


def test_migrations_leave_no_drift(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_drift_check_fails_when_the_schema_differs_from_the_models(app):
    with app.app_context():
        db.session.execute(sa.text("ALTER TABLE login_throttle ADD COLUMN stray INTEGER"))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code != 0


def test_migrations_go_down_to_empty_and_up_again(database_uri, tmp_path):
    app = create_app(config_for_tests(database_uri) | {"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        if db.engine.dialect.name == "postgresql":
            functions = db.session.execute(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'coop_refuse_change'")
            ).scalar()
            db.session.rollback()
            assert functions == 0
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"user_account", "audit_log", "login_session", "login_throttle"} <= tables
        db.engine.dispose()


def test_constraints_follow_the_naming_convention(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        assert inspector.get_pk_constraint("user_account")["name"] == "pk_user_account"
        uniques = {u["name"] for u in inspector.get_unique_constraints("user_account")}
        assert "uq_user_account_username" in uniques
        foreign = {f["name"] for f in inspector.get_foreign_keys("login_session")}
        assert foreign == {"fk_login_session_user_id_user_account"}


def _one_audit_row(app):
    with app.app_context():
        db.session.add(
            AuditEvent(action="test", outcome="success", status_code=200, method="GET", path="/")
        )
        db.session.commit()
    return audit_rows(app)[-1].id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ],
)
def test_database_refuses_to_change_audit_rows(app, statement):
    row_id = _one_audit_row(app)
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement), {"id": row_id})
        db.session.rollback()
        assert db.session.get(AuditEvent, row_id).action == "test"


def test_orm_refuses_to_change_or_delete_audit_rows(app):
    row_id = _one_audit_row(app)
    with app.app_context():
        row = db.session.get(AuditEvent, row_id)
        row.action = "forged"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, row_id))
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()


@only_postgres
def test_postgres_refuses_truncating_the_audit_log(app):
    _one_audit_row(app)
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("TRUNCATE audit_log"))
        db.session.rollback()
