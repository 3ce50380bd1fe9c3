"""The loan's lifecycle through the real services: maker-checker, disbursement lines, the
allocation order, penalties with grace and cap, payoff, reschedule, write-off, as-of dates.

Expected figures are worked out by hand in the comments, from DOMAIN.md's worked example
(12.000.000, 12 months, 1,5 %/month flat: 1.000.000 principal + 180.000 interest a month).
"""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine
from coop_app.ledger.verify import verify_books
from coop_app.loans import applications, measures, services
from coop_app.loans.models import Loan, LoanInstallment, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.savings import services as savings
from coop_app.savings.models import SavingsKind
from tests.books import account_balance, new_key
from tests.loans.conftest import N, P
from tests.savings.conftest import account_of


@pytest.fixture(autouse=True)
def english(ctx):
    """Messages are matched in English (the catalogue's msgids)."""
    with force_locale("en"):
        yield


APPLIED, DECIDED, PAID_OUT = date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 5)
TODAY = date(2026, 11, 20)


def apply(member, product, treasurer, *, amount=P, months=N, on=APPLIED):
    return applications.apply_for_loan(
        member,
        product,
        amount=amount,
        months=months,
        purpose="Modal warung",
        on=on,
        today=TODAY,
        by=treasurer,
    )


def running_loan(borrower, flat, treasurer, board) -> Loan:
    """The worked example, recorded, approved by the chair and paid out on 5 February."""
    loan = apply(borrower, flat, treasurer)
    db.session.commit()
    applications.approve_loan(
        loan, by=board[0], on=DECIDED, today=TODAY, note="", expected_version=loan.version
    )
    db.session.commit()
    services.disburse_loan(
        loan, on=PAID_OUT, today=TODAY, by=treasurer, key=new_key(), expected_version=loan.version
    )
    db.session.commit()
    return loan


def repay(loan, amount, on, by):
    entry = services.repay_loan(
        loan,
        amount=amount,
        on=on,
        today=TODAY,
        by=by,
        key=new_key(),
        expected_version=loan.version,
    )
    db.session.commit()
    return entry


def pay_off(loan, on, by):
    entry = services.pay_off_loan(
        loan, on=on, today=TODAY, by=by, key=new_key(), expected_version=loan.version
    )
    db.session.commit()
    return entry


def credits(entry) -> dict[str, int]:
    return {line.account.purpose: line.amount for line in entry.lines if line.side == "C"}


def entries() -> int:
    return db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar_one()


# --- applications and maker-checker ----------------------------------------------------------


def test_the_recorder_can_never_approve_their_own_application(borrower, flat, board):
    loan = apply(borrower, flat, board[0])
    db.session.commit()
    with pytest.raises(DomainError, match="another board member"):
        applications.approve_loan(
            loan, by=board[0], on=DECIDED, today=TODAY, note="", expected_version=loan.version
        )
    db.session.rollback()
    assert db.session.get(Loan, loan.id).status == LoanStatus.APPLIED
    applications.approve_loan(
        loan, by=board[1], on=DECIDED, today=TODAY, note="ok", expected_version=loan.version
    )
    db.session.commit()
    assert (loan.status, loan.decided_by_id) == (LoanStatus.APPROVED, board[1].id)


def test_only_the_board_decides_and_a_rejection_posts_nothing(borrower, flat, treasurer, board):
    loan = apply(borrower, flat, treasurer)
    db.session.commit()
    with pytest.raises(DomainError, match="Only the board"):
        applications.approve_loan(
            loan, by=treasurer, on=DECIDED, today=TODAY, note="", expected_version=loan.version
        )
    db.session.rollback()
    before = entries()
    applications.reject_loan(
        db.session.get(Loan, loan.id),
        by=board[0],
        on=DECIDED,
        today=TODAY,
        note="Usaha belum jalan",
        expected_version=loan.version,
    )
    db.session.commit()
    assert loan.status == LoanStatus.REJECTED and entries() == before
    with pytest.raises(DomainError, match="Only an approved loan"):
        services.disburse_loan(
            loan,
            on=PAID_OUT,
            today=TODAY,
            by=treasurer,
            key=new_key(),
            expected_version=loan.version,
        )


