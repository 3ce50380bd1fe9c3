"""Savings writes and reads: accounts open with membership, deposits and withdrawals follow
the bylaws' rules, an exit refunds savings minus what is owed, arrears and the passbook."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountBalance, JournalEntry, JournalLine, Unit
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.services import credit, debit, post_entry
from coop_app.members.models import MemberStatus
from coop_app.members.services import change_status, register_member
from coop_app.savings import services
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import arrears_list, passbook, receipt_lines
from coop_app.savings.services import Owed
from tests.books import account_balance, new_key, savings_balance
from tests.members.conftest import member_data
from tests.savings.conftest import JOINED, TODAY, account_of

P, M, V = SavingsKind.PRINCIPAL, SavingsKind.MANDATORY, SavingsKind.VOLUNTARY


def deposit(account, amount, on=TODAY):
    return services.deposit(account, amount=amount, on=on, today=TODAY, by=None, key=new_key())


def withdraw(account, amount, on=TODAY):
    return services.withdraw(account, amount=amount, on=on, today=TODAY, by=None, key=new_key())


def lines_total(account: SavingsAccount) -> int:
    """Credits minus debits of the account's journal lines (what the balance must equal)."""
    rows = db.session.execute(
        sa.select(JournalLine.side, JournalLine.amount).where(
            JournalLine.subaccount == f"savings:{account.id}"
        )
    ).all()
    return sum(amount if side == "C" else -amount for side, amount in rows)


def snapshot() -> tuple:
    entries = db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar()
    lines = db.session.execute(sa.select(sa.func.count()).select_from(JournalLine)).scalar()
    accounts = dict(
        db.session.execute(sa.select(AccountBalance.account_id, AccountBalance.balance)).all()
    )
    saved = dict(db.session.execute(sa.select(SavingsAccount.id, SavingsAccount.balance)).all())
    return entries, lines, accounts, saved


def assert_refused_and_nothing_written(call, match: str | None = None):
    db.session.commit()
    before = snapshot()
    with force_locale("en"), pytest.raises(DomainError, match=match):
        call()
    assert snapshot() == before
    db.session.rollback()
    assert snapshot() == before


def resign(member, by, on=date(2026, 11, 10)):
    change_status(
        member,
        to=MemberStatus.RESIGNED,
        on=on,
        reason="Pindah ke luar kota",
        today=TODAY,
        by=by,
        expected_version=member.version,
    )
    db.session.commit()


# --- accounts open with membership --------------------------------------------------------


def test_accounts_open_when_a_member_is_registered_active(make_member):
    member = make_member()
    accounts = (
        db.session.execute(
            sa.select(SavingsAccount).filter_by(member_id=member.id).order_by(SavingsAccount.id)
        )
        .scalars()
        .all()
    )
    assert sorted(account.product.kind for account in accounts) == [
        "mandatory",
        "principal",
        "voluntary",
    ]
    assert {(a.balance, a.opened_on, a.closed_on) for a in accounts} == {(0, JOINED, None)}


def test_accounts_open_when_a_candidate_becomes_active(ctx, group, treasurer):
    data = member_data(
        group.village_id, nik="3307100000000001", group_id=group.id, join_date=JOINED
    )
    member = register_member(data, today=TODAY, by=None)  # a candidate
    db.session.commit()
    assert (
        db.session.execute(sa.select(SavingsAccount).filter_by(member_id=member.id)).first() is None
    )

    change_status(
        member,
        to=MemberStatus.ACTIVE,
        on=date(2026, 2, 1),
        reason="Disetujui rapat pengurus",
        today=TODAY,
        by=treasurer,
        expected_version=member.version,
    )
    db.session.commit()
    opened = {account_of(member, kind).opened_on for kind in (P, M, V)}
    assert opened == {date(2026, 2, 1)}


def test_variant_products_are_not_opened_automatically(ctx, make_member, variant):
    member = make_member()
    products = db.session.execute(
        sa.select(SavingsAccount.product_id).filter_by(member_id=member.id)
    ).scalars()
    assert variant.id not in set(products)


