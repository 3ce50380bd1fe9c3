"""Writes of a loan's money: pay it out, take repayments, pay it off early. Every movement
of money is one journal entry through `post_entry`, and moves the loan's sub-ledger (the
principal still owed; `subledger`). Applications and the board's decision are in
`applications`, the board's reschedule and write-off in `measures`, the settlement at a
member's exit in `exit_settlement`. Functions flush and never commit.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import Line, credit, debit, post_entry

# The loans' part of a member's exit settlement registers itself there when imported (as
# the loans' sub-ledger does with the books, imported below for the payout's source).
from coop_app.loans import exit_settlement  # noqa: F401
from coop_app.loans.errors import LoanError
from coop_app.loans.models import (
    PPM,
    EarlyPayoff,
    Loan,
    LoanEvent,
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    Overpayment,
)
from coop_app.loans.position import Split, allocate, payoff
from coop_app.loans.queries import payments_of, position_of
from coop_app.loans.records import check_day, check_running, check_version, close_loan, flush_loan
from coop_app.loans.schedule import Method, build_schedule
from coop_app.loans.subledger import DISBURSEMENT
from coop_app.members.models import Member
from coop_app.savings.models import SavingsAccount, SavingsKind
from coop_app.savings.queries import bylaws_account

# --- disbursement ---------------------------------------------------------------------------


def share(amount: int, ppm: int) -> int:
    """`ppm` parts per million of `amount`, rounded half up to whole rupiah."""
    value = Decimal(amount) * ppm / PPM
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def voluntary_account(member: Member) -> SavingsAccount:
    account = bylaws_account(member, SavingsKind.VOLUNTARY)
    if account is None:
        raise LoanError(_("The member has no open voluntary savings account."))
    return account


def loan_line(loan: Loan, purpose: str, side: Side, amount: int) -> Line:
    """A line on the account of `purpose` naming the loan (its sub-ledger) and its member."""
    return Line(purpose, side, amount, member_id=loan.member_id, subaccount=loan.subaccount)


def _savings_line(account: SavingsAccount, amount: int) -> Line:
    return Line(
        account.product.account,
        Side.CREDIT,
        amount,
        member_id=account.member_id,
        subaccount=account.subaccount,
    )


def disburse_loan(
    loan: Loan, *, on: date, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Pay an approved loan out: the loan, its admin fee and any savings deducted are each
    their own line; the schedule is built from the day of payment and stored."""
    check_version(loan, expected_version)
    if loan.status != LoanStatus.APPROVED:
        raise LoanError(_("Only an approved loan can be disbursed."))
    check_day(on, today, loan.decided_on)
    entry = post_entry(
        on=on,
        description=_(
            "Disbursement of loan %(number)s, %(member)s",
            number=loan.number,
            member=loan.member.name,
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=disbursement_lines(loan, loan.product),
        source=DISBURSEMENT,
        source_ref=loan.number,
        key=key,
        by=by,
    )
    store_schedule(loan, version=0, principal=loan.principal, months=loan.months, start=on)
    db.session.add(
        LoanEvent(
            loan_id=loan.id,
            kind="disbursed",
            on=on,
            reason="",
            schedule_version=0,
            after_entry_id=entry.id,
            by_id=by.id,
        )
    )
    loan.status, loan.disbursed_on = LoanStatus.ACTIVE.value, on
    flush_loan()
    audit.note(entity=f"loan:{loan.id}", detail=f"disbursed entry {entry.id}")
    return entry


def disbursement_lines(loan: Loan, product: LoanProduct) -> list[Line]:
    """The loan paid out: the principal owed (naming the loan), the cash handed over, and
    the admin fee and any savings deducted, each its own line."""
    fee, saved = (
        share(loan.principal, product.admin_fee_ppm),
        share(loan.principal, product.savings_ppm),
    )
    lines = [
        loan_line(loan, "loans_receivable", Side.DEBIT, loan.principal),
        credit("cash", loan.principal - fee - saved, member_id=loan.member_id),
    ]
    if fee:
        lines.append(loan_line(loan, "loan_fee", Side.CREDIT, fee))
    if saved:
        lines.append(_savings_line(voluntary_account(loan.member), saved))
    return lines


def store_schedule(loan: Loan, *, version: int, principal: int, months: int, start: date) -> None:
    """Store the schedule of `principal` over `months` from `start` as the loan's `version`
    (the payout's is 0, each reschedule's the next); earlier versions are kept."""
    for item in build_schedule(
        principal=principal,
        months=months,
        monthly_rate=loan.monthly_rate,
        method=Method(loan.method),
        start=start,
        rounding=loan.rounding,
    ):
        db.session.add(
            LoanInstallment(
                loan_id=loan.id,
                schedule_version=version,
                no=item.no,
                due_date=item.due_date,
                principal=item.principal,
                interest=item.interest,
            )
        )
    loan.schedule_version = version


# --- repayments -----------------------------------------------------------------------------


def repayment_lines(loan: Loan, split: Split) -> list[Line]:
    """The credits of a repayment split: penalty, interest and principal naming the loan,
    any excess into voluntary savings. The cash debit is the caller's (the collection
    sheet puts these lines into the member's one entry beside their savings)."""
    lines = []
    for purpose, amount in (
        ("loan_penalty", split.penalty),
        ("loan_interest", split.interest),
        ("loans_receivable", split.principal),
    ):
        if amount:
            lines.append(loan_line(loan, purpose, Side.CREDIT, amount))
    if split.excess:
        lines.append(_savings_line(voluntary_account(loan.member), split.excess))
    return lines


def _payment_lines(loan: Loan, split: Split, total: int) -> list[Line]:
    return [debit("cash", total, member_id=loan.member_id), *repayment_lines(loan, split)]


def _post_payment(loan: Loan, split: Split, *, on: date, by: User, key: str, source: str):
    return post_entry(
        on=on,
        description=_(
            "Repayment of loan %(number)s, %(member)s", number=loan.number, member=loan.member.name
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=_payment_lines(loan, split, split.total),
        source=source,
        source_ref=loan.number,
        key=key,
        by=by,
    )


def repay_loan(
    loan: Loan, *, amount: int, on: date, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Take a repayment of any amount: penalty, interest, principal in the product's order;
    more than the loan asks for is refused or saved, as the product says."""
    split = take_repayment(
        loan, amount=amount, on=on, today=today, expected_version=expected_version
    )
    entry = _post_payment(loan, split, on=on, by=by, key=key, source="loans.repayment")
    close_if_paid_up(loan, on)
    audit.note(entity=f"loan:{loan.id}", detail=f"repayment {amount} entry {entry.id}")
    return entry


def _check_no_later_repayment(loan: Loan, on: date) -> None:
    """A repayment dated before one already recorded is refused: the position of its day
    does not know the later payment, so the same installment would be paid twice."""
    later = [p.on for p in payments_of(loan, after_entry_id=0, as_of=date.max) if p.on > on]
    if later:
        raise LoanError(
            _(
                "Loan %(number)s has a repayment dated %(day)s; use that date or a later one.",
                number=loan.number,
                day=max(later).strftime("%d/%m/%Y"),
            )
        )


def take_repayment(loan: Loan, *, amount: int, on: date, today: date, expected_version) -> Split:
    """Claim the loan for this transaction (a stale version is refused, and a second
    payment on the same version waits, then is refused), check it takes a payment on `on`,
    and split `amount` by the product's order; an excess the product refuses is refused.
    Posts nothing: the caller posts `repayment_lines` and then `close_if_paid_up`."""
    check_version(loan, expected_version)
    check_running(loan)
    check_day(on, today, loan.disbursed_on)
    _check_no_later_repayment(loan, on)
    split = allocate(position_of(loan, on), amount, loan.product.order)
    if split.excess and loan.product.overpayment == Overpayment.REFUSE:
        raise LoanError(
            _(
                "The payment is more than the loan asks for; at most %(max)s.",
                max=format_rupiah(amount - split.excess),
            )
        )
    return split


def close_if_paid_up(loan: Loan, on: date) -> bool:
    """Close the loan if, with the payments posted so far, it asks for nothing more."""
    if not position_of(loan, on).paid_up:
        return False
    close_loan(loan, on)
    return True


def payoff_quote(loan: Loan, on: date) -> Split:
    """What paying the loan off on `on` costs under the product's early-payoff rule."""
    return payoff(position_of(loan, on), EarlyPayoff(loan.product.early_payoff))


def pay_off_loan(
    loan: Loan, *, on: date, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Close the loan early: what is due, the principal, and the rule's interest."""
    check_version(loan, expected_version)
    check_running(loan)
    check_day(on, today, loan.disbursed_on)
    entry = _post_payment(
        loan, payoff_quote(loan, on), on=on, by=by, key=key, source="loans.payoff"
    )
    close_loan(loan, on)
    audit.note(entity=f"loan:{loan.id}", detail=f"paid off entry {entry.id}")
    return entry
