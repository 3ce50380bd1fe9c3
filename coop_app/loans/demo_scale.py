"""The district-scale demo's loans: a third of the active members borrow, loan after loan.

Each borrower's loans are told as the demo tells its own (the same products, amounts,
tenors, decisions; repayments near the due date, some late with a penalty, some paid off
early; the last loan of some falls behind, so that DEMO_TODAY shows every ageing bucket;
some applications wait), from the random generator alone, and written by `loans.bulk`.
Eligibility is checked as `check_eligible` checks it (`check_terms`; the mandatory
savings arrears by `arrears_of` and `check_arrears`, on the member's savings read from
the journal once per batch of borrowers; one open loan at a time, as each loan starts
after the previous one ended). The repayments are `plan_repayments`'. A few borrowers'
last loan is written off or rescheduled through the loan services themselves (the
demo's `Lender.special`), once their earlier loans are written.
"""

import bisect
import random
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.demo_size import DemoSize
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine, Side
from coop_app.loans.bulk import write_loans
from coop_app.loans.demo import LOGIN_MEMBER_NAME, PRODUCTS, Lender
from coop_app.loans.demo_story import Storyteller
from coop_app.loans.products import add_loan_product
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member, MemberStatus
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct

#: Share of the active members who borrow at some time; borrowers planned per batch.
BORROWERS, CHUNK = 0.35, 300
#: A write-off and two reschedules (closed, running) through the services per so many members.
SPECIAL_EVERY = 2_000


@dataclass
class Borrower:
    """A member who borrows, with what the eligibility rules read of their savings."""

    member: Member
    #: The member's mandatory savings account, and its balance after each day with money.
    account: SavingsAccount
    days: list[date]
    balances: list[int]

    @property
    def active_from(self) -> date:
        return self.account.opened_on

    def paid_by(self, day: date) -> int:
        """Mandatory savings paid up to `day` (as `balances_as_of` reads them)."""
        index = bisect.bisect_right(self.days, day)
        return self.balances[index - 1] if index else 0


def seed_loans_at_scale(rng: random.Random, size: DemoSize) -> None:
    """Products, then the borrowers' loans, a batch of borrowers at a time."""
    users = {u.username: u for u in db.session.execute(sa.select(User)).scalars()}
    staff, board = users["bendahara"], users["ketua"]
    lender = Lender(rng, staff=staff, board=board)
    for code, name, terms in PRODUCTS:
        lender.products[code] = add_loan_product(code=code, name=name, **terms)
    specials = [("write_off", None), ("reschedule", "closed"), ("reschedule", "running")]
    teller = Storyteller(rng, lender, size.first_day, specials * (size.members // SPECIAL_EVERY))
    for borrowers in _batches(rng):
        stories, later = teller.tell(borrowers)
        write_loans(stories, staff=staff, board=board, today=DEMO_TODAY, key="demo:loan")
        for member, kind, detail, plan in later:
            lender.special(member, kind, detail, plan)
        _forget(borrowers)


def _batches(rng: random.Random):
    """The borrowers (the demo member and a share of the other active members), by id,
    CHUNK at a time, with their mandatory savings."""
    rows = db.session.execute(
        sa.select(Member.id, Member.name)
        .where(Member.status == MemberStatus.ACTIVE.value)
        .order_by(Member.id)
    ).all()
    own = [member_id for member_id, name in rows if name == LOGIN_MEMBER_NAME]
    others = [member_id for member_id, name in rows if name != LOGIN_MEMBER_NAME]
    chosen = sorted(own + rng.sample(others, round(BORROWERS * len(others))))
    for start in range(0, len(chosen), CHUNK):
        yield _borrowers(chosen[start : start + CHUNK])


def _borrowers(ids: list[int]) -> list[Borrower]:
    """The members of `ids` with their open mandatory savings account and its history."""
    members = {
        member.id: member
        for member in db.session.execute(sa.select(Member).where(Member.id.in_(ids))).scalars()
    }
    accounts = db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsAccount.product)
        .where(
            SavingsAccount.member_id.in_(ids),
            SavingsAccount.closed_on.is_(None),
            SavingsProduct.kind == SavingsKind.MANDATORY.value,
            SavingsProduct.automatic.is_(True),
        )
    ).scalars()
    found = {
        account.subaccount: Borrower(members[account.member_id], account, [], [])
        for account in accounts
    }
    _read_savings(found)
    by_member = {borrower.member.id: borrower for borrower in found.values()}
    return [by_member[member_id] for member_id in ids if member_id in by_member]


def _read_savings(borrowers: dict[str, Borrower]) -> None:
    """Each borrower's mandatory savings balance after each day that moved it, from the
    journal (all the batch's accounts in one query)."""
    lines = db.session.execute(
        sa.select(
            JournalLine.subaccount, JournalEntry.entry_date, JournalLine.side, JournalLine.amount
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.subaccount.in_(borrowers))
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    )
    for subaccount, day, side, amount in lines:
        borrower = borrowers[subaccount]
        before = borrower.balances[-1] if borrower.balances else 0
        balance = before + (amount if side == Side.CREDIT.value else -amount)
        if borrower.days and borrower.days[-1] == day:
            borrower.balances[-1] = balance
        else:
            borrower.days.append(day)
            borrower.balances.append(balance)


def _forget(borrowers: list[Borrower]) -> None:
    """Let the session drop a batch's members and accounts (their loans are written)."""
    db.session.flush()
    for borrower in borrowers:
        db.session.expunge(borrower.account)
        db.session.expunge(borrower.member)