@pytest.mark.parametrize(
    ("amount", "months", "message"),
    [
        (20_000_001, 12, "The most this product lends"),
        (1_000_000, 25, "The tenor must be 1 to 24 months"),
        (1_000_000, 0, "The tenor must be 1 to 24 months"),
    ],
)
def test_terms_outside_the_product_are_refused(borrower, flat, treasurer, amount, months, message):
    with pytest.raises(DomainError, match=message):
        apply(borrower, flat, treasurer, amount=amount, months=months)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count(Loan.id))).scalar() == 0


def test_mandatory_arrears_and_open_loans_limit_eligibility(borrower, flat, treasurer):
    # Joined 15 January, paid January only: by 1 June, February to May are due (4 months).
    with pytest.raises(DomainError, match="4 months behind"):
        apply(borrower, flat, treasurer, on=date(2026, 6, 1))
    db.session.rollback()
    apply(borrower, flat, treasurer)
    db.session.commit()
    with pytest.raises(DomainError, match="already has 1 open loan"):
        apply(borrower, flat, treasurer, amount=1_000_000)


# --- disbursement ---------------------------------------------------------------------------


def test_disbursement_posts_the_loan_and_its_fee_and_stores_the_schedule(
    borrower, flat, treasurer, board
):
    cash_before = account_balance("cash")
    loan = running_loan(borrower, flat, treasurer, board)
    entry = db.session.execute(
        sa.select(JournalEntry).where(JournalEntry.source == "loans.disbursement")
    ).scalar_one()
    debits = {line.account.purpose: line.amount for line in entry.lines if line.side == "D"}
    # 1 % admin fee = 120.000 is kept; 11.880.000 leaves the cash box.
    assert debits == {"loans_receivable": 12_000_000}
    assert credits(entry) == {"cash": 11_880_000, "loan_fee": 120_000}
    assert account_balance("cash") == cash_before - 11_880_000
    assert (loan.status, loan.outstanding) == (LoanStatus.ACTIVE, 12_000_000)
    schedule = (
        db.session.execute(
            sa.select(LoanInstallment)
            .where(LoanInstallment.loan_id == loan.id)
            .order_by(LoanInstallment.no)
        )
        .scalars()
        .all()
    )
    assert len(schedule) == 12
    assert {(item.principal, item.interest) for item in schedule} == {(1_000_000, 180_000)}
    assert (schedule[0].due_date, schedule[-1].due_date) == (date(2026, 3, 5), date(2027, 2, 5))
    assert verify_books().ok


# --- repayments, allocation and penalties --------------------------------------------------


def test_a_late_partial_repayment_pays_penalty_then_interest_then_principal(
    borrower, flat, treasurer, board
):
    loan = running_loan(borrower, flat, treasurer, board)
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)  # the first installment, on time
    # The second is due 5 April. By 15 April it is 10 days late, 7 beyond the 3 grace days:
    # 1.180.000 x 0,1 % x 7 = 8.260 of penalty.
    position = position_of(loan, date(2026, 4, 15))
    assert (position.days_past_due, position.penalty_due) == (10, 8_260)
    entry = repay(loan, 500_000, date(2026, 4, 15), treasurer)
    # 500.000 = 8.260 penalty + 180.000 interest + 311.740 principal.
    assert credits(entry) == {
        "loan_penalty": 8_260,
        "loan_interest": 180_000,
        "loans_receivable": 311_740,
    }
    assert loan.outstanding == 12_000_000 - 1_000_000 - 311_740
    # Ten days later, 688.260 is still overdue: 8.260 + 688.260 x 0,1 % x 10 = 15.142,6
    # accrued (floored: 15.142), of which 8.260 is paid.
    later = position_of(loan, date(2026, 4, 25))
    assert (later.days_past_due, later.penalty_due, later.overdue) == (20, 6_882, 688_260)
    # The position of 15 April can be rebuilt afterwards: the same as on the day.
    again = position_of(loan, date(2026, 4, 15))
    assert (again.penalty_accrued, again.penalty_paid) == (8_260, 8_260)
    assert verify_books().ok


