"""The demo's savings: years of history that keep every invariant of the books and of savings.

The demo is seeded once per database (with `flask seed-demo`, as `make run` does) and the
tests only read it.
"""

import shutil
from collections import Counter, defaultdict
from datetime import date

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from coop_app import create_app
from coop_app.config import config_for_tests
from coop_app.demo import seed_demo
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.administration import lock_period
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import (
    Account,
    AccountBalance,
    JournalEntry,
    JournalLine,
    PeriodLock,
    Side,
    Unit,
)
from coop_app.ledger.services import PostingError, credit, debit, is_locked, post_entry
from coop_app.ledger.subledgers import SUBLEDGERS
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member
from coop_app.savings.collection import batch_entries
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import arrears_list, passbook, receipt_lines, receipt_number
from coop_app.savings.services import savings_line
from tests.helpers import PASSWORD, login
from tests.savings.conftest import TODAY, account_of

#: The arrears are read as of the demo's "today", 1 November: October, the last month of
#: its history, has ended and is due; November is not yet.
ARREARS_AS_OF = date(2026, 11, 1)
SIGNED = sa.case((JournalLine.side == "D", JournalLine.amount), else_=-JournalLine.amount)


def _all(query) -> list:
    return db.session.execute(sa.text(query) if isinstance(query, str) else query).all()


# --- the CLI: written against coop_app/ledger/verify.py (the books' own checks) -----------


def test_seed_demo_then_verify_books_exits_0(demo):
    """`flask seed-demo && flask verify-books` (the fixture ran the first command)."""
    pytest.importorskip("coop_app.ledger.verify")
    result = demo.test_cli_runner().invoke(args=["verify-books"])
    assert result.exit_code == 0, result.output
    assert "The books verify." in result.output


# --- the books ----------------------------------------------------------------------------


def test_history_spans_years_up_to_demo_today(seeded):
    first, last, entries = db.session.execute(
        sa.select(
            sa.func.min(JournalEntry.entry_date),
            sa.func.max(JournalEntry.entry_date),
            sa.func.count(JournalEntry.id),
        )
    ).one()
    assert first <= DEMO_TODAY - relativedelta(months=24) and last <= DEMO_TODAY
    assert first.year == 2018 and entries > 5_000
    months = {(day.year, day.month) for (day,) in _all(sa.select(JournalEntry.entry_date))}
    recent = [DEMO_TODAY - relativedelta(months=n) for n in range(1, 25)]
    assert all((day.year, day.month) in months for day in recent), "a gap in the last 2 years"
    assert len(months) >= 24


def test_every_entry_balances_with_two_lines_or_more(seeded):
    debits = sa.func.sum(sa.case((JournalLine.side == "D", JournalLine.amount), else_=0))
    credits = sa.func.sum(sa.case((JournalLine.side == "C", JournalLine.amount), else_=0))
    rows = _all(
        sa.select(JournalLine.entry_id, debits, credits, sa.func.count()).group_by(
            JournalLine.entry_id
        )
    )
    assert len(rows) == db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar()
    assert all(d == c and n >= 2 for _entry, d, c, n in rows)


def test_cached_account_balances_equal_their_lines(seeded):
    sums = dict(
        _all(
            sa.select(JournalLine.account_id, sa.func.sum(SIGNED)).group_by(JournalLine.account_id)
        )
    )
    balances = _all(sa.select(AccountBalance.account_id, AccountBalance.balance))
    assert len(balances) == db.session.execute(sa.select(sa.func.count(Account.id))).scalar()
    assert all(balance == sums.get(account_id, 0) for account_id, balance in balances)
    cash = db.session.execute(sa.select(Account).filter_by(purpose="cash")).scalar_one()
    assert sums[cash.id] > 0


def test_savings_balances_equal_their_lines_and_never_went_below_zero(seeded):
    assert SUBLEDGERS["savings"].verify() == []
    running: dict[str, int] = defaultdict(int)
    rows = _all(
        sa.select(JournalLine.subaccount, JournalLine.side, JournalLine.amount)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.subaccount.like("savings:%"))
        .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.id)
    )
    for subaccount, side, amount in rows:
        running[subaccount] += amount if side == "C" else -amount
        assert running[subaccount] >= 0, f"{subaccount} went below zero"
    accounts = db.session.execute(sa.select(SavingsAccount)).scalars().all()
    assert all(account.balance == running[account.subaccount] >= 0 for account in accounts)


def test_cash_never_ran_out_in_any_month(seeded):
    cash = db.session.execute(sa.select(Account.id).filter_by(purpose="cash")).scalar_one()
    per_day = _all(
        sa.select(JournalEntry.entry_date, sa.func.sum(SIGNED))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id == cash)
        .group_by(JournalEntry.entry_date)
        .order_by(JournalEntry.entry_date)
    )
    balance = 0
    for _day, change in per_day:
        balance += change
        assert balance >= 0


def test_the_books_are_closed_through_september_2026(seeded):
    first = db.session.execute(sa.select(sa.func.min(JournalEntry.entry_date))).scalar()
    locked = set(db.session.execute(sa.select(PeriodLock.month)).scalars())
    month, expected = first.replace(day=1), set()
    while month <= date(2026, 9, 1):
        expected.add(month)
        month += relativedelta(months=1)
    assert locked == expected
    assert is_locked(date(2026, 9, 30)) and not is_locked(date(2026, 10, 1))
    with pytest.raises(PostingError):
        post_entry(
            on=date(2026, 9, 15),
            description="late",
            unit="savings_loans",
            lines=[debit("cash", 5_000), credit("savings_voluntary", 5_000)],
            source="test",
            key="test:late",
            by=None,
        )


# --- savings ------------------------------------------------------------------------------


def _products() -> dict[str, SavingsProduct]:
    return {p.code: p for p in db.session.execute(sa.select(SavingsProduct)).scalars()}


def test_members_with_savings_and_their_products(seeded):
    products = _products()
    members = db.session.execute(sa.select(Member)).scalars().all()
    accounts = db.session.execute(sa.select(SavingsAccount)).scalars().all()
    by_member = defaultdict(dict)
    for account in accounts:
        by_member[account.member_id][account.product.code] = account
    for member in members:
        if member.status == "candidate":
            assert member.id not in by_member
            continue
        own = by_member[member.id]
        assert {"SP", "SW", "SS"} <= set(own)
        if member.status == "active":
            assert own["SP"].balance == products["SP"].amount
            assert all(account.closed_on is None for account in own.values())
        else:  # the exit settlement paid everything out and closed the accounts
            assert all(a.balance == 0 and a.closed_on for a in own.values())
    exits = _all("SELECT count(*) FROM journal_entry WHERE source = 'savings.exit'")[0][0]
    assert exits == sum(m.status in ("resigned", "deceased") for m in members) >= 5


def test_arrears_are_a_minority_and_some_caught_up(seeded):
    rows = arrears_list(as_of=ARREARS_AS_OF)
    active = db.session.execute(
        sa.select(sa.func.count(Member.id)).where(Member.status == "active")
    ).scalar()
    assert 0.10 * active <= len(rows) <= 0.25 * active
    assert all(1 <= row.months <= 12 for row in rows)
    assert len(Counter(row.months for row in rows)) >= 4, "from one month to many"
    monthly = _products()["SW"].amount
    caught_up = _all(
        sa.select(sa.func.count(sa.distinct(JournalLine.member_id)))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(
            JournalEntry.source == "savings.collection",
            Account.purpose == "savings_mandatory",
            JournalLine.amount >= 3 * monthly,
        )
    )[0][0]
    assert caught_up >= 3


def test_collection_sheets_one_entry_per_member(seeded):
    batches = db.session.execute(sa.select(CollectionBatch)).scalars().all()
    assert len(batches) > 1_000
    assert len({(b.group_id, b.month) for b in batches}) == len(batches)
    for batch in batches[::97]:
        entries = batch_entries(batch)
        assert entries and all(e.entry_date == batch.collected_on for e in entries)
        assert batch.collected_on.replace(day=1) == batch.month
        members = [
            line.member_id for e in entries for line in e.lines if line.account.purpose == "cash"
        ]
        assert len(set(members)) == len(members) == len(entries)
        groups = {db.session.get(Member, member_id).group_id for member_id in members}
        assert groups == {batch.group_id}
        assert all(e.created_by.username == "bendahara" for e in entries)


def test_voluntary_savings_peak_before_lebaran(seeded):
    """Remittances arrive in the weeks before Idul Fitri (31 March 2025)."""
    rows = _all(
        sa.select(JournalEntry.entry_date, JournalLine.amount)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(
            Account.purpose == "savings_voluntary",
            JournalLine.side == "C",
            JournalEntry.source == "savings.deposit",
            JournalEntry.entry_date.between(date(2025, 1, 1), date(2025, 12, 31)),
        )
    )
    by_month = Counter()
    for day, amount in rows:
        by_month[day.month] += amount
        assert amount % 5_000 == 0 and 5_000 <= amount <= 20_000_000
    assert by_month[2] + by_month[3] > 0.6 * sum(by_month.values())
    withdrawals = _all("SELECT count(*) FROM journal_entry WHERE source = 'savings.withdrawal'")
    assert withdrawals[0][0] > 100


def test_remittance_savings_variant(seeded):
    product = _products()["TR"]
    assert (product.name, product.kind, product.account.code) == (
        "Tabungan Remitansi",
        "voluntary",
        "2102",
    )
    assert (product.target, product.lock_months, product.automatic) == (10_000_000, 12, False)
    accounts = (
        db.session.execute(sa.select(SavingsAccount).filter_by(product_id=product.id))
        .scalars()
        .all()
    )
    assert 12 <= len(accounts) <= 20 and all(a.balance > 0 for a in accounts)
    for account in accounts:
        unlocked = account.opened_on + relativedelta(months=12)
        for row in passbook(account):
            assert row.entry.entry_date >= account.opened_on
            if row.withdrawal and row.entry.reverses_id is None:  # not a mistake undone
                assert row.entry.entry_date >= unlocked


def test_a_few_mistaken_deposits_were_reversed_with_a_reason(seeded):
    reversals = (
        db.session.execute(sa.select(JournalEntry).where(JournalEntry.reverses_id.is_not(None)))
        .scalars()
        .all()
    )
    assert 3 <= len(reversals) <= 10
    for reversal in reversals:
        original = db.session.get(JournalEntry, reversal.reverses_id)
        assert original.source == "savings.deposit" and reversal.reason
        assert reversal.entry_date >= original.entry_date
        assert reversal.total == original.total


def test_passbooks_and_receipts_of_the_demo_member(seeded):
    member = db.session.execute(sa.select(Member).filter_by(name="Tuti Handayani")).scalar_one()
    accounts = (
        db.session.execute(sa.select(SavingsAccount).filter_by(member_id=member.id)).scalars().all()
    )
    assert {a.product.code for a in accounts} >= {"SP", "SW", "SS"}
    for account in accounts:
        rows = passbook(account)
        assert rows and rows[-1].balance == account.balance
        assert all(row.balance >= 0 for row in rows)
    mandatory = next(a for a in accounts if a.product.code == "SW")
    row = passbook(mandatory)[-1]
    lines = receipt_lines(row.entry)
    assert any(line.balance_after == row.balance for line in lines)
    assert receipt_number(row.entry) == f"KW-{row.entry.id:07d}"


def test_the_demo_member_reads_her_passbook_and_a_receipt(demo):
    with demo.app_context():
        member = db.session.execute(sa.select(Member).filter_by(name="Tuti Handayani")).scalar_one()
        account = next(a for a in _accounts(member) if a.product.code == "SW")
        account_id, entry_id = account.id, passbook(account)[-1].entry.id
        db.session.rollback()
    client = demo.test_client()
    _set_password(demo, "anggota")
    assert login(client, "anggota").status_code == 302
    assert client.get(f"/savings/accounts/{account_id}").status_code == 200
    receipt = client.get(f"/savings/receipts/{entry_id}")
    assert receipt.status_code == 200
    assert f"KW-{entry_id:07d}" in receipt.get_data(as_text=True)


def _accounts(member) -> list[SavingsAccount]:
    return (
        db.session.execute(sa.select(SavingsAccount).filter_by(member_id=member.id)).scalars().all()
    )


def _set_password(app, username: str) -> None:
    from coop_app.auth.models import User
    from coop_app.auth.passwords import hash_password

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        user.password_hash, user.must_change_password = hash_password(PASSWORD), False
        db.session.commit()


# --- determinism ------------------------------------------------------------------------


def _history() -> list[tuple]:
    entries = _all(
        sa.select(
            JournalEntry.id, JournalEntry.entry_date, JournalEntry.source, JournalEntry.source_ref,
            JournalEntry.idempotency_key, JournalEntry.description, JournalEntry.reason,
        ).order_by(JournalEntry.id)
    )  # fmt: skip
    lines = _all(
        sa.select(
            JournalLine.entry_id, JournalLine.account_id, JournalLine.side, JournalLine.amount,
            JournalLine.member_id, JournalLine.subaccount,
        ).order_by(JournalLine.id)
    )  # fmt: skip
    return [tuple(row) for row in entries + lines]


def test_the_same_seed_gives_the_same_history(demo, sqlite_template, tmp_path):
    with demo.app_context():
        first = _history()
    path = tmp_path / "again.db"
    shutil.copy(sqlite_template, path)
    config = config_for_tests(f"sqlite:///{path}") | {"INSTANCE_PATH": str(tmp_path / "again")}
    again = create_app(config)
    with again.app_context():
        seed_demo(seed=1)
        db.session.commit()
        second = _history()
        db.session.remove()
        db.engine.dispose()
    assert second == first


# --- the bulk path on its own (a fresh database, not the demo) ----------------------------


def _deposit(account: SavingsAccount, amount: int, key: str, on: date = date(2026, 3, 2)):
    lines = [debit("cash", amount), savings_line(account, Side.CREDIT, amount)]
    return BulkEntry(on, "Setoran", Unit.SAVINGS_LOANS, lines, "test", key, None)


def _withdrawal(account: SavingsAccount, amount: int, key: str, on: date = date(2026, 3, 3)):
    lines = [savings_line(account, Side.DEBIT, amount), credit("cash", amount)]
    return BulkEntry(on, "Penarikan", Unit.SAVINGS_LOANS, lines, "test", key, None)


def _books() -> tuple:
    entries = db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar()
    balances = _all(sa.select(AccountBalance.balance).order_by(AccountBalance.account_id))
    savings = _all(sa.select(SavingsAccount.balance).order_by(SavingsAccount.id))
    return entries, balances, savings


def test_bulk_posts_entries_in_order_and_moves_every_balance_once(make_member):
    account = account_of(make_member(), SavingsKind.VOLUNTARY)
    post_entries_bulk(
        [
            _deposit(account, 300_000, "bulk:1"),
            _withdrawal(account, 120_000, "bulk:2"),
            _deposit(account, 50_000, "bulk:3", on=date(2026, 4, 1)),
        ]
    )
    db.session.commit()
    entries = db.session.execute(sa.select(JournalEntry).order_by(JournalEntry.id)).scalars().all()
    assert [e.idempotency_key for e in entries] == ["bulk:1", "bulk:2", "bulk:3"]
    assert [e.total for e in entries] == [300_000, 120_000, 50_000]
    assert [row.balance for row in passbook(account)] == [300_000, 180_000, 230_000]
    db.session.refresh(account)
    assert account.balance == 230_000
    cash = db.session.execute(
        sa.select(AccountBalance.balance).join(Account).filter(Account.purpose == "cash")
    ).scalar_one()
    assert cash == 230_000


@pytest.mark.parametrize(
    "case",
    ["key twice in the batch", "key already posted", "month closed", "unbalanced", "overdrawn"],
)
def test_bulk_refuses_the_whole_batch_and_writes_nothing(make_member, case):
    account = account_of(make_member(), SavingsKind.VOLUNTARY)
    post_entries_bulk([_deposit(account, 100_000, "bulk:first", on=date(2026, 1, 20))])
    db.session.commit()
    before = _books()
    batch = [_deposit(account, 40_000, "bulk:a"), _deposit(account, 60_000, "bulk:b")]
    if case == "key twice in the batch":
        batch.append(_deposit(account, 10_000, "bulk:a"))
    elif case == "key already posted":
        batch.append(_deposit(account, 10_000, "bulk:first"))
    elif case == "month closed":
        lock_period(date(2026, 2, 1), today=TODAY, by=None)
        db.session.commit()
        before = _books()
        batch.append(_deposit(account, 10_000, "bulk:c", on=date(2026, 2, 27)))
    elif case == "unbalanced":
        lines = [debit("cash", 10_000), savings_line(account, Side.CREDIT, 9_000)]
        batch.append(BulkEntry(date(2026, 3, 2), "x", Unit.SAVINGS_LOANS, lines, "test", "c", None))
    else:  # the final balance would be below zero: the sub-ledger's conditional update refuses
        batch.append(_withdrawal(account, 200_001, "bulk:c"))
    with pytest.raises(DomainError):
        post_entries_bulk(batch)
    assert _books() == before
