"""Write many loans at once with their schedules, events and money (a district's history).

For thousands of loans whose story is already decided (the district-scale demo): the
services cost a few flushes and journal reads per loan and per repayment. Why this is as
safe as `apply_for_loan`, `approve_loan` or `reject_loan`, `disburse_loan`, `repay_loan`
and `pay_off_loan` once per loan:
- each loan passes `check_terms` (an active member, a product on offer, its tenor range
  and ceiling) and takes the product's method, rate and rounding, as an application
  does; the eligibility that depends on the past (savings arrears, open loans) is the
  caller's to check as `check_eligible` checks it (as the order of withdrawals is for
  the ledger's bulk path);
- maker-checker: recorded by `staff`, decided by `board`, an admin and another user (the
  database's check is the backstop); the days come in order (applied, decided, paid out,
  each repayment, closed) and none is after `today`;
- the status is the story's: applied, rejected (with a reason) or approved, with nothing
  paid out; active, paid out and not closed; closed by a payoff, or by a last repayment
  after which the position (rebuilt by `position`) asks for nothing, as
  `close_if_paid_up` checks; write-offs and reschedules stay with the services;
- the schedule is `build_schedule`'s from the day of payment, stored as version 0 with a
  "disbursed" event pointing at the disbursement entry, as `disburse_loan` stores them;
- the money is `disbursement_lines`' and `repayment_lines`' lines, posted through
  `post_entries_bulk` (its checks, and the loan sub-ledger's conditional update of the
  principal owed, never below zero), each loan's disbursement before its repayments;
- the version counts the claims and flushes the services would have made.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.db import reserve_ids, utcnow
from coop_app.extensions import db
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import Unit
from coop_app.ledger.services import debit
from coop_app.loans.applications import check_terms
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanEvent, LoanInstallment, LoanProduct, LoanStatus
from coop_app.loans.position import Due, Payment, Split, position
from coop_app.loans.queries import terms_of
from coop_app.loans.services import disbursement_lines, repayment_lines
from coop_app.members.models import Member

#: Entries per call of the ledger's bulk path.
PIECE = 20_000


@dataclass(frozen=True)
class Paid:
    """A repayment for installment `no` (in its key); `payoff`: paying the loan off."""

    no: int
    on: date
    split: Split
    payoff: bool = False


@dataclass
class LoanStory:
    """One loan from application to where the history leaves it."""

    member: Member
    product: LoanProduct
    amount: int
    months: int
    purpose: str
    applied: date
    status: LoanStatus
    decided: date | None = None
    note: str | None = None
    paid_out: date | None = None
    #: The schedule from the day of payment (`build_schedule`'s installments, as Due).
    schedule: Sequence[Due] = ()
    paid: list[Paid] = field(default_factory=list)
    closed: date | None = None


def write_loans(
    stories: Sequence[LoanStory], *, staff: User, board: User, today: date, key: str
) -> list[int]:
    """Write `stories`' loans, schedules, events and entries (keyed `<key>:<loan id>:...`);
    return the loans' ids. Refuses, before writing, a story the services would refuse."""
    if not stories:
        return []
    if board.role != Role.ADMIN or board.id == staff.id:
        raise LoanError(_("Only the board approves or rejects loans."))
    for story in stories:
        _check(story, today)
    ids = reserve_ids(db.session, Loan.__table__, len(stories))
    db.session.execute(
        sa.insert(Loan.__table__),
        [
            _loan_row(loan_id, story, staff, board)
            for loan_id, story in zip(ids, stories, strict=True)
        ],
    )
    loans = [
        Loan(id=loan_id, member_id=story.member.id, principal=story.amount)
        for loan_id, story in zip(ids, stories, strict=True)
    ]
    schedules = _schedule_rows(loans, stories)
    if schedules:
        db.session.execute(sa.insert(LoanInstallment.__table__), schedules)
    texts = {
        "out": _("Disbursement of loan %(number)s, %(member)s"),
        "in": _("Repayment of loan %(number)s, %(member)s"),
    }
    entries, firsts = [], []
    for loan, story in zip(loans, stories, strict=True):
        if story.paid_out is not None:
            firsts.append((loan, story, len(entries)))
            entries += _entries(loan, story, staff, texts, f"{key}:{loan.id}")
    posted = []
    for start in range(0, len(entries), PIECE):
        posted += post_entries_bulk(entries[start : start + PIECE])
    events = [_event(loan, story, posted[index], staff) for loan, story, index in firsts]
    if events:
        db.session.execute(sa.insert(LoanEvent.__table__), events)
    return ids


