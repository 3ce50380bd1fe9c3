"""The loan sub-ledger: each loan's principal still owed, kept on the loan's row and moved
with the books' lines naming "loan:<id>". Registered with the books when imported:
postings move it by conditional UPDATEs, `flask verify-books` checks it against the lines,
and a reversal from the books that a loan's status cannot follow is refused.
"""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.extensions import db
from coop_app.ledger import subledgers
from coop_app.ledger.models import Account, AccountKind, JournalEntry, JournalLine, Side
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import SUBACCOUNT

#: The source of a loan's payout entry.
DISBURSEMENT = "loans.disbursement"

_LOANS = Loan.__table__
#: One loan's move, prepared once and run for each loan moved (an executemany).
_MOVE = (
    sa.update(_LOANS)
    .where(
        _LOANS.c.id == sa.bindparam("record"),
        _LOANS.c.outstanding + sa.bindparam("delta") >= 0,
    )
    .values(outstanding=_LOANS.c.outstanding + sa.bindparam("delta"))
)


def _apply(moves: list[tuple[int, int]]) -> None:
    """Move loans' outstanding principal by debit-positive deltas, never below zero (the
    condition is in each loan's UPDATE; one prepared statement for all the loans moved)."""
    params = [{"record": loan_id, "delta": delta} for loan_id, delta in moves]
    if db.session.execute(_MOVE, params).rowcount != len(moves):
        raise LoanError(_("That is more principal than the loan still owes."))
    for loan_id, _delta in moves:
        loaded = db.session.identity_map.get(db.session.identity_key(Loan, loan_id))
        if loaded is not None:
            db.session.expire(loaded, ["outstanding"])


def _verify() -> list[str]:
    signed = sa.case(
        (JournalLine.side == Side.DEBIT.value, JournalLine.amount), else_=-JournalLine.amount
    )
    sums = (
        sa.select(JournalLine.subaccount, sa.func.sum(signed).label("total"))
        .join(Account, Account.id == JournalLine.account_id)
        .where(
            JournalLine.subaccount.like(f"{SUBACCOUNT}:%"),
            Account.kind.not_in([AccountKind.INCOME.value, AccountKind.EXPENSE.value]),
        )
        .group_by(JournalLine.subaccount)
        .subquery()
    )
    name = sa.literal(f"{SUBACCOUNT}:") + sa.cast(Loan.id, sa.String)
    rows = db.session.execute(
        sa.select(Loan.id, Loan.outstanding, sa.func.coalesce(sums.c.total, 0)).outerjoin(
            sums, sums.c.subaccount == name
        )
    ).all()
    return [
        f"loan {loan_id}: cached {outstanding}, lines {int(total)}"
        for loan_id, outstanding, total in rows
        if outstanding != int(total) or outstanding < 0
    ]


def _total() -> int:
    total = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(Loan.outstanding), 0)))
    return int(total.scalar_one())


def _check_reversal(entry: JournalEntry, loan_ids: list[int]) -> None:
    """Refuse to reverse, from the books, an entry whose effect on a loan is more than its
    balance: the payout (the loan would stay running with nothing lent), and any entry of a
    loan that is closed or written off (it would owe money again while its status says it
    is finished). A running loan's repayments can be reversed: its position leaves a
    reversed payment out."""
    loans = db.session.execute(sa.select(Loan).where(Loan.id.in_(loan_ids)).order_by(Loan.id))
    for loan in loans.scalars():
        if entry.source == DISBURSEMENT:
            raise LoanError(
                _(
                    "This entry paid out loan %(number)s. A payout cannot be reversed from the "
                    "books: the loan would keep running with nothing lent. If the money came "
                    "back, record it on the loan's page as a payoff.",
                    number=loan.number,
                )
            )
        if loan.status == LoanStatus.CLOSED:
            raise LoanError(
                _(
                    "Loan %(number)s is closed: reversing this entry would leave a closed loan "
                    "owing money, so its entries stay as they are.",
                    number=loan.number,
                )
            )
        if loan.status == LoanStatus.WRITTEN_OFF:
            raise LoanError(
                _(
                    "Loan %(number)s is written off: reversing this entry would leave a "
                    "written-off loan owing money, so its entries stay as they are.",
                    number=loan.number,
                )
            )


subledgers.register(
    subledgers.Subledger(SUBACCOUNT, _apply, _verify, _total, check_reversal=_check_reversal)
)
