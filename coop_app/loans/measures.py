"""The board's measures on a running loan: a new schedule for what is still owed, or
writing it off as a loss. Each takes a reason and is the board's alone."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import post_entry
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanEvent, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.loans.records import check_day, check_running, check_version, flush_loan
from coop_app.loans.services import loan_line, store_schedule


def _board(by: User) -> None:
    if by.role != Role.ADMIN:
        raise LoanError(_("Only the board can do this."))


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise LoanError(_("Write the reason."))
    return reason[:255]


def reschedule_loan(
    loan: Loan,
    *,
    on: date,
    months: int,
    reason: str,
    today: date,
    by: User,
    expected_version,
) -> None:
    """A new schedule for the principal still owed, from `on`; the old one is kept.

    Interest and penalties overdue under the old schedule are not carried over: interest
    is booked when paid (cash basis), so there is nothing in the books to move.
    """
    _board(by)
    reason = _reason(reason)
    check_version(loan, expected_version)
    check_running(loan)
    check_day(on, today, loan.disbursed_on)
    if not 1 <= months <= 360:
        raise LoanError(_("The tenor must be %(min)d to %(max)d months.", min=1, max=360))
    owed = position_of(loan, on).outstanding_principal
    if owed <= 0:
        raise LoanError(_("Nothing is left to reschedule."))
    last_entry = db.session.execute(sa.select(sa.func.max(JournalEntry.id))).scalar() or 0
    version = loan.schedule_version + 1
    store_schedule(loan, version=version, principal=owed, months=months, start=on)
    db.session.add(
        LoanEvent(
            loan_id=loan.id,
            kind="rescheduled",
            on=on,
            reason=reason,
            schedule_version=version,
            after_entry_id=last_entry,
            by_id=by.id,
        )
    )
    flush_loan()
    audit.note(entity=f"loan:{loan.id}", detail=f"rescheduled {owed} x {months}: {reason}")


def write_off_loan(
    loan: Loan, *, on: date, reason: str, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Write the principal still owed off as a loss (the board, with a reason)."""
    _board(by)
    reason = _reason(reason)
    check_version(loan, expected_version)
    check_running(loan)
    check_day(on, today, loan.disbursed_on)
    db.session.refresh(loan, ["outstanding"])
    if loan.outstanding <= 0:
        raise LoanError(_("Nothing is left to write off."))
    entry = post_entry(
        on=on,
        description=_(
            "Write-off of loan %(number)s, %(member)s", number=loan.number, member=loan.member.name
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=[
            loan_line(loan, "loan_write_off", Side.DEBIT, loan.outstanding),
            loan_line(loan, "loans_receivable", Side.CREDIT, loan.outstanding),
        ],
        source="loans.write_off",
        source_ref=loan.number,
        key=key,
        by=by,
    )
    db.session.add(
        LoanEvent(loan_id=loan.id, kind="written_off", on=on, reason=reason, by_id=by.id)
    )
    loan.status, loan.closed_on = LoanStatus.WRITTEN_OFF.value, on
    flush_loan()
    audit.note(entity=f"loan:{loan.id}", detail=f"written off: {reason}")
    return entry
