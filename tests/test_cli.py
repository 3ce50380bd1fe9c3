"""Flask commands: create-user and seed-demo."""

import os
import stat

import sqlalchemy as sa

from coop_app.auth.models import AuditEvent, User
from coop_app.auth.passwords import verify_password
from coop_app.cli import DEMO_LOGINS_FILE
from coop_app.extensions import db


def _users(app) -> dict[str, User]:
    with app.app_context():
        users = db.session.execute(sa.select(User)).scalars().all()
        return {user.username: user for user in users}


def test_create_user_reads_the_password_from_stdin(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "Ketua", "--role", "admin", "--password-stdin"],
        input="kunci-gudang-koperasi\n",
    )
    assert result.exit_code == 0, result.output
    user = _users(app)["ketua"]
    assert user.role == "admin" and not user.must_change_password
    with app.app_context():
        assert verify_password(user.password_hash, "kunci-gudang-koperasi")
        actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions == ["cli.create-user"]


def test_create_user_prompts_twice_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "bendahara", "--role", "treasurer"],
        input="kunci-gudang-koperasi\nkunci-gudang-koperasi\n",
    )
    assert result.exit_code == 0, result.output
    assert "bendahara" in _users(app)


def test_create_user_refuses_a_weak_password_and_writes_nothing(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "ketua", "--role", "admin", "--password-stdin"],
        input="password1\n",
    )
    assert result.exit_code == 1
    assert "terlalu umum" in result.output
    assert _users(app) == {}


def test_create_user_refuses_an_unknown_role(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "raja", "--role", "king", "--password-stdin"],
        input="kunci-gudang-koperasi\n",
    )
    assert result.exit_code == 2
    assert _users(app) == {}


def test_seed_demo_makes_one_user_per_role_and_a_private_logins_file(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--seed", "7"])
    assert result.exit_code == 0, result.output
    users = _users(app)
    assert sorted(user.role for user in users.values()) == sorted(
        ["admin", "treasurer", "supervisor", "trainer", "member"]
    )
    path = os.path.join(app.instance_path, DEMO_LOGINS_FILE)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        logins = dict(line.split() for line in handle)
    assert set(logins) == set(users)
    with app.app_context():
        for username, password in logins.items():
            assert verify_password(users[username].password_hash, password)
    for password in logins.values():
        assert password not in result.output, "seed-demo itself never prints a password"


def test_seed_demo_refuses_a_database_with_data_unless_asked_to_skip(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first = {name: user.password_hash for name, user in _users(app).items()}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 1 and "not empty" in again.output
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert skipped.exit_code == 0
    assert {name: user.password_hash for name, user in _users(app).items()} == first