def test_accounts_reopen_for_a_returning_member(ctx, make_member, treasurer):
    member = make_member()
    deposit(account_of(member, V), 40_000)
    db.session.commit()
    resign(member, treasurer)
    services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key())
    db.session.commit()
    assert {account_of(member, kind).closed_on for kind in (P, M, V)} == {TODAY}

    change_status(
        member,
        to=MemberStatus.ACTIVE,
        on=TODAY,
        reason="Kembali menjadi anggota",
        today=TODAY,
        by=treasurer,
        expected_version=member.version,
    )
    db.session.commit()
    for kind in (P, M, V):
        account = account_of(member, kind)
        assert (account.opened_on, account.closed_on, account.balance) == (TODAY, None, 0)
    deposit(account_of(member, P), 100_000)
    db.session.commit()
    assert savings_balance(account_of(member, P)) == 100_000


# --- deposits and withdrawals ----------------------------------------------------------------


def test_deposits_and_withdrawals_move_savings_cash_and_the_books(make_member):
    member = make_member()
    principal, mandatory, voluntary = (account_of(member, kind) for kind in (P, M, V))
    deposit(principal, 100_000, on=date(2026, 1, 15))
    deposit(mandatory, 20_000, on=date(2026, 1, 15))
    deposit(voluntary, 50_000, on=date(2026, 2, 3))
    entry = withdraw(voluntary, 30_000)
    db.session.commit()

    assert [savings_balance(a) for a in (principal, mandatory, voluntary)] == [
        100_000,
        20_000,
        20_000,
    ]
    assert [lines_total(a) for a in (principal, mandatory, voluntary)] == [100_000, 20_000, 20_000]
    # Cash: 170.000 in, 30.000 out. Savings accounts are credit-normal (negative here).
    assert account_balance("cash") == 140_000
    assert account_balance("savings_principal") == -100_000
    assert account_balance("savings_mandatory") == -20_000
    assert account_balance("savings_voluntary") == -20_000
    lines = [
        (line.account.purpose, line.side, line.amount, line.subaccount, line.member_id)
        for line in entry.lines
    ]
    assert lines == [
        ("savings_voluntary", "D", 30_000, f"savings:{voluntary.id}", member.id),
        ("cash", "C", 30_000, None, None),
    ]
    assert entry.source == "savings.withdrawal"


@pytest.mark.parametrize(
    "amount",
    [0, -5_000, 1.5, 20_000.0, Decimal("20000"), Decimal("20000.50"), 10**15],
    ids=["zero", "negative", "fraction", "float", "decimal", "decimal-cents", "absurd"],
)
@pytest.mark.parametrize("action", ["deposit", "withdraw"])
def test_bad_amounts_refused(make_member, action, amount):
    account = account_of(make_member(), V)
    deposit(account, 50_000)
    move = deposit if action == "deposit" else withdraw
    assert_refused_and_nothing_written(lambda: move(account, amount))
    assert savings_balance(account) == 50_000


def test_withdrawing_more_than_the_balance_refused(make_member):
    account = account_of(make_member(), V)
    deposit(account, 50_000)
    assert_refused_and_nothing_written(lambda: withdraw(account, 50_001), "cannot withdraw more")
    withdraw(account, 50_000)  # all of it is fine
    db.session.commit()
    assert savings_balance(account) == 0
    assert_refused_and_nothing_written(lambda: withdraw(account, 1), "cannot withdraw more")


@pytest.mark.parametrize("kind", [P, M])
def test_principal_and_mandatory_cannot_be_withdrawn(make_member, kind):
    account = account_of(make_member(), kind)
    deposit(account, 20_000)
    assert_refused_and_nothing_written(
        lambda: withdraw(account, 10_000), "only when membership ends"
    )


def test_principal_is_paid_up_to_its_total(make_member):
    account = account_of(make_member(), P)
    deposit(account, 60_000)
    assert_refused_and_nothing_written(lambda: deposit(account, 50_000), "still to be paid")
    deposit(account, 40_000)
    db.session.commit()
    assert savings_balance(account) == 100_000
    assert_refused_and_nothing_written(lambda: deposit(account, 1), "Principal savings")


