"""Writes of loans' money: disburse, repay, pay off, reschedule, write off, settle at a
member's exit (applications and decisions are in `applications`). Every movement of money
is one journal entry through `post_entry`;
the principal still owed is the "loan" sub-ledger, moved by a conditional UPDATE.
Functions flush and never commit.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger import subledgers
from coop_app.ledger.models import Account, AccountKind, JournalEntry, JournalLine, Side, Unit
from coop_app.ledger.services import Line, credit, debit, post_entry
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
from coop_app.loans.schedule import Method, build_schedule
from coop_app.members.models import Member
from coop_app.savings.models import SavingsAccount, SavingsKind
from coop_app.savings.queries import bylaws_account
from coop_app.savings.services import EXIT_OFFSETS, EXIT_SETTLED, Owed

SUBLEDGER = "loan"
#: The source of a loan's payout entry.
DISBURSEMENT = "loans.disbursement"


class LoanError(DomainError):
    """A loan rule refused the action; nothing was written."""


# --- the loan sub-ledger: principal still owed ----------------------------------------------


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
            JournalLine.subaccount.like(f"{SUBLEDGER}:%"),
            Account.kind.not_in([AccountKind.INCOME.value, AccountKind.EXPENSE.value]),
        )
        .group_by(JournalLine.subaccount)
        .subquery()
    )
    name = sa.literal(f"{SUBLEDGER}:") + sa.cast(Loan.id, sa.String)
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
    subledgers.Subledger(SUBLEDGER, _apply, _verify, _total, check_reversal=_check_reversal)
)


# --- claiming a loan for a transaction ------------------------------------------------------


def check_version(loan: Loan, expected_version) -> None:
    """Refuse a stale form; then claim the loan for this transaction.

    The conditional UPDATE is the transaction's first write on the loan: a second
    transaction acting on the same version at the same moment waits for this one and
    then finds the version changed, so two treasurers cannot both pay the same
    installment and a decision cannot be taken twice."""
    claimed = db.session.execute(
        sa.update(Loan)
        .where(Loan.id == loan.id, Loan.version == expected_version)
        .values(version=Loan.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise StaleEditError()
    db.session.expire(loan)


def flush_loan() -> None:
    """Write the loan's changes; a row changed meanwhile is a stale form (StaleEditError)."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEditError() from None


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


def _loan_line(loan: Loan, purpose: str, side: Side, amount: int) -> Line:
    return Line(purpose, side, amount, member_id=loan.member_id, subaccount=loan.subaccount)


def _savings_line(account: SavingsAccount, amount: int) -> Line:
    return Line(
        account.product.account,
        Side.CREDIT,
        amount,
        member_id=account.member_id,
        subaccount=account.subaccount,
    )


def _check_day(loan: Loan, on: date, today: date, since: date | None) -> None:
    if on > today:
        raise LoanError(_("The date cannot be in the future."))
    if since is not None and on < since:
        raise LoanError(_("The date cannot be before %(day)s.", day=since.strftime("%d/%m/%Y")))


