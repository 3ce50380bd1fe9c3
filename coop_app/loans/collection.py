"""The loans' columns on the savings collection sheet: each running loan's installment and
penalty, paid in the member's one entry beside their savings.

Decisions (the sheet is `coop_app.savings.collection`; loans register here, savings never
imports loans):

- A member with several running loans gets a pair of boxes per loan, by loan number: each
  loan has its own product rules, version and principal owed, and the bylaws give no rule
  for splitting one amount across loans.
- The installment box suggests what falls due by the end of the sheet's month and is still
  unpaid (so the month's installment plus what is overdue); the penalty box suggests the
  penalty due on the sheet's date. The two boxes are what the member hands over for that
  loan: their sum is one repayment, split by the loan's own rules exactly as on the loan's
  repayment screen (`services.take_repayment`: penalty, interest, principal in the
  product's order; more than the loan asks is refused or saved as the product says). With
  the usual order a late member who pays only the installment has the penalty taken first.
- Stale sheets are refused, not silently re-evaluated. The sheet sends back each loan's
  version as it showed it, and the loan is claimed with that version inside the sheet's
  transaction (the conditional update `repay_loan` uses). A loan paid or changed elsewhere
  since the sheet was opened refuses the whole sheet, nothing written, its box marked with
  what the loan asks now; the sheet is shown again with the current versions, so sending
  it again is the treasurer's decision on the current figures. Two sendings at the same
  moment (two treasurers, or a sheet and the loan's screen): the second waits for the
  first, then finds the version changed and is refused.
- A payment dated before one of the loan's recorded repayments is refused: the position
  of the earlier day does not know the later payment and would be paid twice.
- A loan that the payment settles is closed, as `repay_loan` closes it.
"""

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop_app.errors import StaleEditError
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger.models import JournalEntry, JournalLine, Side
from coop_app.ledger.services import account_for
from coop_app.loans import services
from coop_app.loans.collection_queries import positions_by_key, running_loans
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.position import Position
from coop_app.loans.queries import position_of
from coop_app.savings.collection import (
    ReceiptPart,
    Settlement,
    SheetColumn,
    SheetItem,
    SheetPart,
    month_end,
    register_part,
)

PART = "loans"
INSTALLMENT, PENALTY = "installment", "penalty"
#: A repayment's credits on a receipt, in the order the bylaws pay them.
RECEIPT_WORDS = (
    ("loan_penalty", _l("Penalty")),
    ("loan_interest", _l("Interest")),
    ("loans_receivable", _l("Principal")),
)


def due_by(position: Position, last_day: date) -> int:
    """Principal and interest of the installments due by `last_day`, still unpaid."""
    return sum(state.unpaid for state in position.installments if state.due.due_date <= last_day)


def sheet_items(member_ids: list[int], *, month: date, as_of: date) -> dict[int, list[SheetItem]]:
    """Each member's running loans, disbursed by `as_of`, with what the month asks.

    The loans' positions are read for the whole group at once, by key (see
    `collection_queries`), not loan by loan."""
    found: dict[int, list[SheetItem]] = defaultdict(list)
    loans = running_loans(member_ids)
    positions = positions_by_key(loans, as_of)
    last_day, owed = month_end(month), _("Principal owed")
    for loan in loans:
        position = positions.get(loan.id)
        if position is None:
            continue
        found[loan.member_id].append(
            SheetItem(
                ref=loan.id,
                title=_("Loan %(number)s", number=loan.number),
                version=loan.version,
                suggested={
                    INSTALLMENT: due_by(position, last_day),
                    PENALTY: position.penalty_due,
                },
                note=f"{owed}: {format_rupiah(position.outstanding_principal)}",
                warning=_lateness(position),
            )
        )
    return found


def _lateness(position: Position) -> str:
    """The warning of a loan that is late: how many days, and what is overdue."""
    days = position.days_past_due
    if not days:
        return ""
    return _(
        "%(days)d days late; overdue %(amount)s", days=days, amount=format_rupiah(position.overdue)
    )


def settle(
    loan_id: int, amounts: dict[str, int], *, on: date, today: date, expected_version
) -> Settlement:
    """One loan's boxes as one repayment: claim the loan at the version the sheet showed,
    split the sum by the loan's rules, and give the credit lines for the member's entry."""
    loan = db.session.get(Loan, loan_id)
    amount = sum(amounts.values())
    try:
        split = services.take_repayment(
            loan, amount=amount, on=on, today=today, expected_version=expected_version
        )
    except StaleEditError:
        position = position_of(loan, on) if loan.status == LoanStatus.ACTIVE else None
        asks = due_by(position, on) + position.penalty_due if position else 0
        raise LoanError(
            _(
                "Loan %(number)s was paid or changed since the sheet was opened; it now asks "
                "%(amount)s (penalty included). Check the amount and send the sheet again.",
                number=loan.number,
                amount=format_rupiah(asks),
            )
        ) from None
    return Settlement(
        services.repayment_lines(loan, split),
        lambda entry: services.close_if_paid_up(loan, on),
    )


def owed_after(loan: Loan, entry: JournalEntry) -> int:
    """The loan's principal still owed once `entry` is counted (entries of earlier days,
    and of the same day up to this one)."""
    signed = sa.case(
        (JournalLine.side == Side.DEBIT.value, JournalLine.amount), else_=-JournalLine.amount
    )
    total = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.subaccount == loan.subaccount,
            JournalLine.account_id == account_for("loans_receivable").id,
            sa.or_(
                JournalEntry.entry_date < entry.entry_date,
                sa.and_(JournalEntry.entry_date == entry.entry_date, JournalEntry.id <= entry.id),
            ),
        )
    ).scalar_one()
    return int(total)


def receipt(entry: JournalEntry) -> list[ReceiptPart]:
    """Per loan the entry pays: penalty, interest, principal, and the principal still owed."""
    paid: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in entry.lines:
        if (line.subaccount or "").startswith("loan:") and line.side == Side.CREDIT.value:
            paid[int(line.subaccount.split(":")[1])][line.account.purpose] += line.amount
    parts = []
    for loan_id in sorted(paid):
        lines = [(str(word), paid[loan_id][p]) for p, word in RECEIPT_WORDS if paid[loan_id][p]]
        if not lines:
            continue  # e.g. a disbursement: its fee names the loan, but nothing is repaid
        loan = db.session.get(Loan, loan_id)
        parts.append(
            ReceiptPart(
                _("Loan %(number)s", number=loan.number),
                lines,
                (_("Principal still owed after this"), owed_after(loan, entry)),
            )
        )
    return parts


register_part(
    SheetPart(
        name=PART,
        columns=(
            SheetColumn(INSTALLMENT, _l("Installment (Rp)")),
            SheetColumn(PENALTY, _l("Penalty (Rp)")),
        ),
        items=sheet_items,
        settle=settle,
        receipt=receipt,
        gone=_l(
            "A loan on the sheet is not running on the sheet's date: paid off or closed since "
            "the sheet was opened, or paid out after that date. Nothing was saved; check the "
            "date or reload the sheet."
        ),
    )
)
