"""`flask backup` and `flask restore`: an online backup restores to books that verify."""

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from coop_app import create_app
from coop_app.auth.models import AuditEvent, User
from coop_app.config import config_for_tests, database_url
from coop_app.extensions import db
from coop_app.ledger.backup import totals_path
from coop_app.ledger.models import JournalLine
from coop_app.ledger.verify import control_totals
from coop_app.savings import services as savings
from coop_app.savings.models import SavingsAccount
from tests.helpers import only_postgres, only_sqlite, planner_statistics
from tests.ledger.test_verify import DEPOSITED, run, seed_books
from tests.savings.conftest import TODAY

#: Each background deposit, and how many threads make them.
AMOUNT = 1_000
THREADS = 2


class Depositors:
    """Threads that keep depositing into one savings account until stopped.

    `started` counts deposits about to be committed and `committed` those that were, so
    that a copy taken in between holds at least the one and at most the other.
    """

    def __init__(self, app, account_id: int):
        self.app, self.account_id = app, account_id
        self.started = self.committed = 0
        self.errors: list[str] = []
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, args=(n,)) for n in range(THREADS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _work(self, n: int) -> None:
        with self.app.test_request_context(method="POST"):
            user = db.session.execute(sa.select(User).filter_by(username="bendahara")).scalar_one()
            count = 0
            while not self.stopping.is_set():
                count += 1
                try:
                    self._deposit(user, f"writer-{n}-{count}")
                except Exception as error:  # reported by wait_for, which fails the test
                    db.session.rollback()
                    self._note(errors=repr(error))
                    return

    def _deposit(self, user, key: str) -> None:
        account = db.session.get(SavingsAccount, self.account_id)
        savings.deposit(account, amount=AMOUNT, on=TODAY, today=TODAY, by=user, key=key)
        self._note(started=1)
        db.session.commit()
        self._note(committed=1)

    def _note(self, started: int = 0, committed: int = 0, errors: str | None = None) -> None:
        with self.changed:
            self.started += started
            self.committed += committed
            if errors:
                self.errors.append(errors)
            self.changed.notify_all()

    def wait_for(self, committed: int) -> None:
        """Wait until `committed` deposits are in (a minute at most, as a safety net)."""
        with self.changed:
            reached = self.changed.wait_for(
                lambda: self.committed >= committed or self.errors, timeout=60
            )
        assert not self.errors, self.errors
        assert reached, "the depositors stopped making progress"


@pytest.fixture
def fresh_database(database_uri, tmp_path):
    """The URL of an empty database of the same kind (PostgreSQL: created, then dropped)."""
    if database_uri.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = sa.make_url(database_url(database_uri))
    name = f"{url.database}_restore"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.dispose()


@pytest.fixture
def app_on(tmp_path):
    """Build an app on another database (the machine the backup is restored on)."""
    apps = []

    def build(uri: str):
        config = config_for_tests(uri) | {"INSTANCE_PATH": str(tmp_path / "other-instance")}
        apps.append(create_app(config))
        return apps[-1]

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def totals_of(app) -> dict:
    with app.app_context():
        return control_totals()


def manifest_of(backup: Path) -> dict:
    return json.loads(totals_path(backup).read_text())


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.execute(sa.select(AuditEvent.action)).scalars().all()


def test_a_backup_taken_during_writes_restores_to_books_that_verify_and_tie(
    app, make_app, tmp_path, fresh_database, app_on
):
    account_id = seed_books(app)
    backup = tmp_path / "coop.backup"
    with Depositors(make_app(), account_id) as depositors:
        depositors.wait_for(5)
        committed_before = depositors.committed
        result = run(app, "backup", str(backup))
        started_after = depositors.started
        depositors.wait_for(depositors.committed + 5)  # the writers went on after it
    assert result.exit_code == 0, result.output
    assert "Control totals written to" in result.output
    manifest = manifest_of(backup)
    assert manifest["books_verify"] is True
    totals = manifest["totals"]
    copied = totals["entries"] - 2  # the background deposits in the copy
    assert committed_before <= copied <= started_after
    # One state of the books, not a mixture: every total agrees with the same deposits.
    assert totals["lines"] == 2 * totals["entries"]
    assert totals["debits"] == totals["credits"] == DEPOSITED + AMOUNT * copied
    assert totals["accounts"]["1101"] == totals["subledgers"]["savings"] == totals["debits"]
    assert totals_of(app)["entries"] > totals["entries"]
    assert "cli.backup" in audit_actions(app)

    target = app_on(fresh_database)
    restored = run(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "match the backup's control totals" in restored.output
    verified = run(target, "verify-books")
    assert verified.exit_code == 0, verified.output
    assert totals_of(target) == totals
    assert audit_actions(target).count("cli.restore") == 1
    # PostgreSQL has analyzed the restored tables (pg_restore leaves them without).
    assert planner_statistics(target, "journal_line") in (None, len(JournalLine.__table__.c))


def test_restore_refuses_a_database_with_data_unless_forced(app, tmp_path):
    seed_books(app)
    backup = tmp_path / "coop.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    backed_up = manifest_of(backup)["totals"]
    refused = run(app, "restore", str(backup))
    assert refused.exit_code == 1
    assert "already has data" in refused.output
    forced = run(app, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    assert totals_of(app) == backed_up


def test_restore_fails_loudly_when_the_restored_books_differ_from_the_totals(
    app, tmp_path, fresh_database, app_on
):
    seed_books(app)
    backup = tmp_path / "coop.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    manifest = manifest_of(backup)
    manifest["totals"]["entries"] += 1
    totals_path(backup).write_text(json.dumps(manifest))
    result = run(app_on(fresh_database), "restore", str(backup))
    assert result.exit_code == 1
    entries = manifest["totals"]["entries"]
    assert f"DIFFERS  entries: backup {entries}, restored {entries - 1}" in result.output
    assert "does NOT match" in result.output


def _garble_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:512] = bytes(range(256)) * 2
    path.write_bytes(bytes(data))


def _rewrite_checksum(backup: Path) -> None:
    """Make the manifest agree with the file again, as a hostile file would."""
    manifest = manifest_of(backup)
    manifest["sha256"] = hashlib.sha256(backup.read_bytes()).hexdigest()
    totals_path(backup).write_text(json.dumps(manifest))


def test_a_garbled_or_hostile_backup_is_refused_and_changes_nothing(app, tmp_path):
    seed_books(app)
    backup = tmp_path / "coop.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    before = totals_of(app)
    _garble_header(backup)

    damaged = run(app, "restore", "--force", str(backup))
    assert damaged.exit_code == 1
    assert "is damaged: its checksum differs" in damaged.output

    _rewrite_checksum(backup)
    hostile = run(app, "restore", "--force", str(backup))
    assert hostile.exit_code == 1
    assert ("not a readable SQLite database" in hostile.output) or (
        "pg_restore failed" in hostile.output and "valid archive" in hostile.output
    ), hostile.output

    totals_path(backup).unlink()
    unlisted = run(app, "restore", "--force", str(backup))
    assert unlisted.exit_code == 1
    assert "control totals" in unlisted.output and "are missing" in unlisted.output

    assert totals_of(app) == before
    assert run(app, "verify-books").exit_code == 0


@only_sqlite
def test_a_sound_sqlite_file_of_another_application_is_refused(app, tmp_path):
    seed_books(app)
    backup = tmp_path / "coop.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    before = totals_of(app)
    backup.unlink()
    other = sqlite3.connect(backup)
    other.execute("CREATE TABLE notes (text TEXT)")
    other.commit()
    other.close()
    _rewrite_checksum(backup)
    result = run(app, "restore", "--force", str(backup))
    assert result.exit_code == 1
    assert "is not a backup of this application's database" in result.output
    assert totals_of(app) == before


def test_backup_never_overwrites_a_file(app, tmp_path):
    backup = tmp_path / "coop.backup"
    backup.write_bytes(b"an older backup")
    result = run(app, "backup", str(backup))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert backup.read_bytes() == b"an older backup"
    assert not totals_path(backup).exists()


@only_postgres
def test_backup_says_so_when_pg_dump_is_missing(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    backup = tmp_path / "coop.backup"
    result = run(app, "backup", str(backup))
    assert result.exit_code == 1
    assert "pg_dump was not found" in result.output
    assert not backup.exists() and not totals_path(backup).exists()
