"""Flask commands `import-members` and `export-members` (each commits once, like a request)."""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.members import importing
from coop_app.members.exporting import write_member_list
from coop_app.uploads import size_text


def _read_limited(path: Path) -> bytes:
    """The file's bytes, refused above the upload limit before it is read into memory."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if path.stat().st_size > limit:
        raise click.ClickException(
            _("The file is larger than the limit of %(size)s.", size=size_text(limit))
        )
    with path.open("rb") as handle:
        return handle.read(limit + 1)


@click.command("import-members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and write nothing.")
@with_appcontext
def import_members_command(file: Path, dry_run: bool):
    """Import members from an .xlsx or .csv file: all of them, or none (exit 1)."""
    data = _read_limited(file)
    try:
        pending = importing.upload_import(file.name, data, by=None)
        count = importing.confirm_import(pending, today=local_today(), by=None)
    except importing.ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(
                _(
                    "Row %(row)d, %(column)s: %(message)s",
                    row=problem.row,
                    column=problem.column,
                    message=problem.message,
                )
            )
        click.echo(refused.message)
        raise click.exceptions.Exit(1) from None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    if dry_run:
        db.session.rollback()
        click.echo(_("%(count)d members would be imported; nothing was written.", count=count))
        return
    detail = f"imported {count} members"
    audit.record_cli(action="cli.import-members", entity=f"import:{pending.id}", detail=detail)
    db.session.commit()
    click.echo(_("%(count)d members have been imported.", count=count))


@click.command("export-members")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_members_command(file: Path):
    """Write the whole member list to an .xlsx file."""
    count = write_member_list(file)
    audit.record_cli(action="cli.export-members", detail=f"exported {count} members")
    db.session.commit()
    click.echo(_("%(count)d members written to %(file)s.", count=count, file=str(file)))


def register_transfer_commands(app: Flask) -> None:
    app.cli.add_command(import_members_command)
    app.cli.add_command(export_members_command)
