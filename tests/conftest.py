"""Shared fixtures: a migrated database per test on SQLite and PostgreSQL, users, logins.

Database tests run twice, once per database (`app` is parametrised). PostgreSQL needs
TEST_DATABASE_URL; without it those tests skip, except under REQUIRE_POSTGRES=1 (CI),
where a skip is a failure. Browser tests are treated the same under REQUIRE_BROWSER=1.
"""

import os
import shutil

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from coop_app import create_app
from coop_app.auth.roles import Role
from coop_app.config import config_for_tests, database_url
from coop_app.extensions import db
from coop_app.reference_data import insert_reference_data
from tests.helpers import PASSWORD, login

DATABASES = ["sqlite", "postgresql"]
#: The seeded demo (`demo`, `seeded`) shared by the units' demo tests.
pytest_plugins = ["tests.demo_app"]


# --- REQUIRE flags: a skip of a PostgreSQL or browser test fails in CI --------------------


def _required_kind(item) -> str | None:
    if os.environ.get("REQUIRE_POSTGRES") == "1" and "postgresql" in item.nodeid:
        return "REQUIRE_POSTGRES"
    if os.environ.get("REQUIRE_BROWSER") == "1" and item.get_closest_marker("browser"):
        return "REQUIRE_BROWSER"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    flag = _required_kind(item)
    if report.skipped and flag and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped although {flag}=1: {report.longrepr}"


# --- databases ---------------------------------------------------------------------------


def _migrate(uri: str, instance: str) -> None:
    app = create_app(config_for_tests(uri) | {"INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """A SQLite file migrated from empty once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    _migrate(f"sqlite:///{path}", str(folder / "instance"))
    return str(path)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """The PostgreSQL test database, emptied and migrated from nothing once per run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = sa.create_engine(database_url(url))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    _migrate(url, str(tmp_path_factory.mktemp("pg-instance")))
    return url


def _empty_postgres(url: str) -> None:
    """Remove every row, append-only tables included (their triggers are bypassed here only),
    then put back the reference data the migrations insert (chart, savings products)."""
    engine = sa.create_engine(database_url(url))
    with engine.begin() as connection:
        tables = connection.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        connection.exec_driver_sql("SET session_replication_role = replica")
        connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        connection.exec_driver_sql("SET session_replication_role = DEFAULT")
        insert_reference_data(connection)
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_uri(request, tmp_path) -> str:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "coop.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def make_app(database_uri, tmp_path):
    """Build apps on the test database (several apps stand for several workers)."""
    apps = []

    def build(**overrides):
        config = config_for_tests(database_uri) | {"INSTANCE_PATH": str(tmp_path / "instance")}
        app = create_app(config | overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# --- users and logins --------------------------------------------------------------------


@pytest.fixture
def make_user(app):
    """Create a committed user; returns its username."""

    def create(role: Role, username: str | None = None, **fields) -> str:
        from coop_app.auth.services import create_user

        with app.app_context():
            user, _ = create_user(
                username=username or f"{role.value}1",
                full_name=fields.pop("full_name", f"Test {role.value}"),
                role=role,
                password=PASSWORD,
            )
            for name, value in fields.items():
                setattr(user, name, value)
            db.session.commit()
            return user.username

    return create


@pytest.fixture
def login_as(client, make_user):
    """Create a user of `role` and log the test client in as them."""

    def log_in(role: Role, username: str | None = None) -> str:
        name = make_user(role, username)
        response = login(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return name

    return log_in
