"""Import members from an XLSX or CSV file: upload, preview every problem, confirm once.

The file is checked and read by `coop_app.uploads` (size, type, zip and XML bombs), its
rows kept as text in a pending import, and every row checked by `import_rows` with the
registry's own rules (`members.validation` and `register_member`). Confirming registers
every member or none; a pending import is claimed by a conditional UPDATE, so a double
confirm imports once.
Functions flush and never commit; the view or command commits.
"""

import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.db import utcnow
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.members.import_models import ImportStatus, MemberImport
from coop_app.members.import_rows import (
    _CONTROL,
    FIELD_COLUMNS,
    HEADERS,
    RowProblem,
    check_rows,
    stored_rows,
)
from coop_app.members.services import register_member
from coop_app.members.validation import (
    FieldError,
)
from coop_app.uploads import read_table

#: Ten times the demo cooperative. Confirming registers each member through the registry's
#: service: 2,000 rows took about 5 s on SQLite and 12 s on PostgreSQL (measured), which
#: a web request can still wait for; bigger lists are split into several files.
MAX_ROWS = 2000
#: Columns read per row (the template has 12; extra columns are ignored).
MAX_COLUMNS = 30
#: A pending import older than this is refused and later removed (it holds NIKs).
PENDING_LIFETIME = timedelta(days=2)


class ImportRefused(DomainError):
    """Problems were found; nothing was imported. `problems` lists every one."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__(
            _(
                "Nothing was imported: %(count)d problems were found. "
                "Fix the file and upload it again.",
                count=len(problems),
            )
        )
        self.problems = problems


# --- the pending import -----------------------------------------------------------------


def upload_import(file_name: str, data: bytes, *, by: User | None) -> MemberImport:
    """Check and read an uploaded file into a pending import (rows are checked on preview)."""
    table = read_table(
        data,
        file_name,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
        max_rows=MAX_ROWS,
        max_columns=MAX_COLUMNS,
    )
    rows = stored_rows(table)
    db.session.execute(
        sa.delete(MemberImport).where(
            MemberImport.status == ImportStatus.PENDING.value,
            MemberImport.created_at < utcnow() - PENDING_LIFETIME,
        )
    )
    pending = MemberImport(
        token=secrets.token_urlsafe(32),
        file_name=_CONTROL.sub("", file_name.replace("\\", "/").rsplit("/", 1)[-1])[:255],
        rows=rows,
        row_count=len(rows),
        uploaded_by_id=by.id if by else None,
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def is_expired(pending: MemberImport) -> bool:
    return (
        pending.status == ImportStatus.PENDING.value
        and pending.created_at < utcnow() - PENDING_LIFETIME
    )


def confirm_import(pending: MemberImport, *, today: date, by: User | None) -> int | None:
    """Register every member of a pending import, or none (ImportRefused lists why).

    Returns how many were imported, or None when it had been imported already (a second
    confirm, or two at once: the conditional UPDATE lets only one of them through). On
    ImportRefused the caller rolls back, which also undoes the claim.
    """
    if pending.status == ImportStatus.IMPORTED.value:
        return None
    if is_expired(pending):
        raise DomainError(_("This upload has expired. Upload the file again."))
    claimed = db.session.execute(
        sa.update(MemberImport)
        .where(MemberImport.id == pending.id, MemberImport.status == ImportStatus.PENDING.value)
        .values(
            status=ImportStatus.IMPORTED.value,
            imported_at=utcnow(),
            imported_by_id=by.id if by else None,
        )
    ).rowcount
    if claimed != 1:
        db.session.refresh(pending)
        return None
    candidates, problems = check_rows(pending.rows, today=today)
    if problems:
        raise ImportRefused(problems)
    # register_member flushes each member itself; the rest (status history) is flushed
    # once at the end instead of before every query of the next member.
    # Rows keeping a number from the old books go first, so that no automatic number of an
    # earlier row can take it (the preview's verdict must hold at confirm).
    ordered = sorted(candidates, key=lambda candidate: not candidate.data.number)
    with db.session.no_autoflush:
        for candidate in ordered:
            try:
                register_member(candidate.data, today=today, by=by, status=candidate.status)
            except FieldError as error:  # a rule the row checks above do not know yet
                column = HEADERS[FIELD_COLUMNS.get(error.field, "nik")]
                problems.append(RowProblem(candidate.row, column, error.message))
                if not db.session.is_active:
                    break  # the database refused a row; the caller rolls everything back
    if problems:
        raise ImportRefused(problems)
    pending.imported_count = len(candidates)
    pending.rows = []  # the members now hold the data; keep no second copy of NIKs
    db.session.flush()
    return len(candidates)
