"""Correcting the books by reversal: the mirror image of an entry, pointing at it, with
a reason, once per entry; the records the entry names (a loan, say) may refuse it."""

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger import subledgers
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import Line, PostingError, post_entry


def reverse_entry(entry: JournalEntry, *, on: date, reason: str, by: User | None) -> JournalEntry:
    """Post the mirror image of `entry`, pointing at it, with a reason; once per entry."""
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise PostingError(_("Write the reason for the reversal."))
    if entry.reverses_id is not None:
        raise PostingError(_("A reversal cannot be reversed. Record the transaction again."))
    if db.session.execute(
        sa.select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)
    ).first():
        raise PostingError(_("This entry has already been reversed."))
    if on < entry.entry_date:
        raise PostingError(_("A reversal cannot be dated before the entry it reverses."))
    _check_records_allow(entry)
    mirror = {Side.DEBIT: Side.CREDIT, Side.CREDIT: Side.DEBIT}
    lines = [
        Line(
            line.account,
            mirror[Side(line.side)],
            line.amount,
            member_id=line.member_id,
            subaccount=line.subaccount,
            unit=Unit(line.unit),
        )
        for line in entry.lines
    ]
    reversal = post_entry(
        on=on,
        description=_("Reversal of entry %(number)s", number=entry.id),
        unit=Unit(entry.unit),
        lines=lines,
        source=entry.source,
        source_ref=entry.source_ref,
        key=f"reversal:{entry.id}",
        by=by,
        reverses=entry,
        reason=reason[:255],
    )
    audit.note(entity=f"journal_entry:{entry.id}", detail=f"reversed by {reversal.id}")
    return reversal


def reversal_refused(entry: JournalEntry) -> str | None:
    """Why the records `entry` names refuse its reversal, or None: the entry's page says
    so in place of the reversal form."""
    try:
        _check_records_allow(entry)
    except DomainError as error:
        return error.message
    return None


def _check_records_allow(entry: JournalEntry) -> None:
    """Let the sub-ledger of each record the entry names refuse its reversal: the mirror
    lines move the cached balances back, but a record may also hold what the entry did
    (a loan paid out, closed or written off), which a reversal from the books cannot undo."""
    named: dict[str, set[int]] = defaultdict(set)
    for line in entry.lines:
        if line.subaccount:
            subledger, record_id = subledgers.split(line.subaccount)
            named[subledger.prefix].add(record_id)
    for prefix in sorted(named):
        check = subledgers.SUBLEDGERS[prefix].check_reversal
        if check is not None:
            check(entry, sorted(named[prefix]))
