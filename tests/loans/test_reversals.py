"""Reversing a loan's entries from the books (the books screen reverses any entry).

A loan's record follows some of its entries beyond its balance: the payout made it
active, and a payoff, a write-off or the repayment that paid it up closed it. A reversal
of such an entry would leave the loan's status saying otherwise than its lines (a running
loan with nothing lent, a closed loan that owes money), so the books refuse it and write
nothing; a repayment of a running loan is reversed as before (its position leaves the
reversed payment out).
"""

from datetime import date

import pytest
import sqlalchemy as sa
from flask.globals import request_ctx

from coop_app.auth.roles import Role
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.verify import verify_books
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import position_of
from tests.helpers import post
from tests.loans.conftest import P
from tests.loans.test_services import (
    PAID_OUT,
    TODAY,
    english,
    entries,
    pay_off,
    repay,
    running_loan,
    write_off,
)

__all__ = ["english"]  # messages are matched in English

REASON = "Salah catat"


def payout_of(loan: Loan) -> JournalEntry:
    return db.session.execute(
        sa.select(JournalEntry).where(
            JournalEntry.source == "loans.disbursement", JournalEntry.source_ref == loan.number
        )
    ).scalar_one()


def refused(entry: JournalEntry, loan: Loan, message: str) -> None:
    """The reversal is refused with `message`; no entry is written, the loan is as it was."""
    before = (entries(), loan.status, loan.outstanding, loan.version)
    with pytest.raises(DomainError, match=message):
        reverse_entry(entry, on=TODAY, reason=REASON, by=None)
    db.session.rollback()
    db.session.refresh(loan)
    assert (entries(), loan.status, loan.outstanding, loan.version) == before
    assert verify_books().ok


def test_a_payout_is_not_reversed_from_the_books(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    assert loan.outstanding == P  # nothing repaid: the lines alone would allow the reversal
    refused(payout_of(loan), loan, f"paid out loan {loan.number}")


def test_the_entries_of_a_closed_loan_stay(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    repayment = repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    payoff = pay_off(loan, date(2026, 3, 20), treasurer)
    assert loan.status == LoanStatus.CLOSED
    for entry in (payoff, repayment):
        refused(entry, loan, f"Loan {loan.number} is closed")


def test_a_write_off_stays(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    entry = write_off(loan, board[0])
    refused(entry, loan, f"Loan {loan.number} is written off")


def test_a_repayment_of_a_running_loan_is_reversed(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    repayment = repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    assert loan.outstanding == P - 1_000_000
    reverse_entry(repayment, on=date(2026, 3, 6), reason=REASON, by=None)
    db.session.commit()
    assert (loan.status, loan.outstanding) == (LoanStatus.ACTIVE, P)
    assert position_of(loan, date(2026, 3, 6)).outstanding_principal == P
    assert verify_books().ok


def test_the_books_screen_shows_the_refusal_and_changes_nothing(
    app, client, login_as, borrower, flat, treasurer, board
):
    loan = running_loan(borrower, flat, treasurer, board)
    entry_id, loan_id, count = payout_of(loan).id, loan.id, entries()
    db.session.commit()
    held = request_ctx._get_current_object()
    held.pop()  # the client's requests run in contexts of their own, as a browser's would
    try:
        login_as(Role.ADMIN)
        shown = client.get(f"/books/entries/{entry_id}").get_data(as_text=True)
        response = post(
            client,
            f"/books/entries/{entry_id}/reverse",
            {"on": PAID_OUT.strftime("%d/%m/%Y"), "reason": REASON},
        )
        page = response.get_data(as_text=True)
        with app.app_context():
            after = (entries(), db.session.get(Loan, loan_id).status)
    finally:
        held.push()
    # The entry's page says why in place of the form; a form sent anyway is refused.
    assert 'data-testid="reversal-refused"' in shown and "tidak dapat dibalik" in shown
    assert f"/books/entries/{entry_id}/reverse" not in shown
    assert response.status_code == 422
    assert "mencairkan pinjaman" in page and "tidak dapat dibalik" in page  # in Indonesian
    assert after == (count, LoanStatus.ACTIVE)