def test_the_penalty_of_an_installment_stops_at_its_cap(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    # Installment 1 due 5 March, unpaid: 1.180 a day from 9 March. By 20 May (73 days)
    # it would be 1.180 x 73 = 86.140, capped at 50.000; installment 2 (due 5 April,
    # 42 days) 1.180 x 42 = 49.560; installment 3 (due 5 May, 12 days) 1.180 x 12 = 14.160.
    position = position_of(loan, date(2026, 5, 20))
    assert [state.penalty for state in position.installments[:3]] == [50_000, 49_560, 14_160]
    assert position.days_past_due == 76


def test_another_allocation_order_pays_interest_first(borrower, flat, treasurer, board):
    flat.allocation_order = "interest,principal,penalty"
    db.session.commit()
    loan = running_loan(borrower, flat, treasurer, board)
    entry = repay(loan, 200_000, date(2026, 3, 15), treasurer)
    # 10 days late (7 charged: 8.260 penalty due) but interest comes first: 180.000, then
    # principal 20.000; the penalty waits.
    assert credits(entry) == {"loan_interest": 180_000, "loans_receivable": 20_000}
    assert position_of(loan, date(2026, 3, 15)).penalty_due == 8_260


def test_paying_more_than_the_loan_asks_is_refused_or_saved(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    # Everything the schedule asks on 5 March: 12 x 1.180.000 = 14.160.000.
    before = entries()
    with pytest.raises(DomainError, match=re.escape("at most Rp 14.160.000")):
        repay(loan, 14_160_001, date(2026, 3, 5), treasurer)
    db.session.rollback()
    assert entries() == before
    flat.overpayment = "savings"
    db.session.commit()
    loan = db.session.get(Loan, loan.id)
    entry = repay(loan, 14_200_000, date(2026, 3, 5), treasurer)
    assert credits(entry)["savings_voluntary"] == 40_000
    assert loan.status == LoanStatus.CLOSED and loan.outstanding == 0
    assert account_of(borrower, SavingsKind.VOLUNTARY).balance == 40_000


def test_a_closed_loan_takes_no_payment_and_a_stale_form_is_refused(
    borrower, flat, treasurer, board
):
    loan = running_loan(borrower, flat, treasurer, board)
    stale = loan.version
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    with pytest.raises(StaleEditError):
        services.repay_loan(
            loan,
            amount=1_180_000,
            on=date(2026, 3, 6),
            today=TODAY,
            by=treasurer,
            key=new_key(),
            expected_version=stale,
        )
    db.session.rollback()
    services.pay_off_loan(
        loan,
        on=date(2026, 3, 10),
        today=TODAY,
        by=treasurer,
        key=new_key(),
        expected_version=loan.version,
    )
    db.session.commit()
    with pytest.raises(DomainError, match="not running"):
        repay(loan, 10_000, date(2026, 3, 11), treasurer)


def test_payoff_costs_what_the_product_rule_says(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    # On 20 March nothing is due: the principal rule asks for the 11.000.000 owed only.
    assert services.payoff_quote(loan, date(2026, 3, 20)).total == 11_000_000
    flat.early_payoff = "current_interest"
    assert services.payoff_quote(loan, date(2026, 3, 20)).total == 11_180_000
    flat.early_payoff = "all_interest"
    assert services.payoff_quote(loan, date(2026, 3, 20)).total == 11_000_000 + 11 * 180_000
    flat.early_payoff = "principal"
    db.session.commit()
    entry = pay_off(loan, date(2026, 3, 20), treasurer)
    assert credits(entry) == {"loans_receivable": 11_000_000}
    assert (loan.status, loan.closed_on, loan.outstanding) == (
        LoanStatus.CLOSED,
        date(2026, 3, 20),
        0,
    )
    assert verify_books().ok


# --- the board's measures -------------------------------------------------------------------


def test_reschedule_keeps_the_old_schedule_and_spreads_what_is_owed(
    borrower, flat, treasurer, board
):
    loan = running_loan(borrower, flat, treasurer, board)
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    measures.reschedule_loan(
        loan,
        on=date(2026, 5, 1),
        months=10,
        reason="Panen gagal",
        today=TODAY,
        by=board[0],
        expected_version=loan.version,
    )
    db.session.commit()
    rows = db.session.execute(
        sa.select(LoanInstallment.schedule_version, sa.func.count())
        .where(LoanInstallment.loan_id == loan.id)
        .group_by(LoanInstallment.schedule_version)
    ).all()
    assert dict(rows) == {0: 12, 1: 10}
    # 11.000.000 over 10 months flat at 1,5 %: 1.100.000 + 165.000 each, from 1 June.
    position = position_of(loan, date(2026, 5, 2))
    first = position.installments[0]
    assert (first.due.due_date, first.due.principal, first.due.interest) == (
        date(2026, 6, 1),
        1_100_000,
        165_000,
    )
    assert position.days_past_due == 0 and position.outstanding_principal == 11_000_000
    # The old schedule still answers for a date before the reschedule: April was late.
    assert position_of(loan, date(2026, 4, 30)).days_past_due == 25


def write_off(loan, by):
    """Write the loan off today (the member has moved abroad), and commit."""
    entry = measures.write_off_loan(
        loan,
        on=TODAY,
        reason="Pindah ke luar negeri",
        today=TODAY,
        by=by,
        key=new_key(),
        expected_version=loan.version,
    )
    db.session.commit()
    return entry


def test_write_off_moves_what_is_owed_to_a_loss(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    with pytest.raises(DomainError, match="Only the board"):
        write_off(loan, treasurer)
    db.session.rollback()
    entry = write_off(loan, board[0])
    assert credits(entry) == {"loans_receivable": 11_000_000}
    assert account_balance("loan_write_off") == 11_000_000
    assert (loan.status, loan.outstanding) == (LoanStatus.WRITTEN_OFF, 0)
    assert verify_books().ok


# --- a member's exit ------------------------------------------------------------------------


def test_an_exit_offsets_the_loan_against_the_savings(borrower, flat, treasurer, board):
    from coop_app.members.models import MemberStatus
    from coop_app.members.services import change_status

    loan = running_loan(borrower, flat, treasurer, board)
    savings.deposit(
        account_of(borrower, SavingsKind.VOLUNTARY),
        amount=15_000_000,
        on=date(2026, 3, 1),
        today=TODAY,
        by=treasurer,
        key=new_key(),
    )
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    change_status(
        borrower,
        to=MemberStatus.RESIGNED,
        on=date(2026, 3, 20),
        reason="Pindah",
        today=TODAY,
        by=treasurer,
        expected_version=borrower.version,
    )
    db.session.commit()
    entry = savings.settle_exit(
        borrower, on=date(2026, 3, 20), today=TODAY, by=treasurer, key=new_key()
    )
    db.session.commit()
    # Savings 20.000 + 15.000.000; owed 11.000.000 of principal (nothing overdue).
    assert credits(entry) == {"loans_receivable": 11_000_000, "cash": 4_020_000}
    assert (loan.status, loan.outstanding) == (LoanStatus.CLOSED, 0)
    assert verify_books().ok


def test_lines_name_the_loan_for_the_books_check(borrower, flat, treasurer, board):
    loan = running_loan(borrower, flat, treasurer, board)
    repay(loan, 1_180_000, date(2026, 3, 5), treasurer)
    named = (
        db.session.execute(
            sa.select(JournalLine.subaccount).where(JournalLine.subaccount == loan.subaccount)
        )
        .scalars()
        .all()
    )
    assert len(named) == 4  # the loan and its fee; the principal and interest repaid
