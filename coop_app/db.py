"""Database base: naming convention, SQLite settings, reading and writing transactions,
append-only rows."""

import logging
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from sqlalchemy import event, orm
from sqlalchemy.dialects import postgresql, sqlite

#: Every constraint gets a predictable name, so that migrations can alter it later
#: (SQLite batch mode cannot drop an unnamed constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

log = logging.getLogger(__name__)

#: Whole rupiah. Never Numeric on SQLite (it silently rounds large values), never float.
Money = sa.BigInteger

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a committed posting survives a power cut, not only an application crash.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
)


def utcnow() -> datetime:
    """Timezone-aware current time in UTC; times are stored in UTC, shown in Asia/Jakarta."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def dialect_insert(session):
    """The INSERT of the session's database, which knows ON CONFLICT (an atomic upsert)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def reserve_ids(session, table: sa.Table, count: int) -> list[int]:
    """Ids for `count` new rows of `table` (an integer primary key "id"), ascending, that no
    other transaction can take, for one many-row INSERT with the ids written out.

    PostgreSQL: drawn from the table's own sequence, as an INSERT draws them. SQLite: the
    ids after the largest one, which is what SQLite itself gives new rows; it has one
    writer at a time and this transaction is writing (a CLI command or a POST begins with
    BEGIN IMMEDIATE, and a transaction that has only read cannot start writing once
    another has committed), so no other row takes them meanwhile, and the primary key
    would refuse one that did. (Asking SQLite to return generated ids in the rows' order
    makes SQLAlchemy insert one row per statement.)
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        drawn = session.execute(
            sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
        ).scalars()
        return sorted(drawn)
    largest = session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(largest + 1, largest + 1 + count))


def refresh_statistics(engine: sa.Engine) -> None:
    """After a bulk load (the demo seed, a restore), let PostgreSQL's planner see the tables
    as they now are: ANALYZE, in a transaction of its own.

    Until then it has no statistics and guesses (autovacuum would analyze the tables in
    time; where it is off, never): on the district dataset, reading a loan's repayments
    took 3.5 ms instead of 0.3 ms, and a changed query took a whole second. SQLite is
    left as it is: its queries are written for the plans it makes without statistics."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def wants_write_lock() -> bool:
    """Whether a transaction starting now may write: SQLite takes its write lock at once,
    PostgreSQL makes any other transaction READ ONLY.

    POST requests and CLI commands write; GET requests only read unless a view marks
    `g.write_intent` before its transaction begins (the audit log and the idle-session
    check roll back first, then mark), and a command reads inside `reading()`. Taking the
    lock at BEGIN avoids "database is locked" when a read transaction later tries to write.
    """
    if not has_request_context():
        return not g.get("read_only", False)
    return request.method not in SAFE_METHODS or g.get("write_intent", False)


@contextmanager
def reading(session):
    """Run a command's long read (e.g. checking the books) in its own read transaction, so
    that SQLite writers are not held up meanwhile; the transaction ends with the block."""
    session.rollback()
    g.read_only = True
    try:
        yield
    finally:
        session.rollback()
        g.read_only = False


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write_lock() else "BEGIN")


def _on_postgresql_begin(connection) -> None:
    """Make a transaction that should only read READ ONLY, and note it for the request.

    PostgreSQL then refuses any write in it, so a request that reads may end its
    transaction with COMMIT (`end_reading`) knowing that nothing is committed."""
    read_only = not wants_write_lock()
    if read_only:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    if has_request_context():
        g.reading_transaction = read_only


def end_reading(exc: BaseException | None) -> None:
    """teardown_request: end a request's READ ONLY transaction with COMMIT.

    Ended by the session's ROLLBACK instead, psycopg would forget the statements it has
    prepared on the connection (it does on every rollback), and PostgreSQL would plan each
    query of each page again: measured on the district dataset, the member page's record
    took 1.4 ms to plan and 0.3 ms to run. A READ ONLY transaction has written nothing,
    so its COMMIT changes nothing. A failed request is rolled back as before."""
    from coop_app.extensions import db

    if exc is not None or not g.pop("reading_transaction", False):
        return
    if not db.session.registry.has() or not db.session().in_transaction():
        return
    try:
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("could not end the read of %s %s", request.method, request.path)


def configure_engine(engine: sa.Engine) -> None:
    """Apply the SQLite pragmas and transaction mode (SQLAlchemy's pysqlite recipe), or
    PostgreSQL's read-only transactions for reading."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _on_postgresql_begin)
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)


def init_app(app: Flask) -> None:
    """Configure the app's engine once it exists."""
    from coop_app.extensions import db

    with app.app_context():
        configure_engine(db.engine)
    app.teardown_request(end_reading)


class AppendOnly:
    """Mixin for tables whose rows are written once and never changed or deleted."""


class AppendOnlyViolation(RuntimeError):
    """An attempt to change or delete a row of an append-only table."""


@event.listens_for(orm.Session, "before_flush")
def _refuse_append_only_changes(session, _flush_context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AppendOnly) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only")


PG_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION coop_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$
"""


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """DDL for triggers that refuse UPDATE and DELETE (and TRUNCATE) on `table`."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            PG_REFUSE_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION coop_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION coop_refuse_change()",
        ]
    raise ValueError(f"unsupported database dialect: {dialect}")


def drop_append_only_ddl(dialect: str, table: str) -> list[str]:
    """DDL that removes the triggers of `append_only_ddl` (for downgrades)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]
