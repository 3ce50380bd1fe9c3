"""The collection sheet's reads for a whole group against the per-member reads they replace:
balances from the cached balances (or the journal, for a past month) equal the journal's
sums on any day, and every row's arrears and suggestion follow `arrears_of`."""

from datetime import date, timedelta

import pytest

from coop_app.extensions import db
from coop_app.ledger.reversals import reverse_entry
from coop_app.members.models import MemberStatus
from coop_app.members.services import register_member
from coop_app.savings import services
from coop_app.savings.collection import month_end, sheet_rows
from coop_app.savings.collection_queries import balances_on
from coop_app.savings.models import SavingsKind
from coop_app.savings.queries import arrears_of, balances_as_of, bylaws_accounts
from tests.books import new_key
from tests.members.conftest import member_data
from tests.savings.conftest import TODAY, account_of

M, V = SavingsKind.MANDATORY, SavingsKind.VOLUNTARY
NOVEMBER = date(2026, 11, 1)
MONTHS = [date(2025, 6, 1), date(2026, 2, 1), date(2026, 10, 1), NOVEMBER, date(2026, 12, 1)]
DAYS = [month_end(month) for month in MONTHS] + [date(2026, 11, 29), date(2026, 12, 1)]


def pay(member, kind, amount, on, *, today=TODAY):
    return services.deposit(
        account_of(member, kind), amount=amount, on=on, today=today, by=None, key=new_key()
    )


@pytest.fixture
def mawar(group, treasurer):
    """Members of the Mawar group who joined in different months, with deposits early,
    late, on a month's last day and the next day's first, a reversed one and a withdrawal."""
    joined = {
        "Ani": date(2025, 3, 10),
        "Budi": date(2026, 1, 15),
        "Citra": date(2026, 6, 20),
        "Dewi": date(2024, 12, 1),
    }
    members = {}
    for n, (name, day) in enumerate(joined.items()):
        data = member_data(
            group.village_id, nik=f"33072{n:011d}", name=name, group_id=group.id, join_date=day
        )
        members[name] = register_member(data, today=TODAY, by=None, status=MemberStatus.ACTIVE)
    db.session.commit()
    ani, budi, dewi = members["Ani"], members["Budi"], members["Dewi"]
    pay(ani, M, 200_000, date(2025, 4, 1))
    pay(ani, M, 60_000, date(2026, 10, 31))
    pay(ani, M, 20_000, date(2026, 11, 1))
    pay(ani, V, 100_000, date(2026, 5, 5))
    services.withdraw(
        account_of(ani, V), amount=30_000, on=date(2026, 9, 9), today=TODAY, by=None, key=new_key()
    )
    pay(budi, M, 40_000, date(2026, 11, 20))
    wrong = pay(dewi, M, 300_000, date(2026, 2, 2))
    reverse_entry(wrong, on=date(2026, 3, 3), reason="Salah catat", by=None)
    pay(dewi, M, 100_000, date(2026, 4, 4))
    db.session.commit()
    return members


def sheet_balances(members, day: date) -> tuple[dict, dict]:
    """The balances on `day` as the sheet reads them, and from the journal."""
    accounts = bylaws_accounts([member.id for member in members.values()], (M, V))
    assert len(accounts) == 2 * len(members)
    ids = [account.id for account in accounts]
    return balances_on(accounts, day), balances_as_of(ids, day)


def expected_rows(group, month) -> list[tuple]:
    """The sheet's rows as the per-member reads give them: the journal's balance at the
    month's end, and `arrears_of` as of the next month's first day."""
    last = month_end(month)
    rows = []
    for row in sheet_rows(group, month):
        account = row.accounts[M]
        paid = balances_as_of([account.id], last)[account.id]
        arrears = arrears_of(account, paid=paid, as_of=last + timedelta(days=1)).rupiah
        rows.append((row.member.name, arrears, min(arrears, account.product.amount)))
    return rows


def shown_rows(group, month) -> list[tuple]:
    return [(row.member.name, row.arrears, row.suggested) for row in sheet_rows(group, month)]


def test_balances_on_any_day_are_the_journals(mawar):
    # Nothing is dated after 20 November yet: November's and December's ends are read from
    # the cached balances, the earlier days from the journal.
    for day in DAYS:
        shown, journal = sheet_balances(mawar, day)
        assert shown == journal, day
    pay(mawar["Budi"], M, 20_000, date(2026, 12, 2), today=date(2026, 12, 2))
    db.session.commit()
    for day in DAYS:
        shown, journal = sheet_balances(mawar, day)
        assert shown == journal, day
    assert balances_on([], TODAY) == {}


def test_every_row_follows_arrears_of_in_any_month(mawar, group):
    for month in MONTHS:
        assert shown_rows(group, month) == expected_rows(group, month), month
    # By 30 November, the joining month included: Ani 21 months due (March 2025 to
    # November 2026) = 420.000, paid 280.000; Budi 11 months (January to November), paid
    # 40.000; Citra 6 months (June to November), nothing paid; Dewi 24 months (December
    # 2024 to November 2026) = 480.000, paid 100.000 once the 300.000 was reversed.
    assert shown_rows(group, NOVEMBER) == [
        ("Ani", 140_000, 20_000),
        ("Budi", 180_000, 20_000),
        ("Citra", 120_000, 20_000),
        ("Dewi", 380_000, 20_000),
    ]
    # A payment dated after November: November's sheet is read from the journal now.
    pay(mawar["Budi"], M, 20_000, date(2026, 12, 2), today=date(2026, 12, 2))
    db.session.commit()
    for month in MONTHS:
        assert shown_rows(group, month) == expected_rows(group, month), month
    assert shown_rows(group, NOVEMBER)[1] == ("Budi", 180_000, 20_000)


def test_a_payment_in_the_same_transaction_shows_at_once(mawar, group):
    """A payment posted after the sheet's accounts were loaded, in the same transaction
    (as `collect` reads the sheet again before posting): the stored balance counts it."""
    before = shown_rows(group, NOVEMBER)
    pay(mawar["Citra"], M, 60_000, date(2026, 11, 20))
    after = shown_rows(group, NOVEMBER)
    assert after[2] == ("Citra", before[2][1] - 60_000, 20_000)
    assert after == expected_rows(group, NOVEMBER)
