"""Screens to import members from a spreadsheet and to export the member list."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired

from coop_app.auth import audit
from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import BaseForm, id_arg
from coop_app.i18n import local_today
from coop_app.members import importing
from coop_app.members.exporting import MEMBER_COLUMNS, write_import_template, write_member_list
from coop_app.members.import_models import ImportStatus, MemberImport
from coop_app.spreadsheets import xlsx_download
from coop_app.uploads import size_text

bp = Blueprint("member_transfer", __name__)

A, T, S = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR
#: Problems listed on the preview page; the count above the list is always complete.
PROBLEMS_SHOWN = 1000
#: Rows of a clean file shown before the confirm button.
ROWS_SHOWN = 100


class UploadForm(BaseForm):
    file = FileField(_l("Spreadsheet file"), validators=[FileRequired(_l("Choose a file."))])


def _import_or_404(token: str) -> MemberImport:
    found = db.session.execute(sa.select(MemberImport).where(MemberImport.token == token))
    return found.scalar() or abort(404)


@bp.route("/import", methods=["GET", "POST"])
@allow(A, T)
def start_import():
    """Upload a file; it is checked and kept as a pending import, then previewed."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(request.max_content_length + 1)
        try:
            pending = importing.upload_import(
                upload.filename or "", data, by=current_user._get_current_object()
            )
        except DomainError as error:
            db.session.rollback()
            audit.note(detail="file refused")
            form.file.errors.append(error.message)
            return _upload_page(form), REFUSED
        audit.note(entity=f"import:{pending.id}", detail=f"uploaded {pending.row_count} rows")
        db.session.commit()
        return redirect(url_for("member_transfer.preview", token=pending.token))
    return _upload_page(form), REFUSED if form.is_submitted() else 200


def _upload_page(form: UploadForm):
    return render_template(
        "member_transfer/upload.html",
        form=form,
        columns=MEMBER_COLUMNS,
        max_rows=importing.MAX_ROWS,
        size_limit=size_text(request.max_content_length or 0),
    )


def _preview_page(pending: MemberImport, problems: list | None = None):
    """The import's state; a pending one is checked again now (the database may have moved)."""
    if pending.status == ImportStatus.PENDING.value and problems is None:
        _candidates, problems = importing.check_rows(pending.rows, today=local_today())
    problems = problems or []
    return render_template(
        "member_transfer/preview.html",
        pending=pending,
        problems=problems,
        shown=problems[:PROBLEMS_SHOWN],
        bad_rows=len({problem.row for problem in problems}),
        rows=pending.rows[:ROWS_SHOWN],
        expired=importing.is_expired(pending),
    )


@bp.get("/import/<token>")
@allow(A, T)
def preview(token: str):
    """Every problem of every row; the confirm button only when there is none."""
    return _preview_page(_import_or_404(token))


@bp.post("/import/<token>/confirm")
@allow(A, T)
def confirm(token: str):
    """Import every member of the file or none; a second confirm shows the first's result."""
    pending = _import_or_404(token)
    try:
        count = importing.confirm_import(
            pending, today=local_today(), by=current_user._get_current_object()
        )
    except importing.ImportRefused as refused:
        db.session.rollback()
        audit.note(entity=f"import:{pending.id}", detail=f"refused: {len(refused.problems)}")
        flash(refused.message, "danger")
        return _preview_page(pending, refused.problems), REFUSED
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _preview_page(pending), REFUSED
    if count is None:
        audit.note(entity=f"import:{pending.id}", detail="already imported")
        flash(_("This file had already been imported; nothing was imported twice."), "info")
    else:
        audit.note(entity=f"import:{pending.id}", detail=f"imported {count} members")
        flash(_("%(count)d members have been imported.", count=count), "success")
    db.session.commit()
    return redirect(url_for("member_transfer.preview", token=token))


@bp.get("/import/template.xlsx")
@allow(A, T)
def template():
    """The workbook to fill in: the columns, an example row and a guide."""
    return xlsx_download(write_import_template, "template-anggota.xlsx")


@bp.get("/export.xlsx")
@allow(A, T, S)
def export():
    """The member list as a workbook, with the list screen's search and filters."""
    text = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    village_id = id_arg("village")

    def write(handle):
        count = write_member_list(handle, text=text, status=status, village_id=village_id)
        # Personal data leave the system: who took how many is worth a row (not the
        # search itself, which may be a NIK).
        audit.note(action="members.export", detail=f"{count} members")

    return xlsx_download(write, f"anggota-{local_today():%Y-%m-%d}.xlsx")