def disburse_loan(
    loan: Loan, *, on: date, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Pay an approved loan out: the loan, its admin fee and any savings deducted are each
    their own line; the schedule is built from the day of payment and stored."""
    check_version(loan, expected_version)
    if loan.status != LoanStatus.APPROVED:
        raise LoanError(_("Only an approved loan can be disbursed."))
    _check_day(loan, on, today, loan.decided_on)
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
    _store_schedule(loan, version=0, principal=loan.principal, months=loan.months, start=on)
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
        _loan_line(loan, "loans_receivable", Side.DEBIT, loan.principal),
        credit("cash", loan.principal - fee - saved, member_id=loan.member_id),
    ]
    if fee:
        lines.append(_loan_line(loan, "loan_fee", Side.CREDIT, fee))
    if saved:
        lines.append(_savings_line(voluntary_account(loan.member), saved))
    return lines


def _store_schedule(loan: Loan, *, version: int, principal: int, months: int, start: date) -> None:
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
            lines.append(_loan_line(loan, purpose, Side.CREDIT, amount))
    if split.excess:
        lines.append(_savings_line(voluntary_account(loan.member), split.excess))
    return lines


def _payment_lines(loan: Loan, split: Split, total: int) -> list[Line]:
    return [debit("cash", total, member_id=loan.member_id), *repayment_lines(loan, split)]


def _active(loan: Loan) -> None:
    if loan.status != LoanStatus.ACTIVE:
        raise LoanError(_("This loan is not running: it is closed or not yet disbursed."))


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
    _active(loan)
    _check_day(loan, on, today, loan.disbursed_on)
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
    _close(loan, on)
    return True


def payoff_quote(loan: Loan, on: date) -> Split:
    """What paying the loan off on `on` costs under the product's early-payoff rule."""
    return payoff(position_of(loan, on), EarlyPayoff(loan.product.early_payoff))


def pay_off_loan(
    loan: Loan, *, on: date, today: date, by: User, key: str, expected_version
) -> JournalEntry:
    """Close the loan early: what is due, the principal, and the rule's interest."""
    check_version(loan, expected_version)
    _active(loan)
    _check_day(loan, on, today, loan.disbursed_on)
    entry = _post_payment(
        loan, payoff_quote(loan, on), on=on, by=by, key=key, source="loans.payoff"
    )
    _close(loan, on)
    audit.note(entity=f"loan:{loan.id}", detail=f"paid off entry {entry.id}")
    return entry


def _close(loan: Loan, on: date) -> None:
    loan.status, loan.closed_on = LoanStatus.CLOSED.value, on
    flush_loan()


# --- the board's measures -------------------------------------------------------------------


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
    _active(loan)
    _check_day(loan, on, today, loan.disbursed_on)
    if not 1 <= months <= 360:
        raise LoanError(_("The tenor must be %(min)d to %(max)d months.", min=1, max=360))
    owed = position_of(loan, on).outstanding_principal
    if owed <= 0:
        raise LoanError(_("Nothing is left to reschedule."))
    last_entry = db.session.execute(sa.select(sa.func.max(JournalEntry.id))).scalar() or 0
    version = loan.schedule_version + 1
    _store_schedule(loan, version=version, principal=owed, months=months, start=on)
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
    _active(loan)
    _check_day(loan, on, today, loan.disbursed_on)
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
            _loan_line(loan, "loan_write_off", Side.DEBIT, loan.outstanding),
            _loan_line(loan, "loans_receivable", Side.CREDIT, loan.outstanding),
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


# --- a member's exit ------------------------------------------------------------------------


def _owed_at_exit(member: Member, on: date) -> list[Owed]:
    """A leaving member's running loans: penalty and interest due, and all the principal."""
    owed = []
    loans = db.session.execute(
        sa.select(Loan).where(Loan.member_id == member.id, Loan.status == LoanStatus.ACTIVE.value)
    ).scalars()
    for loan in loans:
        position = position_of(loan, on)
        for label, purpose, amount in (
            (
                _("Penalty of loan %(number)s", number=loan.number),
                "loan_penalty",
                position.penalty_due,
            ),
            (
                _("Interest of loan %(number)s", number=loan.number),
                "loan_interest",
                position.interest_due,
            ),
            (
                _("Loan %(number)s", number=loan.number),
                "loans_receivable",
                position.outstanding_principal,
            ),
        ):
            if amount:
                owed.append(Owed(label, purpose, amount, loan.subaccount))
    return owed


def _close_settled_loans(member: Member, on: date) -> None:
    """Loans whose principal the exit settlement paid in full are closed with it."""
    loans = db.session.execute(
        sa.select(Loan).where(Loan.member_id == member.id, Loan.status == LoanStatus.ACTIVE.value)
    ).scalars()
    for loan in loans:
        db.session.refresh(loan, ["outstanding"])
        if loan.outstanding == 0:
            _close(loan, on)


EXIT_OFFSETS.append(_owed_at_exit)
EXIT_SETTLED.append(_close_settled_loans)
