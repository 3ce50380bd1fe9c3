"""Online backups of the database with their control totals, and restoring them.

A backup is two files: DEST (a SQLite file, or a PostgreSQL custom-format dump) and
DEST.totals.json, the manifest: the file's SHA-256, the schema revision, whether the copy's
books verify, and the control totals of exactly the state that was copied.

SQLite: the sqlite3 backup API copies every page in one step from a connection of its own,
inside one read transaction: with WAL, writers go on meanwhile and the copy is that one
snapshot. The copy is then opened as a database of its own (a scratch app) to verify its
books and compute its totals, so the totals are the copy's, not the live database's.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the books are verified and
the totals computed in that transaction, and `pg_dump --snapshot` dumps that same snapshot
while the transaction stays open, so dump and totals are one state although others write.
The dump is then read back with `pg_restore --list`.

Restore refuses, before changing anything, a file whose checksum or format is wrong, a
backup of the other database kind or of another schema revision, and a target that has
data (unless `force`). It then replaces the whole database (SQLite: backup API into the
target; PostgreSQL: `pg_restore --clean --single-transaction`, so a failure changes
nothing, then ANALYZE for its planner), verifies the restored books and hands back their
totals to compare. The checks catch damage, not malice: restore only backups you made (a
dump runs its own SQL).
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from coop_app.db import refresh_statistics
from coop_app.extensions import db
from coop_app.ledger.verify import Report, verify_books

FORMAT = 1
TOTALS_SUFFIX = ".totals.json"
#: Tables whose rows mean the database is in use (a restore would replace them).
DATA_TABLES = ("user_account", "member", "journal_entry")
#: PostgreSQL restores wait at most this long for a lock instead of hanging on a busy app.
LOCK_TIMEOUT = "30s"


class BackupError(Exception):
    """A backup or restore was refused or failed; `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Restored:
    """A finished restore: the restored books' report and the totals the backup promised."""

    report: Report
    expected: dict

    @property
    def differences(self) -> list[str]:
        return totals_differences(self.expected, self.report.totals)


def totals_path(backup: Path) -> Path:
    return backup.with_name(backup.name + TOTALS_SUFFIX)


# --- backup -------------------------------------------------------------------------------


def backup_database(dest: Path) -> dict:
    """Write an online backup to `dest` and its manifest beside it; return the manifest.

    Never overwrites: an existing `dest` or manifest is refused. Partial files are removed
    when anything fails.
    """
    dest = Path(dest)
    if not dest.parent.is_dir():
        raise BackupError(f"The folder {dest.parent} does not exist.")
    if dest.exists() or totals_path(dest).exists():
        raise BackupError(f"{dest} already exists; choose a new name for the backup.")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        if _dialect() == "sqlite":
            report, schema = _backup_sqlite(partial)
        else:
            report, schema = _backup_postgres(partial)
        manifest = _manifest(partial, report, schema)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    _write_json(totals_path(dest), manifest)
    return manifest


def _manifest(path: Path, report: Report, schema: str | None) -> dict:
    return {
        "format": FORMAT,
        "database": _dialect(),
        "schema": schema,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": _sha256(path),
        "size": path.stat().st_size,
        "books_verify": report.ok,
        "problems": report.problem_count,
        "totals": report.totals,
    }


def _backup_sqlite(partial: Path) -> tuple[Report, str | None]:
    source = db.engine.raw_connection()  # not the session's: it holds no transaction
    try:
        copy = sqlite3.connect(partial)
        try:
            source.driver_connection.backup(copy)  # pages=-1: all of them, one snapshot
        finally:
            copy.close()
    finally:
        source.close()
    checked = _verify_copy(partial)
    _finish_sqlite_copy(partial)
    return checked


def _verify_copy(path: Path) -> tuple[Report, str | None]:
    """The books' report and schema revision of the SQLite file at `path` (an app of its own)."""
    from coop_app import create_app

    config = dict(current_app.config) | {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "INSTANCE_PATH": current_app.instance_path,
    }
    scratch = create_app(config)
    with scratch.app_context():
        try:
            return verify_books(), _schema_revision()
        finally:
            db.session.rollback()
            db.engine.dispose()


def _finish_sqlite_copy(path: Path) -> None:
    """Make the copy one self-contained file (no WAL) and check it as restore will."""
    copy = sqlite3.connect(path, isolation_level=None)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    _check_sqlite_file(path)


def _backup_postgres(partial: Path) -> tuple[Report, str | None]:
    pg_dump = _tool("pg_dump")
    with current_app.app_context():  # a session and connection of its own
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = db.session.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        try:
            checked = verify_books(), _schema_revision()
            _run(
                [
                    *(pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}"),
                    *("--no-password", "--dbname", _conninfo()),
                ]
            )
        finally:
            db.session.rollback()
    _check_dump(partial)
    return checked


# --- restore ------------------------------------------------------------------------------


def restore_database(src: Path, *, force: bool = False) -> Restored:
    """Replace the database with the backup `src`, then verify the restored books.

    Ends the session's transaction (the database is about to be replaced). Refuses
    before changing anything; see the module docstring.
    """
    src = Path(src)
    manifest = read_manifest(src)
    if _dialect() == "sqlite":
        _check_sqlite_file(src)
    else:
        _check_dump(src)
    if not force and _has_data():
        raise BackupError(
            "The database already has data; restoring would replace it. "
            "Restore into an empty database, or use --force to replace it."
        )
    db.session.rollback()
    if _dialect() == "sqlite":
        _restore_sqlite(src)
    else:
        _restore_postgres(src)
    db.engine.dispose()
    refresh_statistics(db.engine)
    return Restored(verify_books(), manifest["totals"])


def read_manifest(src: Path) -> dict:
    """The backup's manifest, refused unless it fits this app and the file's checksum."""
    path = totals_path(src)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"The control totals {path} are missing.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"The control totals {path} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a control totals file of this application.")
    if not isinstance(manifest.get("totals"), dict):
        raise BackupError(f"{path} has no control totals.")
    if manifest.get("database") != _dialect():
        raise BackupError(
            f"The backup is of a {manifest.get('database')} database; this one is {_dialect()}."
        )
    if manifest.get("schema") != _schema_head():
        raise BackupError(
            f"The backup has schema revision {manifest.get('schema')}; this version of the "
            f"application expects {_schema_head()}. Restore it with the matching version."
        )
    if manifest.get("sha256") != _sha256(src):
        raise BackupError(f"{src} is damaged: its checksum differs from {path.name}.")
    return manifest


def _has_data() -> bool:
    connection = db.session.connection()
    inspector = sa.inspect(connection)
    for table in DATA_TABLES:
        if not inspector.has_table(table):
            continue  # a database never migrated is empty
        if connection.execute(
            sa.select(sa.text("1")).select_from(sa.table(table)).limit(1)
        ).first():
            return True
    return False


def _restore_sqlite(src: Path) -> None:
    source = _open_read_only(src)
    target = db.engine.raw_connection()
    try:
        source.backup(target.driver_connection)
    finally:
        target.close()
        source.close()


def _restore_postgres(src: Path) -> None:
    db.engine.dispose()  # our own idle connections must not hold the tables
    _run(
        [
            *(_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-acl"),
            *("--single-transaction", "--exit-on-error", "--no-password"),
            *("--dbname", _conninfo(), str(src)),
        ],
        PGOPTIONS=f"-c lock_timeout={LOCK_TIMEOUT}",
    )


# --- checking files -----------------------------------------------------------------------


def _open_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.execute("PRAGMA trusted_schema=OFF")  # run nothing the file's schema defines
    return connection


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database of this application."""
    try:
        connection = _open_read_only(path)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error}).") from None
    if result != ["ok"]:
        raise BackupError(f"{path} fails the integrity check: {'; '.join(result[:5])}")
    if not {"alembic_version", "journal_entry", "journal_line"} <= tables:
        raise BackupError(f"{path} is not a backup of this application's database.")


def _check_dump(path: Path) -> None:
    """Refuse a file that `pg_restore` cannot read or that lacks the books' tables."""
    listing = _run([_tool("pg_restore"), "--list", str(path)])
    for table in ("alembic_version", "journal_entry", "journal_line"):
        if not re.search(rf"TABLE DATA \S+ {table} ", listing):
            raise BackupError(f"{path} is not a backup of this application's database.")


# --- helpers ------------------------------------------------------------------------------


def totals_differences(expected: dict, actual: dict, prefix: str = "") -> list[str]:
    """Each control total that differs, as 'name: backup X, restored Y'."""
    differences = []
    for key in sorted(set(expected) | set(actual), key=str):
        want, got = expected.get(key), actual.get(key)
        if isinstance(want, dict) and isinstance(got, dict):
            differences += totals_differences(want, got, f"{prefix}{key}.")
        elif want != got:
            differences.append(f"{prefix}{key}: backup {want}, restored {got}")
    return differences


def _dialect() -> str:
    return db.engine.dialect.name


def _schema_revision() -> str | None:
    """The migration the database is at (in the session's snapshot)."""
    return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _schema_head() -> str | None:
    directory = current_app.extensions["migrate"].directory
    return ScriptDirectory(directory).get_current_head()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL client tools "
            "(the same major version as the server or newer)."
        )
    return path


def _conninfo() -> str:
    """The database URL for libpq tools, without its password (that goes in PGPASSWORD)."""
    url = db.engine.url.set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _run(args: list[str], **env: str) -> str:
    """Run a PostgreSQL tool (no shell); its error output becomes the BackupError."""
    if db.engine.url.password:
        env["PGPASSWORD"] = db.engine.url.password
    result = subprocess.run(  # noqa: S603  (a fixed tool and our own arguments, no shell)
        args, capture_output=True, text=True, env=os.environ | env, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout
