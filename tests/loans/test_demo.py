"""The demo's loans: every status, arrears in every ageing bucket, books that verify.

The demo is seeded once per database (with `flask seed-demo`, as `make run` does) and the
tests only read it.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.passwords import hash_password
from coop_app.extensions import db
from coop_app.ledger.models import Account, JournalEntry, JournalLine
from coop_app.ledger.subledgers import SUBLEDGERS
from coop_app.loans.models import Loan, LoanEvent, LoanStatus
from coop_app.loans.queries import position_of, schedule_of
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import arrears_of, balances_as_of
from tests.helpers import PASSWORD, login

HISTORY_END = DEMO_TODAY - timedelta(days=1)
#: Ageing buckets of DOMAIN.md by days past due (least, most).
BUCKETS = {"1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "91-180": (91, 180),
           ">180": (181, 10_000)}  # fmt: skip


def _loans(*statuses: LoanStatus) -> list[Loan]:
    query = sa.select(Loan).order_by(Loan.id)
    if statuses:
        query = query.where(Loan.status.in_([status.value for status in statuses]))
    return list(db.session.execute(query).scalars())


def _entries(loan: Loan) -> list[JournalEntry]:
    return list(
        db.session.execute(
            sa.select(JournalEntry)
            .where(JournalEntry.source_ref == loan.number)
            .order_by(JournalEntry.id)
        ).scalars()
    )


def _bucket(days: int) -> str:
    return next((name for name, (least, most) in BUCKETS.items() if least <= days <= most), "")


def test_seed_demo_then_verify_books_exits_0(demo):
    """`flask seed-demo && flask verify-books` (the fixture ran the first command)."""
    result = demo.test_cli_runner().invoke(args=["verify-books"])
    assert result.exit_code == 0, result.output
    assert "The books verify." in result.output


def test_three_products_and_loans_in_every_status(seeded):
    loans = _loans()
    assert {loan.product.code for loan in loans} == {"PU", "PA", "PD"}
    statuses = Counter(loan.status for loan in loans)
    assert set(statuses) == {status.value for status in LoanStatus}
    assert statuses["active"] >= 30 and statuses["closed"] >= 30
    assert statuses["rejected"] >= 2 and statuses["written_off"] == 1
    assert 2 <= statuses["applied"] <= 6 and 2 <= statuses["approved"] <= 6
    borrowers = {loan.member_id for loan in loans}
    assert len(borrowers) >= 60 and len(loans) > len(borrowers), "some borrow again"
    assert all(loan.member.status == "active" for loan in loans)
    assert all(loan.principal <= loan.product.ceiling for loan in loans)
    assert all(date(2023, 11, 1) <= loan.applied_on <= HISTORY_END for loan in loans)


def test_running_loans_are_overdue_in_every_ageing_bucket(seeded):
    running = _loans(LoanStatus.ACTIVE)
    positions = {loan.id: position_of(loan, DEMO_TODAY) for loan in running}
    buckets = Counter(_bucket(p.days_past_due) for p in positions.values())
    assert all(buckets[name] >= 1 for name in BUCKETS), buckets
    assert buckets[""] > len(running) / 2, "most borrowers are current"
    owed = sum(p.outstanding_principal for p in positions.values())
    late = sum(p.outstanding_principal for p in positions.values() if p.days_past_due > 30)
    assert 0 < late / owed < 0.2, "PAR30"
    assert any(p.penalty_due for p in positions.values())


def test_repayments_near_the_due_date_some_late_with_penalty_some_paid_off(seeded):
    sources = Counter(
        db.session.execute(
            sa.select(JournalEntry.source).where(JournalEntry.source.like("loans.%"))
        ).scalars()
    )
    assert sources["loans.repayment"] > 1_000 and sources["loans.payoff"] >= 3
    assert sources["loans.disbursement"] == len(
        _loans(LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF)
    )
    penalties = db.session.execute(
        sa.select(sa.func.count(JournalLine.id))
        .join(Account, Account.id == JournalLine.account_id)
        .where(Account.purpose == "loan_penalty")
    ).scalar()
    assert penalties >= 10
    first, last = db.session.execute(
        sa.select(sa.func.min(JournalEntry.entry_date), sa.func.max(JournalEntry.entry_date)).where(
            JournalEntry.source.like("loans.%")
        )
    ).one()
    assert date(2023, 11, 1) <= first and last <= HISTORY_END
    lateness = Counter()
    for loan in _loans(LoanStatus.CLOSED):
        entries = _entries(loan)
        assert entries[0].source == "loans.disbursement"
        assert entries[0].entry_date == loan.disbursed_on
        assert all(e.created_by.username == "bendahara" for e in entries)
        assert entries[-1].entry_date == loan.closed_on
        if entries[-1].source == "loans.repayment":  # the last installment paid it all
            assert position_of(loan, loan.closed_on).paid_up
        if loan.schedule_version == 0 and entries[-1].source == "loans.repayment":
            due = [item.due_date for item in schedule_of(loan, 0) if item.amount]
            assert len(entries) == len(due) + 1, "one repayment per installment"
            for entry, day in zip(entries[1:], due, strict=True):
                lateness[(entry.entry_date - day).days <= 3] += 1
                assert -5 <= (entry.entry_date - day).days <= 24
    assert lateness[True] > 4 * lateness[False] > 0, "mostly on time, some late"


def test_cached_outstanding_equals_the_journal_and_the_position(seeded):
    assert SUBLEDGERS["loan"].verify() == []
    running: dict[str, int] = defaultdict(int)
    rows = db.session.execute(
        sa.select(JournalLine.subaccount, JournalLine.side, JournalLine.amount)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.subaccount.like("loan:%"), Account.purpose == "loans_receivable")
        .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.id)
    )
    for subaccount, side, amount in rows:
        running[subaccount] += amount if side == "D" else -amount
        assert running[subaccount] >= 0, f"{subaccount}: more principal repaid than lent"
    for loan in _loans():
        if loan.status == LoanStatus.ACTIVE:
            assert loan.outstanding == position_of(loan, DEMO_TODAY).outstanding_principal > 0
        else:
            assert loan.outstanding == 0
        if loan.status in (LoanStatus.APPLIED, LoanStatus.APPROVED, LoanStatus.REJECTED):
            assert _entries(loan) == [] and loan.disbursed_on is None


def test_maker_checker_held_for_every_decided_loan(seeded):
    for loan in _loans():
        assert loan.recorded_by.username == "bendahara"
        if loan.status == LoanStatus.APPLIED:
            assert loan.decided_by_id is None
            continue
        assert loan.decided_by_id != loan.recorded_by_id
        assert loan.decided_by.username == "ketua"
        assert loan.applied_on <= loan.decided_on
        if loan.disbursed_on:
            assert loan.decided_on <= loan.disbursed_on
    assert all(loan.decision_note for loan in _loans(LoanStatus.REJECTED))


def test_one_open_loan_at_a_time_and_no_loan_with_arrears(seeded):
    by_member = defaultdict(list)
    for loan in _loans():
        by_member[loan.member_id].append(loan)
    for loans in by_member.values():
        for before, after in pairwise(loans):
            ended = before.closed_on or (
                before.decided_on if before.status == LoanStatus.REJECTED else None
            )
            assert ended is not None and ended <= after.applied_on
    mandatory = {
        account.member_id: account
        for account in db.session.execute(
            sa.select(SavingsAccount)
            .join(SavingsAccount.product)
            .where(SavingsProduct.kind == SavingsKind.MANDATORY.value)
        ).scalars()
    }
    for loan in _loans():
        account = mandatory[loan.member_id]
        assert account.opened_on < loan.applied_on
        paid = balances_as_of([account.id], loan.applied_on)[account.id]
        behind = arrears_of(account, paid=paid, as_of=loan.applied_on).months
        assert behind <= loan.product.max_arrears_months


def test_rescheduled_loans_keep_both_schedules(seeded):
    events = list(db.session.execute(sa.select(LoanEvent).filter_by(kind="rescheduled")).scalars())
    assert 1 <= len(events) <= 2
    for event in events:
        loan = db.session.get(Loan, event.loan_id)
        old, new = schedule_of(loan, 0), schedule_of(loan, 1)
        assert old and new and loan.schedule_version == event.schedule_version == 1
        assert event.by.username == "ketua" and event.reason
        before = position_of(loan, event.on - timedelta(days=1))
        assert before.days_past_due > 30, "rescheduled because the member fell behind"
        assert sum(item.principal for item in new) == before.outstanding_principal
        assert new[0].due_date > event.on
        if loan.status == LoanStatus.ACTIVE:
            assert position_of(loan, DEMO_TODAY).days_past_due <= 30


def test_one_loan_written_off_with_a_reason(seeded):
    (loan,) = _loans(LoanStatus.WRITTEN_OFF)
    event = db.session.execute(
        sa.select(LoanEvent).filter_by(loan_id=loan.id, kind="written_off")
    ).scalar_one()
    assert event.reason and event.by.username == "ketua" and event.on == loan.closed_on
    write_off = next(e for e in _entries(loan) if e.source == "loans.write_off")
    assert write_off.total == position_of(loan, event.on - timedelta(days=1)).outstanding_principal
    assert position_of(loan, event.on - timedelta(days=1)).days_past_due > 180


def _set_password(app, username: str) -> None:
    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        user.password_hash, user.must_change_password = hash_password(PASSWORD), False
        db.session.commit()


def test_the_demo_member_sees_her_own_loan_and_no_one_elses(demo):
    with demo.app_context():
        member = db.session.execute(sa.select(Member).filter_by(name="Tuti Handayani")).scalar_one()
        own = db.session.execute(
            sa.select(Loan).filter_by(member_id=member.id).order_by(Loan.id)
        ).scalars()
        loan = next(iter(own), None)
        if loan is None:
            pytest.skip("the demo member has no loan with this seed")
        number, repayment = loan.number, _entries(loan)[-1].id
        other = db.session.execute(
            sa.select(Loan.id).where(Loan.member_id != member.id).limit(1)
        ).scalar_one()
        loan_id = loan.id
        db.session.rollback()
    _set_password(demo, "anggota")
    client = demo.test_client()
    assert login(client, "anggota").status_code == 302
    page = client.get(f"/loans/{loan_id}")
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    assert client.get(f"/loans/{loan_id}/receipts/{repayment}").status_code == 200
    assert client.get(f"/loans/{other}").status_code == 404
