"""The books' writes: posting refuses bad entries and writes nothing, rows are append-only,
reversals restore balances once, locked months stay closed, the chart grows by rules."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from coop_app.db import AppendOnlyViolation
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.administration import add_account, lock_period
from coop_app.ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    JournalEntry,
    JournalLine,
    PeriodLock,
    Side,
    Unit,
)
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.services import Line, PostingError, credit, debit, post_entry
from coop_app.savings import services as savings
from coop_app.savings.models import SavingsAccount, SavingsKind
from tests.books import account_balance, new_key, savings_balance
from tests.savings.conftest import TODAY, account_of

# --- fixtures and helpers ---------------------------------------------------------------


def snapshot() -> tuple:
    """Everything a posting can change: entries, lines, account and savings balances."""
    entries = db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar()
    lines = db.session.execute(sa.select(sa.func.count()).select_from(JournalLine)).scalar()
    accounts = dict(
        db.session.execute(sa.select(AccountBalance.account_id, AccountBalance.balance)).all()
    )
    saved = dict(db.session.execute(sa.select(SavingsAccount.id, SavingsAccount.balance)).all())
    return entries, lines, accounts, saved


def line_sums() -> dict[int, int]:
    """Debits minus credits per account, computed from the journal lines themselves."""
    signed = sa.case((JournalLine.side == "D", JournalLine.amount), else_=-JournalLine.amount)
    rows = db.session.execute(
        sa.select(JournalLine.account_id, sa.func.sum(signed)).group_by(JournalLine.account_id)
    )
    return dict(rows.all())


def assert_balances_equal_lines() -> None:
    sums = line_sums()
    for account_id, cached in db.session.execute(
        sa.select(AccountBalance.account_id, AccountBalance.balance)
    ):
        assert cached == sums.get(account_id, 0), f"account {account_id}"


def assert_refused_and_nothing_written(call, match: str | None = None, error=DomainError):
    """`call` is refused; nothing it tried is visible, neither now nor after a rollback."""
    db.session.commit()
    before = snapshot()
    with force_locale("en"), pytest.raises(error, match=match):
        call()
    assert snapshot() == before
    db.session.rollback()
    assert snapshot() == before


def post(*lines: Line, on: date = TODAY, key: str | None = None, unit=Unit.GENERAL):
    return post_entry(
        on=on,
        description="Pendapatan   lain-lain",
        unit=unit,
        lines=list(lines) or [debit("cash", 50_000), credit("other_income", 50_000)],
        source="test",
        key=key or new_key(),
        by=None,
    )


# --- post_entry: refusals write nothing ---------------------------------------------------


REFUSED_LINES = {
    "unbalanced": ([debit("cash", 50_000), credit("other_income", 40_000)], "does not balance"),
    "one line": ([debit("cash", 50_000)], "at least two lines"),
    "no lines": ([], "at least two lines"),
    "float": ([debit("cash", 50_000.0), credit("other_income", 50_000.0)], "whole rupiah"),
    "fraction": ([debit("cash", 0.5), credit("other_income", 0.5)], "whole rupiah"),
    "decimal": (
        [debit("cash", Decimal("50000")), credit("other_income", Decimal("50000"))],
        "whole rupiah",
    ),
    "text": ([debit("cash", "50000"), credit("other_income", "50000")], "whole rupiah"),
    "bool": ([debit("cash", True), credit("other_income", True)], "whole rupiah"),
    "zero": ([debit("cash", 0), credit("other_income", 0)], "more than zero"),
    "negative": ([debit("cash", -5_000), credit("other_income", -5_000)], "more than zero"),
    "zero line in a balanced entry": (
        [debit("cash", 5_000), credit("other_income", 5_000), credit("loan_fee", 0)],
        "more than zero",
    ),
    "absurd": ([debit("cash", 10**15), credit("other_income", 10**15)], "too large"),
    "unknown purpose": ([debit("cash", 5_000), credit("no_such_purpose", 5_000)], "No account"),
}


@pytest.mark.parametrize("case", REFUSED_LINES, ids=list(REFUSED_LINES))
def test_refused_lines_write_nothing(ctx, case):
    post()  # an earlier, committed entry
    lines, message = REFUSED_LINES[case]
    assert_refused_and_nothing_written(lambda: post_exactly(lines), message)


def post_exactly(lines: list[Line]):
    """Post these lines as they are (`post` fills in default lines when given none)."""
    return post_entry(
        on=TODAY,
        description="Uji",
        unit=Unit.GENERAL,
        lines=lines,
        source="test",
        key=new_key(),
        by=None,
    )


def test_inactive_account_refused(ctx):
    income = db.session.execute(sa.select(Account).filter_by(purpose="other_income")).scalar_one()
    income.active = False
    db.session.commit()
    assert_refused_and_nothing_written(post, "inactive")


def test_reused_key_refused_after_commit_and_within_the_transaction(ctx):
    first = post(key="sheet-1")
    db.session.commit()
    assert_refused_and_nothing_written(lambda: post(key="sheet-1"), "already been recorded")

    # Same key twice inside one transaction: the first posting stays, the second is refused.
    post(key="sheet-2")
    with pytest.raises(PostingError):
        post(key="sheet-2")
    db.session.commit()
    keys = db.session.execute(sa.select(JournalEntry.idempotency_key)).scalars().all()
    assert sorted(keys) == ["sheet-1", "sheet-2"]
    assert account_balance("cash") == 100_000
    assert db.session.get(JournalEntry, first.id).idempotency_key == "sheet-1"


def test_a_refusal_inside_the_savepoint_keeps_the_earlier_posting(ctx, make_member):
    """A sub-ledger refuses (an overdraft) after the entry, its lines and one savings
    balance have been written: the savepoint undoes exactly that entry, nothing before."""
    one, two = make_member("Siti Aminah"), make_member("Rina Wati")
    # Name the sub-accounts so that the credit is applied first and the debit then refused.
    first, second = sorted(
        (account_of(one, SavingsKind.VOLUNTARY), account_of(two, SavingsKind.VOLUNTARY)),
        key=lambda account: account.subaccount,
    )
    before = snapshot()

    earlier = post(
        debit("cash", 50_000),
        Line("savings_voluntary", Side.CREDIT, 50_000, subaccount=first.subaccount),
        unit=Unit.SAVINGS_LOANS,
    )
    with pytest.raises(DomainError):
        post(
            Line("savings_voluntary", Side.CREDIT, 80_000, subaccount=first.subaccount),
            Line("savings_voluntary", Side.DEBIT, 80_000, subaccount=second.subaccount),
            unit=Unit.SAVINGS_LOANS,
            key="transfer-without-money",
        )
    # Still in the same transaction: the earlier entry is there, the refused one is not.
    entries, lines, _, _ = snapshot()
    assert (entries, lines) == (before[0] + 1, before[1] + 2)
    assert savings_balance(first) == 50_000
    assert savings_balance(second) == 0
    db.session.commit()  # and what was committed is the earlier entry alone

    assert db.session.get(JournalEntry, earlier.id) is not None
    refused = sa.select(JournalEntry).filter_by(idempotency_key="transfer-without-money")
    assert db.session.execute(refused).first() is None
    assert savings_balance(first) == 50_000
    assert savings_balance(second) == 0
    assert account_balance("cash") == 50_000
    assert account_balance("savings_voluntary") == -50_000
    assert_balances_equal_lines()


# --- post_entry: balances move with the lines ---------------------------------------------


def test_balances_move_with_lines(ctx):
    entry = post(
        debit("cash", 70_000),
        credit("other_income", 50_000),
        credit("loan_penalty", 20_000, unit=Unit.SAVINGS_LOANS),
    )
    post(debit("bank", 30_000), credit("cash", 30_000))
    db.session.commit()

    # Debits minus credits: cash 70.000 in, 30.000 out to the bank.
    assert account_balance("cash") == 40_000
    assert account_balance("bank") == 30_000
    assert account_balance("other_income") == -50_000
    assert account_balance("loan_penalty") == -20_000
    assert_balances_equal_lines()

    stored = db.session.get(JournalEntry, entry.id)
    assert stored.description == "Pendapatan lain-lain"
    assert stored.total == 70_000
    assert [(line.side, line.amount, line.unit) for line in stored.lines] == [
        ("D", 70_000, "general"),
        ("C", 50_000, "general"),
        ("C", 20_000, "savings_loans"),
    ]


# --- append-only: database triggers and ORM guard ----------------------------------------


RAW_CHANGES = [
    ("journal_entry", "UPDATE journal_entry SET description = 'diubah'"),
    ("journal_entry", "DELETE FROM journal_entry"),
    ("journal_line", "UPDATE journal_line SET amount = amount + 1"),
    ("journal_line", "DELETE FROM journal_line"),
    ("period_lock", "UPDATE period_lock SET month = '2026-09-01'"),
    ("period_lock", "DELETE FROM period_lock"),
]


@pytest.fixture
def posted_and_locked(ctx):
    post()
    lock_period(date(2026, 10, 1), today=TODAY, by=None)
    db.session.commit()
    state = snapshot()
    db.session.commit()  # end the read, so that another connection can write (SQLite)
    return state


@pytest.mark.parametrize(("table", "statement"), RAW_CHANGES)
def test_triggers_refuse_raw_sql_changes(ctx, posted_and_locked, table, statement):
    with db.engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError, match=f"{table} is append-only"):
            connection.execute(sa.text(statement))
        connection.rollback()
    db.session.remove()
    assert snapshot() == posted_and_locked
    assert db.session.execute(sa.select(PeriodLock.month)).scalars().all() == [date(2026, 10, 1)]
    assert db.session.execute(sa.select(JournalEntry.description)).scalar_one() == (
        "Pendapatan lain-lain"
    )


def test_orm_bulk_update_is_stopped_by_the_trigger(ctx, posted_and_locked):
    with pytest.raises(sa.exc.IntegrityError, match="journal_line is append-only"):
        db.session.execute(sa.update(JournalLine).values(amount=1))
    db.session.rollback()
    assert snapshot() == posted_and_locked


@pytest.mark.parametrize(
    "change",
    ["edit entry", "delete entry", "edit line", "delete line", "edit lock", "delete lock"],
)
def test_orm_changes_refused(ctx, posted_and_locked, change):
    entry = db.session.execute(sa.select(JournalEntry)).scalar_one()
    line = entry.lines[0]
    lock = db.session.execute(sa.select(PeriodLock)).scalar_one()
    if change == "edit entry":
        entry.description = "diubah"
    elif change == "delete entry":
        db.session.delete(entry)
    elif change == "edit line":
        line.amount = 1
    elif change == "delete line":
        db.session.delete(line)
    elif change == "edit lock":
        lock.locked_by_id = None
        lock.locked_at = lock.locked_at.replace(year=2020)
    else:
        db.session.delete(lock)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    assert snapshot() == posted_and_locked
    assert db.session.execute(sa.select(sa.func.count()).select_from(PeriodLock)).scalar() == 1


# --- reversal -------------------------------------------------------------------------------


def test_reversal_restores_balances_and_keeps_both_entries(ctx):
    before = snapshot()
    original = post(
        debit("cash", 70_000),
        credit("other_income", 50_000),
        credit("loan_penalty", 20_000),
        on=date(2026, 11, 2),
    )
    db.session.commit()
    assert account_balance("cash") == 70_000

    reversal = reverse_entry(original, on=TODAY, reason="  Salah   catat ", by=None)
    db.session.commit()

    entries, lines, accounts, saved = snapshot()
    assert (accounts, saved) == (before[2], before[3])  # every balance back where it was
    assert (entries, lines) == (before[0] + 2, before[1] + 6)  # both entries remain
    assert reversal.reverses_id == original.id
    assert reversal.reason == "Salah catat"
    assert reversal.entry_date == TODAY
    mirrored = [(line.account_id, line.amount, line.side) for line in reversal.lines]
    flipped = {"D": "C", "C": "D"}
    assert mirrored == [
        (line.account_id, line.amount, flipped[line.side]) for line in original.lines
    ]
    # The cash account's statement shows the money in and the money back out.
    cash_lines = db.session.execute(
        sa.select(JournalLine.entry_id, JournalLine.side, JournalLine.amount)
        .join(Account)
        .where(Account.purpose == "cash")
        .order_by(JournalLine.id)
    ).all()
    assert [tuple(row) for row in cash_lines] == [
        (original.id, "D", 70_000),
        (reversal.id, "C", 70_000),
    ]
    assert_balances_equal_lines()


def test_second_reversal_and_reversal_of_a_reversal_refused(ctx):
    original = post()
    reversal = reverse_entry(original, on=TODAY, reason="Salah catat", by=None)
    assert_refused_and_nothing_written(
        lambda: reverse_entry(original, on=TODAY, reason="Sekali lagi", by=None),
        "already been reversed",
    )
    assert_refused_and_nothing_written(
        lambda: reverse_entry(reversal, on=TODAY, reason="Batal koreksi", by=None),
        "cannot be reversed",
    )


@pytest.mark.parametrize(
    ("reason", "on", "message"),
    [
        ("", TODAY, "reason"),
        ("  x ", TODAY, "reason"),
        ("Salah catat", date(2026, 11, 1), "before the entry"),
    ],
)
def test_reversal_needs_a_reason_and_a_date_not_before_the_entry(ctx, reason, on, message):
    original = post(on=date(2026, 11, 2))
    assert_refused_and_nothing_written(
        lambda: reverse_entry(original, on=on, reason=reason, by=None), message
    )


def test_reversal_of_a_deposit_already_withdrawn_refused(ctx, make_member):
    member = make_member()
    account = account_of(member, SavingsKind.VOLUNTARY)
    deposited = savings.deposit(
        account, amount=50_000, on=date(2026, 11, 2), today=TODAY, by=None, key=new_key()
    )
    savings.withdraw(account, amount=30_000, on=TODAY, today=TODAY, by=None, key=new_key())
    assert_refused_and_nothing_written(
        lambda: reverse_entry(deposited, on=TODAY, reason="Salah catat", by=None),
        "not enough",
    )
    assert savings_balance(account) == 20_000
    assert account_balance("cash") == 20_000
    assert_balances_equal_lines()


# --- period lock ------------------------------------------------------------------------------


@pytest.mark.parametrize("month", [date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1)])
def test_only_ended_months_can_be_locked(ctx, month):
    with force_locale("en"), pytest.raises(PostingError, match="ended"):
        lock_period(month, today=TODAY, by=None)
    db.session.rollback()
    assert db.session.execute(sa.select(PeriodLock)).first() is None


def test_lock_twice_refused(ctx):
    lock = lock_period(date(2026, 10, 31), today=TODAY, by=None)
    assert lock.month == date(2026, 10, 1)
    db.session.commit()
    with force_locale("en"), pytest.raises(PostingError, match="already closed"):
        lock_period(date(2026, 10, 15), today=TODAY, by=None)
    db.session.rollback()
    assert db.session.execute(sa.select(PeriodLock.month)).scalars().all() == [date(2026, 10, 1)]


def test_posting_into_a_locked_month_refused(ctx):
    original = post(on=date(2026, 10, 5))
    lock_period(date(2026, 10, 1), today=TODAY, by=None)
    db.session.commit()
    before = snapshot()

    # Default language (Indonesian): the month is named in Indonesian.
    with pytest.raises(PostingError) as refused:
        post(on=date(2026, 10, 31))
    assert "Oktober 2026" in refused.value.message
    with force_locale("en"), pytest.raises(PostingError) as refused:
        post(on=date(2026, 10, 1))
    assert "October 2026" in refused.value.message
    assert "closed" in refused.value.message
    # A reversal into the closed month is refused too; nothing was written.
    with pytest.raises(PostingError):
        reverse_entry(original, on=date(2026, 10, 20), reason="Salah catat", by=None)
    assert snapshot() == before
    db.session.rollback()
    assert snapshot() == before

    # The months around it stay open; the correction goes into an open month.
    post(on=date(2026, 9, 30))
    post(on=date(2026, 11, 1))
    reverse_entry(original, on=date(2026, 11, 1), reason="Salah catat", by=None)
    db.session.commit()
    assert snapshot()[0] == before[0] + 3


# --- add_account ------------------------------------------------------------------------------


def test_add_account(ctx):
    account = add_account(
        code=" 5903 ", name="Beban   listrik kantor", kind=AccountKind.EXPENSE, unit=Unit.GENERAL
    )
    db.session.commit()
    assert (account.code, account.name, account.kind, account.unit, account.active) == (
        "5903",
        "Beban listrik kantor",
        "expense",
        "general",
        True,
    )
    assert db.session.get(AccountBalance, account.id).balance == 0
    post(debit(account, 15_000), credit("cash", 15_000))
    db.session.commit()
    assert db.session.get(AccountBalance, account.id).balance == 15_000
    assert account_balance("cash") == -15_000


@pytest.mark.parametrize(
    ("code", "name", "kind", "message"),
    [
        ("59", "Beban listrik", AccountKind.EXPENSE, "3 to 10 digits"),
        ("59a3", "Beban listrik", AccountKind.EXPENSE, "3 to 10 digits"),
        ("59031234567", "Beban listrik", AccountKind.EXPENSE, "3 to 10 digits"),
        ("4903", "Beban listrik", AccountKind.EXPENSE, "start with 5"),
        ("2103", "Modal penyertaan", AccountKind.EQUITY, "start with 3"),
        ("1101", "Kas kecil", AccountKind.ASSET, "taken"),
        ("5903", "  B ", AccountKind.EXPENSE, "name"),
    ],
)
def test_add_account_refusals(ctx, code, name, kind, message):
    accounts = db.session.execute(sa.select(sa.func.count()).select_from(Account)).scalar()
    with force_locale("en"), pytest.raises(PostingError, match=message):
        add_account(code=code, name=name, kind=kind, unit=None)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Account)).scalar() == accounts
