"""Flask commands: create-user, seed-demo (each command commits once, like a request)."""

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from coop_app.auth import audit
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.db import refresh_statistics
from coop_app.demo import database_is_empty, seed_demo
from coop_app.demo_size import DEFAULT_YEARS, MAX_YEARS, MIN_MEMBERS, MIN_YEARS, DemoSize
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.members.demo import MEMBER_COUNT

DEMO_LOGINS_FILE = "demo-logins.txt"


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--full-name", default=None, help="Defaults to the username.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username: str, role: str, full_name: str | None, password_stdin: bool):
    """Create a user (there is no default administrator outside the demo)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = create_user(
            username=username, full_name=full_name or username, role=Role(role), password=password
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    audit.record_cli(action="cli.create-user", entity=f"user:{user.id}", detail=f"role {role}")
    db.session.commit()
    click.echo(f"Created user {user.username} ({role}).")


def _members(_context, _parameter, value):
    """--members: at least one (checked before the database is touched)."""
    if value is not None and value < MIN_MEMBERS:
        raise click.BadParameter(
            f"the number of members must be at least {MIN_MEMBERS} (got {value})."
        )
    return value


def _years(_context, _parameter, value):
    """--years: a history of one to ten years."""
    if value is not None and not MIN_YEARS <= value <= MAX_YEARS:
        raise click.BadParameter(
            f"the history is {MIN_YEARS} to {MAX_YEARS} years long (got {value})."
        )
    return value


@click.command("seed-demo")
@click.option("--seed", default=1, show_default=True, help="Seed of the demo data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exist.")
@click.option(
    "--members",
    type=int,
    callback=_members,
    help=f"Seed a district of this many members instead [default: {MEMBER_COUNT}].",
)
@click.option(
    "--years",
    type=int,
    callback=_years,
    help=f"Years of the district's history before the demo's today, {MIN_YEARS} to "
    f"{MAX_YEARS} [default: {DEFAULT_YEARS}].",
)
@with_appcontext
def seed_demo_command(seed: int, if_empty: bool, members: int | None, years: int | None):
    """Fill an empty database with the demo cooperative of Wonosobo, or (with --members or
    --years) a district-scale cooperative of that size."""
    size = None
    if members is not None or years is not None:
        size = DemoSize(members or MEMBER_COUNT, years or DEFAULT_YEARS)
    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; the demo was not seeded again.")
            return
        raise click.ClickException("The database is not empty; the demo seeds only an empty one.")
    logins = seed_demo(seed=seed, size=size)
    detail = f"seed {seed}" + (f", {size.members} members, {size.years} years" if size else "")
    audit.record_cli(action="cli.seed-demo", detail=detail)
    db.session.commit()
    refresh_statistics(db.engine)
    path = _write_demo_logins(logins)
    district = ""
    if size:
        members, years = _count(size.members, "member"), _count(size.years, "year")
        district = f" as a district of {members} over {years}"
    click.echo(f"Seeded the demo cooperative{district} (seed {seed}). Demo logins are in {path}.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _write_demo_logins(logins: dict[str, str]) -> str:
    """Write the demo passwords where only the machine's owner can read them."""
    path = os.path.join(current_app.instance_path, DEMO_LOGINS_FILE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        for username, password in logins.items():
            handle.write(f"{username:<10} {password}\n")
    return path


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)

    from coop_app.ledger.cli import register_ledger_commands
    from coop_app.loans.cli import register_loan_commands
    from coop_app.members.transfer_cli import register_transfer_commands

    register_transfer_commands(app)
    register_ledger_commands(app)
    register_loan_commands(app)