def test_an_inactive_member_cannot_save_or_withdraw(make_member, treasurer):
    member = make_member()
    deposit(account_of(member, V), 50_000)
    db.session.commit()
    resign(member, treasurer)
    assert_refused_and_nothing_written(
        lambda: deposit(account_of(member, V), 10_000), "active members"
    )
    assert_refused_and_nothing_written(
        lambda: withdraw(account_of(member, V), 10_000), "active members"
    )


@pytest.mark.parametrize("action", ["deposit", "withdraw"])
def test_dates_in_the_future_or_before_opening_refused(make_member, action):
    account = account_of(make_member(), V)
    deposit(account, 50_000)
    move = deposit if action == "deposit" else withdraw
    tomorrow = TODAY + timedelta(days=1)
    assert_refused_and_nothing_written(lambda: move(account, 10_000, on=tomorrow), "future")
    before_join = JOINED - timedelta(days=1)
    assert_refused_and_nothing_written(lambda: move(account, 10_000, on=before_join), "opened")


# --- an admin-defined variant: remittance savings with a lock-in and a target ------------


@pytest.fixture
def variant(ctx) -> SavingsProduct:
    """Remittance savings on account 2102: locked for 6 months after opening, a goal."""
    account = db.session.execute(sa.select(Account).filter_by(code="2102")).scalar_one()
    product = SavingsProduct(
        code="SR",
        name="Tabungan Remitansi",
        kind=SavingsKind.VOLUNTARY.value,
        account_id=account.id,
        target=5_000_000,
        lock_months=6,
        automatic=False,
    )
    db.session.add(product)
    db.session.commit()
    return product


def test_variant_lock_in(make_member, variant):
    late, early = make_member("Rina Wati"), make_member("Siti Aminah")
    locked = services.open_account(late, variant, on=date(2026, 6, 1))
    unlocks_today = services.open_account(early, variant, on=date(2026, 5, 20))
    for account in (locked, unlocks_today):
        deposit(account, 1_000_000, on=date(2026, 7, 1))
    db.session.commit()

    # Opened 1 June: locked until 1 December.
    assert_refused_and_nothing_written(lambda: withdraw(locked, 100_000), "locked until 01/12/2026")
    # Opened 20 May: locked until 20 November, so the day before is refused, today allowed.
    assert_refused_and_nothing_written(
        lambda: withdraw(unlocks_today, 100_000, on=date(2026, 11, 19)), "locked until 20/11/2026"
    )
    withdraw(unlocks_today, 100_000)
    db.session.commit()

    assert savings_balance(unlocks_today) == 900_000
    assert savings_balance(locked) == 1_000_000
    # The variant's money is in its own account (2102), not in ordinary voluntary savings.
    remittance = db.session.get(AccountBalance, variant.account_id).balance
    assert remittance == -1_900_000
    assert account_balance("savings_voluntary") == 0
    assert account_balance("cash") == 1_900_000


# --- exit settlement ---------------------------------------------------------------------------


@pytest.fixture
def owes_a_loan():
    """A loans unit that reports an unpaid loan of 150.000 for every member asked about."""

    def provider(member, on):
        return [Owed("Sisa pinjaman", "loans_receivable", 150_000)]

    services.EXIT_OFFSETS.append(provider)
    yield provider
    services.EXIT_OFFSETS.remove(provider)


def funded_member(make_member, *, lent: int = 150_000):
    """A member with 410.000 of savings and a loan of `lent` in the books."""
    member = make_member()
    deposit(account_of(member, P), 100_000, on=date(2026, 1, 15))
    deposit(account_of(member, M), 60_000, on=date(2026, 3, 1))
    deposit(account_of(member, V), 250_000, on=date(2026, 4, 1))
    # The loan the offset stands for, lent in cash.
    post_entry(
        on=date(2026, 4, 2),
        description="Pinjaman",
        unit=Unit.SAVINGS_LOANS,
        lines=[debit("loans_receivable", lent), credit("cash", lent)],
        source="test.loan",
        key=new_key(),
        by=None,
    )
    db.session.commit()
    return member


