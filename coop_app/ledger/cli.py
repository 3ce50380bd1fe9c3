"""Flask commands `verify-books`, `backup` and `restore` (each commits its audit row once)."""

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from coop_app.auth import audit
from coop_app.db import reading
from coop_app.extensions import db
from coop_app.ledger.backup import BackupError, backup_database, restore_database, totals_path
from coop_app.ledger.verify import Report, verify_books


@click.command("verify-books")
@click.option("--show", default=10, show_default=True, help="Problems shown per check.")
@with_appcontext
def verify_books_command(show: int):
    """Check the books and the database; exit 1 when anything is wrong."""
    with reading(db.session):
        report = verify_books()
    echo_report(report, show=show)
    audit.record_cli(action="cli.verify-books", detail=_outcome(report))
    db.session.commit()
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path):
    """Take an online backup to DEST, with its control totals in DEST.totals.json."""
    try:
        manifest = backup_database(dest)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    verified = "books verify" if manifest["books_verify"] else "books do NOT verify"
    detail = f"{dest.name} sha256 {manifest['sha256'][:16]}, {verified}"
    audit.record_cli(action="cli.backup", detail=detail[:255])
    db.session.commit()
    click.echo(f"Backup written to {dest} ({manifest['size']} bytes).")
    click.echo(f"Control totals written to {totals_path(dest)}.")
    if not manifest["books_verify"]:
        click.echo(
            f"WARNING: the copied books do not verify ({manifest['problems']} problems). "
            "Run `flask verify-books` to see them."
        )
        raise click.exceptions.Exit(1)


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already has data.")
@with_appcontext
def restore_command(src: Path, force: bool):
    """Replace the database with the backup SRC, then verify it against its control totals."""
    try:
        restored = restore_database(src, force=force)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    echo_report(restored.report)
    for difference in restored.differences:
        click.echo(f"  DIFFERS  {difference}")
    ok = restored.report.ok and not restored.differences
    totals = "totals DIFFER" if restored.differences else "totals match"
    detail = f"{src.name}: {totals}, {_outcome(restored.report)}"
    audit.record_cli(action="cli.restore", detail=detail[:255])
    db.session.commit()
    if not ok:
        click.echo(f"Restored from {src}, but it does NOT match its control totals or verify.")
        raise click.exceptions.Exit(1)
    click.echo(f"Restored from {src}; the books verify and match the backup's control totals.")


def echo_report(report: Report, *, show: int = 10) -> None:
    """Print each check as OK or FAILED (with its first problems), then the totals."""
    click.echo("Checks of the books:")
    for check in report.checks:
        click.echo(f"  {'OK' if check.ok else 'FAILED':<7} {check.name}")
        for problem in check.problems[:show]:
            click.echo(f"          - {problem}")
        if len(check.problems) > show:
            click.echo(f"          ... and {len(check.problems) - show} more")
    _echo_totals(report.totals)
    if report.ok:
        click.echo("The books verify.")
    else:
        click.echo(f"The books do NOT verify: {report.problem_count} problem(s).")


def _echo_totals(totals: dict) -> None:
    click.echo("Control totals:")
    click.echo(
        f"  entries {totals['entries']}, lines {totals['lines']}, members {totals['members']}"
    )
    click.echo(f"  debits {totals['debits']}, credits {totals['credits']}")
    for code, balance in totals["accounts"].items():
        if balance:
            click.echo(f"  account {code}: {balance}")
    for prefix, total in totals["subledgers"].items():
        click.echo(f"  sub-ledger {prefix}: {total}")


def _outcome(report: Report) -> str:
    return "books verify" if report.ok else f"{report.problem_count} problems"


def register_ledger_commands(app: Flask) -> None:
    app.cli.add_command(verify_books_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
