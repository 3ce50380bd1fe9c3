"""A demo cooperative seeded once per test module and database, shared by the demo tests."""

import shutil

import pytest

from coop_app import create_app
from coop_app.config import config_for_tests
from coop_app.extensions import db
from tests.conftest import _empty_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory):
    """An app on a database seeded once with `flask seed-demo`."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    folder = tmp_path_factory.mktemp(f"{name}-{request.param}")
    if request.param == "sqlite":
        path = folder / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("postgres_url")
        _empty_postgres(uri)
    app = create_app(config_for_tests(uri) | {"INSTANCE_PATH": str(folder / "instance")})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seeded(demo):
    """Inside the seeded demo's app context; whatever a test writes is rolled back."""
    with demo.app_context():
        yield
        db.session.rollback()