def test_exit_settlement_refunds_savings_minus_what_is_owed(make_member, treasurer, owes_a_loan):
    member = funded_member(make_member)
    cash_before = account_balance("cash")  # 410.000 saved - 150.000 lent = 260.000
    assert cash_before == 260_000
    resign(member, treasurer)

    entry = services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key())
    db.session.commit()

    # 100.000 + 60.000 + 250.000 = 410.000 saved; 150.000 owed; 260.000 paid out in cash.
    by_purpose = {}
    for line in entry.lines:
        by_purpose.setdefault((line.account.purpose, line.side), 0)
        by_purpose[(line.account.purpose, line.side)] += line.amount
    assert by_purpose == {
        ("savings_principal", "D"): 100_000,
        ("savings_mandatory", "D"): 60_000,
        ("savings_voluntary", "D"): 250_000,
        ("loans_receivable", "C"): 150_000,
        ("cash", "C"): 260_000,
    }
    assert account_balance("cash") == 0
    assert account_balance("loans_receivable") == 0
    for purpose in ("savings_principal", "savings_mandatory", "savings_voluntary"):
        assert account_balance(purpose) == 0
    for kind in (P, M, V):
        account = account_of(member, kind)
        assert (savings_balance(account), account.closed_on) == (0, TODAY)

    assert_refused_and_nothing_written(
        lambda: services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key()),
        "already been settled",
    )


def test_exit_settlement_when_the_debt_exceeds_the_savings(make_member, treasurer):
    member = funded_member(make_member, lent=500_000)

    def provider(_member, _on):
        return [Owed("Sisa pinjaman", "loans_receivable", 500_000)]

    services.EXIT_OFFSETS.append(provider)
    try:
        resign(member, treasurer)
        entry = services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key())
        db.session.commit()
    finally:
        services.EXIT_OFFSETS.remove(provider)
    # All 410.000 of savings go against the debt; no cash is paid out.
    credits = [(line.account.purpose, line.amount) for line in entry.lines if line.side == "C"]
    assert credits == [("loans_receivable", 410_000)]
    assert account_balance("loans_receivable") == 90_000  # still owed after the offset
    assert account_balance("cash") == 410_000 - 500_000  # unchanged by the settlement


def test_exit_settlement_only_after_leaving_and_on_a_sensible_date(make_member, treasurer):
    member = funded_member(make_member)
    settle = services.settle_exit
    assert_refused_and_nothing_written(
        lambda: settle(member, on=TODAY, today=TODAY, by=treasurer, key=new_key()),
        "after the member has left",
    )
    resign(member, treasurer, on=date(2026, 11, 10))
    assert_refused_and_nothing_written(
        lambda: settle(member, on=date(2026, 11, 9), today=TODAY, by=treasurer, key=new_key()),
        "between",
    )
    assert_refused_and_nothing_written(
        lambda: settle(member, on=date(2026, 11, 21), today=TODAY, by=treasurer, key=new_key()),
        "between",
    )
    assert {account_of(member, kind).closed_on for kind in (P, M, V)} == {None}


def test_exit_settlement_with_nothing_saved_closes_the_accounts_without_an_entry(
    make_member, treasurer
):
    member = make_member()
    resign(member, treasurer)
    entries = db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar()
    assert services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key()) is None
    db.session.commit()
    assert {account_of(member, kind).closed_on for kind in (P, M, V)} == {TODAY}
    assert db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar() == (
        entries
    )


