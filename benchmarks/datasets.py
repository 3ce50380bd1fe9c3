"""The benchmark's own databases: create them empty, migrate, seed the demo, pick pages.

Which database:
- SQLite by default: a file in the bench's work folder, opened by the app itself, so it
  gets the app's pragmas (WAL, synchronous=FULL, foreign keys, busy timeout; coop_app/db.py).
  A SQLite DATABASE_URL is ignored: the developer's database file is never used.
- PostgreSQL when DATABASE_URL is set: its server and credentials, but databases of the
  harness's own, `coop_bench_<years>y` and `coop_bench_1y`, dropped and created again by
  every run. The database DATABASE_URL names is never touched (the harness refuses to run
  if it is one of its own names), so pointing the bench at a server cannot wipe real data.

Every app process (flask commands, gunicorn, the posting and export workers) gets the
bench database as DATABASE_URL, an instance folder of the bench's own as
COOP_INSTANCE_PATH (so seeding never overwrites the developer's instance/demo-logins.txt)
and COOP_ENV=local (plain HTTP on 127.0.0.1).
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from benchmarks.servers import ROOT

PREFIX = "coop_bench"
#: The demo user whose login the page measurements use (may open all three pages).
BENCH_USER = "bendahara"


class DatasetError(RuntimeError):
    """A database could not be prepared or a command failed."""


@dataclass(frozen=True)
class Server:
    """Where the bench databases live: SQLite files in `folder`, or a PostgreSQL server."""

    folder: Path
    postgres: URL | None = None

    @classmethod
    def from_environment(cls, folder: Path) -> "Server":
        given = os.environ.get("DATABASE_URL", "").strip()
        if not given or given.startswith("sqlite"):
            return cls(folder)
        url = make_url(given)
        if url.get_backend_name() != "postgresql":
            raise DatasetError(f"DATABASE_URL must be PostgreSQL or SQLite, not {url.drivername}")
        if (url.database or "").startswith(PREFIX + "_"):
            raise DatasetError(
                f"DATABASE_URL names {url.database}, a database the bench drops and recreates; "
                f"point it at another database of the server (e.g. {PREFIX})"
            )
        return cls(folder, url.set(drivername="postgresql+psycopg"))

    @property
    def admin_url(self) -> URL | None:
        """The server's maintenance database, where databases are created and dropped."""
        return self.postgres.set(database="postgres") if self.postgres else None

    @property
    def kind(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def fresh_database(self, name: str) -> str:
        """An empty database called `name` (dropped first if it exists); returns its URL."""
        if not name.startswith(PREFIX + "_"):
            raise DatasetError(f"refusing to create or drop {name}: not a {PREFIX}_ database")
        if self.postgres is None:
            path = self.folder / f"{name}.db"
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        return self.postgres.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        if self.postgres is None or not name.startswith(PREFIX + "_"):
            return
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()


def app_env(database_url: str, instance: Path) -> dict:
    """The environment of every app process run on a bench database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        COOP_INSTANCE_PATH=str(instance),
        COOP_ENV="local",
        FLASK_APP="wsgi:app",
        PYTHONPATH=str(ROOT),
    )
    return env


def flask(args: list[str], env: dict, *, timeout: float = 3600) -> float:
    """Run `flask <args>` in the repository; returns its wall time in seconds."""
    started = time.perf_counter()
    finished = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        output = (finished.stdout + finished.stderr)[-3000:]
        raise DatasetError(f"flask {' '.join(args)} exited {finished.returncode}:\n{output}")
    return seconds


@dataclass
class Dataset:
    """One seeded database and what the page measurements rotate through."""

    name: str
    url: str
    instance: Path
    years: int
    members: int
    seed_seconds: float = 0.0
    verify_books_seconds: float | None = None
    #: Active members who joined first: the longest histories (the member page's sample).
    history_members: list[tuple[int, str]] = field(default_factory=list)
    #: Groups with active members: (id, name) (the collection sheet's sample).
    groups: list[tuple[int, str]] = field(default_factory=list)
    #: The code of the cash account, shown on the trial balance.
    cash_code: str = ""
    counts: dict = field(default_factory=dict)

    @property
    def env(self) -> dict:
        return app_env(self.url, self.instance)

    def password(self, username: str = BENCH_USER) -> str:
        """The demo password of `username`, from this dataset's own demo-logins.txt."""
        for line in (self.instance / "demo-logins.txt").read_text().splitlines():
            name, _, password = line.strip().partition(" ")
            if name == username:
                return password.strip()
        raise DatasetError(f"no demo login for {username} in {self.instance}")


def seed_command(members: int, years: int, seed: int) -> list[str]:
    return ["seed-demo", "--members", str(members), "--years", str(years), "--seed", str(seed)]


def build(
    server: Server,
    name: str,
    *,
    members: int,
    years: int,
    seed: int,
    sample: int,
    verify: bool = True,
) -> Dataset:
    """Migrate an empty database, seed the demo (timed), verify the books (timed, unless
    not `verify`), and pick the pages to measure."""
    instance = server.folder / f"{name}-instance"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "demo-logins.txt").unlink(missing_ok=True)
    url = server.fresh_database(name)
    dataset = Dataset(name=name, url=url, instance=instance, years=years, members=members)
    flask(["db", "upgrade"], dataset.env)
    dataset.seed_seconds = flask(seed_command(members, years, seed), dataset.env)
    if verify:
        dataset.verify_books_seconds = flask(["verify-books"], dataset.env)
    _describe(dataset, sample)
    return dataset


def _describe(dataset: Dataset, sample: int) -> None:
    engine = sa.create_engine(make_url(dataset.url).set(drivername=_driver(dataset.url)))
    try:
        with engine.connect() as connection:

            def rows(sql: str, **params) -> list[tuple]:
                return [tuple(row) for row in connection.execute(sa.text(sql), params)]

            dataset.history_members = rows(
                "SELECT id, number FROM member WHERE status = 'active' "
                "ORDER BY join_date, id LIMIT :n",
                n=sample,
            )
            dataset.groups = rows(
                "SELECT g.id, g.name FROM village_group g WHERE g.active AND EXISTS "
                "(SELECT 1 FROM member m WHERE m.group_id = g.id AND m.status = 'active') "
                "ORDER BY g.id LIMIT :n",
                n=sample,
            )
            dataset.cash_code = rows("SELECT code FROM account WHERE purpose = 'cash'")[0][0]
            dataset.counts = _counts(rows)
    finally:
        engine.dispose()
    if not dataset.history_members or not dataset.groups:
        raise DatasetError(f"{dataset.name} has no active members or no groups to measure")


def _counts(rows) -> dict:
    def one(sql: str):
        return rows(sql)[0][0]

    span = rows("SELECT min(entry_date), max(entry_date) FROM journal_entry")[0]
    return {
        "members": one("SELECT count(*) FROM member"),
        "active_members": one("SELECT count(*) FROM member WHERE status = 'active'"),
        "villages": one("SELECT count(*) FROM village"),
        "groups": one("SELECT count(*) FROM village_group"),
        "savings_accounts": one("SELECT count(*) FROM savings_account"),
        "loans": one("SELECT count(*) FROM loan"),
        "journal_entries": one("SELECT count(*) FROM journal_entry"),
        "journal_lines": one("SELECT count(*) FROM journal_line"),
        "first_entry": str(span[0]),
        "last_entry": str(span[1]),
    }


def _driver(url: str) -> str:
    return "postgresql+psycopg" if url.startswith("postgresql") else "sqlite"