def _check(story: LoanStory, today: date) -> None:
    """The refusals of the services, for a story told at once."""
    check_terms(story.member, story.product, amount=story.amount, months=story.months)
    days = [story.applied, story.decided, story.paid_out, *(p.on for p in story.paid)]
    days = [day for day in [*days, story.closed] if day is not None]
    if days != sorted(days) or days[-1] > today:
        raise LoanError(_("The decision date must be between the application and today."))
    decided, paid_out, closed = story.decided is not None, story.paid_out is not None, story.closed
    expected = {
        LoanStatus.APPLIED: not decided and not paid_out,
        LoanStatus.REJECTED: decided and not paid_out and bool(story.note),
        LoanStatus.APPROVED: decided and not paid_out,
        LoanStatus.ACTIVE: paid_out and closed is None,
        LoanStatus.CLOSED: paid_out and closed is not None,
    }
    if not expected.get(story.status) or (story.paid and not paid_out):
        raise LoanError(_("This loan is not running: it is closed or not yet disbursed."))
    if closed is not None and not story.paid[-1].payoff and not _paid_up(story):
        raise LoanError(_("This loan is not running: it is closed or not yet disbursed."))


def _paid_up(story: LoanStory) -> bool:
    payments = [
        Payment(p.on, p.split.principal, p.split.interest, p.split.penalty) for p in story.paid
    ]
    return position(story.schedule, payments, terms_of(story.product), story.closed).paid_up


def _loan_row(loan_id: int, story: LoanStory, staff: User, board: User) -> dict:
    """As `apply_for_loan` records it, with what the later services changed; the version
    counts their claims (each decision, disbursement and repayment) and their flushes."""
    product, paid = story.product, story.paid
    version = 1
    if story.decided is not None:
        version += 2
    if story.paid_out is not None:
        version += 2 + len(paid) + (1 if story.closed else 0)
    return {
        "id": loan_id,
        "member_id": story.member.id,
        "product_id": product.id,
        "purpose": " ".join(story.purpose.split())[:255],
        "principal": story.amount,
        "months": story.months,
        "method": product.method,
        "rate_ppm": product.rate_ppm,
        "rounding": product.rounding,
        "status": story.status.value,
        "applied_on": story.applied,
        "recorded_by_id": staff.id,
        "decided_by_id": board.id if story.decided else None,
        "decided_on": story.decided,
        "decision_note": story.note,
        "disbursed_on": story.paid_out,
        "closed_on": story.closed,
        "outstanding": 0,
        "schedule_version": 0,
        "version": version,
    }


def _schedule_rows(loans: list[Loan], stories: Sequence[LoanStory]) -> list[dict]:
    return [
        {
            "loan_id": loan.id,
            "schedule_version": 0,
            "no": due.no,
            "due_date": due.due_date,
            "principal": due.principal,
            "interest": due.interest,
        }
        for loan, story in zip(loans, stories, strict=True)
        for due in story.schedule
    ]


def _entries(loan: Loan, story: LoanStory, staff: User, texts: dict, key: str) -> list:
    """The disbursement, then each repayment, as `disburse_loan` and `repay_loan` (or
    `pay_off_loan`) post them."""
    names = {"number": loan.number, "member": story.member.name}
    made = [
        BulkEntry(
            story.paid_out,
            texts["out"] % names,
            Unit.SAVINGS_LOANS,
            disbursement_lines(loan, story.product),
            "loans.disbursement",
            f"{key}:disbursement",
            staff.id,
            loan.number,
        )
    ]
    for paid in story.paid:
        lines = [debit("cash", paid.split.total, member_id=loan.member_id)]
        made.append(
            BulkEntry(
                paid.on,
                texts["in"] % names,
                Unit.SAVINGS_LOANS,
                lines + repayment_lines(loan, paid.split),
                "loans.payoff" if paid.payoff else "loans.repayment",
                f"{key}:0:{paid.no}",
                staff.id,
                loan.number,
            )
        )
    return made


def _event(loan: Loan, story: LoanStory, entry_id: int, staff: User) -> dict:
    """The schedule taking effect: repayments count from the disbursement entry on."""
    return {
        "loan_id": loan.id,
        "kind": "disbursed",
        "on": story.paid_out,
        "reason": "",
        "schedule_version": 0,
        "after_entry_id": entry_id,
        "by_id": staff.id,
        "created_at": utcnow(),
    }