def test_nothing_is_posted_to_a_closed_account(make_member, treasurer):
    """After the exit settlement, reversing an old withdrawal would credit a closed account
    (money nobody could ever withdraw again): refused."""
    member = make_member()
    voluntary = account_of(member, V)
    deposit(voluntary, 50_000, on=date(2026, 3, 1))
    taken = withdraw(voluntary, 20_000, on=date(2026, 4, 1))
    db.session.commit()
    resign(member, treasurer)
    services.settle_exit(member, on=TODAY, today=TODAY, by=treasurer, key=new_key())
    db.session.commit()
    assert_refused_and_nothing_written(
        lambda: reverse_entry(taken, on=TODAY, reason="Salah catat", by=treasurer), "closed"
    )


# --- arrears and passbook -------------------------------------------------------------------


def test_arrears_worked_example(make_member):
    """Joined 15 January 2026; by 20 November 2026, January to October have ended and are
    due (November is due by its last day): 10 months x 20.000 = 200.000. Paid 160.000:
    40.000 behind, which is 2 months."""
    behind, paid_up, part = make_member("Ani"), make_member("Budi"), make_member("Citra")
    deposit(account_of(behind, M), 160_000, on=date(2026, 9, 1))
    deposit(account_of(behind, M), 20_000, on=TODAY)
    deposit(account_of(paid_up, M), 200_000, on=date(2026, 11, 1))
    deposit(account_of(part, M), 150_000, on=date(2026, 11, 1))  # 50.000 behind: 3 months
    db.session.commit()

    # The 20.000 paid on 20 November counts as of that day, not as of the day before.
    rows = {row.member.name: row for row in arrears_list(as_of=date(2026, 11, 19))}
    assert (rows["Ani"].months_due, rows["Ani"].paid, rows["Ani"].rupiah) == (10, 160_000, 40_000)
    assert rows["Ani"].months == 2
    rows = {row.member.name: row for row in arrears_list(as_of=TODAY)}
    assert set(rows) == {"Ani", "Citra"}
    assert (rows["Ani"].rupiah, rows["Ani"].months) == (20_000, 1)
    assert (rows["Citra"].rupiah, rows["Citra"].months) == (50_000, 3)
    # As of the end of March, January and February were due and Ani had paid nothing yet.
    rows = {row.member.name: row for row in arrears_list(as_of=date(2026, 3, 31))}
    assert (rows["Ani"].months_due, rows["Ani"].rupiah) == (2, 40_000)
    # November becomes due once it has ended: Budi is paid up on the 30th, behind on 1 December.
    assert "Budi" not in {row.member.name for row in arrears_list(as_of=date(2026, 11, 30))}
    rows = {row.member.name: row for row in arrears_list(as_of=date(2026, 12, 1))}
    assert (rows["Budi"].months_due, rows["Budi"].rupiah, rows["Budi"].months) == (11, 20_000, 1)


def test_arrears_count_from_the_rule_start_when_later_than_joining(make_member):
    member = make_member()
    mandatory = account_of(member, M)
    mandatory.product.rule_start = date(2026, 4, 1)
    deposit(mandatory, 100_000, on=date(2026, 5, 1))
    db.session.commit()
    # April to October: 7 months x 20.000 = 140.000 due, 100.000 paid.
    (row,) = arrears_list(as_of=TODAY)
    assert (row.months_due, row.rupiah, row.months) == (7, 40_000, 2)


def test_passbook_running_balance_in_date_order(make_member):
    account = account_of(make_member(), V)
    march = deposit(account, 100_000, on=date(2026, 3, 1))
    withdraw(account, 30_000, on=date(2026, 4, 1))
    deposit(account, 50_000, on=date(2026, 2, 1))  # entered late, dated earlier
    db.session.commit()

    book = [
        (row.entry.entry_date, row.deposit, row.withdrawal, row.balance)
        for row in passbook(account)
    ]
    assert book == [
        (date(2026, 2, 1), 50_000, 0, 50_000),
        (date(2026, 3, 1), 100_000, 0, 150_000),
        (date(2026, 4, 1), 0, 30_000, 120_000),
    ]
    assert savings_balance(account) == 120_000
    (line,) = receipt_lines(march)
    assert (line.product, line.deposit, line.withdrawal, line.balance_after) == (
        "Simpanan Sukarela",
        100_000,
        0,
        150_000,
    )
