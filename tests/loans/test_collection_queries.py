"""The collection sheet's group-wide reads of loans against the per-loan reads they replace.

`positions_by_key` must give exactly `position_of` of every loan on any day: after
repayments, a payoff, a write-off, a reversed repayment and a reschedule (the portfolio
tests' book of four loans), and across the seeded demo's loans of three products (flat,
annuity, and a fixed daily penalty), overdue in every ageing bucket. On the demo, every
group's sheet (savings and loans alike) is compared with the per-member reads the sheet
made before: `balances_as_of` and `arrears_of`, `position_of` and `due_by`.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.loans.collection import due_by
from coop_app.loans.collection_queries import positions_by_key
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member, MemberStatus, VillageGroup
from coop_app.savings.collection import month_end, sheet_day, sheet_rows
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import arrears_of, balances_as_of
from tests.loans.test_portfolio import book, later_events  # noqa: F401  (the book fixture)

M = SavingsKind.MANDATORY


def every_loan() -> list[Loan]:
    return list(db.session.execute(sa.select(Loan).order_by(Loan.id)).scalars())


def one_by_one(loans: list[Loan], day: date) -> dict:
    positions = {loan.id: position_of(loan, day) for loan in loans}
    return {loan_id: found for loan_id, found in positions.items() if found is not None}


def test_positions_by_key_are_position_of_on_every_day(book, treasurer):  # noqa: F811
    later_events(book, treasurer)
    loans = every_loan()
    # Every fifth day from the day before the loans were paid out to the new schedule's end.
    day, checked = date(2026, 2, 4), 0
    while day <= date(2027, 6, 1):
        expected = one_by_one(loans, day)
        assert positions_by_key(loans, day) == expected, day
        checked += bool(expected)
        day += timedelta(days=5)
    assert checked > 80
    assert positions_by_key([], date(2026, 5, 20)) == {}


# --- the seeded demo -------------------------------------------------------------------------


def test_the_demos_positions_are_position_of(seeded):
    loans = every_loan()
    assert {loan.status for loan in loans} >= {"active", "closed", "written_off"}
    for day in (date(2019, 7, 1), date(2023, 3, 15), date(2026, 10, 31), DEMO_TODAY):
        assert positions_by_key(loans, day) == one_by_one(loans, day), day


def per_member_sheet(group: VillageGroup, month: date, as_of: date) -> list[tuple]:
    """What the sheet showed when it read member by member and loan by loan."""
    members = db.session.execute(
        sa.select(Member)
        .where(Member.group_id == group.id, Member.status == MemberStatus.ACTIVE.value)
        .order_by(Member.name, Member.id)
    ).scalars()
    last, shown = month_end(month), []
    for member in members:
        account = mandatory_account(member)
        arrears = 0
        if account is not None:
            paid = balances_as_of([account.id], last)[account.id]
            arrears = arrears_of(account, paid=paid, as_of=last + timedelta(days=1)).rupiah
        shown.append((member.id, arrears, loans_of(member, last, as_of)))
    return shown


def mandatory_account(member: Member) -> SavingsAccount | None:
    return db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsProduct)
        .where(
            SavingsAccount.member_id == member.id,
            SavingsAccount.closed_on.is_(None),
            SavingsProduct.kind == M.value,
            SavingsProduct.automatic.is_(True),
        )
    ).scalar_one_or_none()


def loans_of(member: Member, last: date, as_of: date) -> list[tuple]:
    loans = db.session.execute(
        sa.select(Loan)
        .where(Loan.member_id == member.id, Loan.status == LoanStatus.ACTIVE.value)
        .order_by(Loan.id)
    ).scalars()
    items = []
    for loan in loans:
        position = position_of(loan, as_of)
        if position is not None:
            asks = {"installment": due_by(position, last), "penalty": position.penalty_due}
            owed = format_rupiah(position.outstanding_principal)
            items.append((loan.id, loan.version, asks, owed, position.days_past_due))
    return items


def group_sheet(group: VillageGroup, month: date, as_of: date) -> list[tuple]:
    shown = []
    for row in sheet_rows(group, month, as_of=as_of):
        items = [
            (item.ref, item.version, dict(item.suggested), item.note, item.warning)
            for item in row.items.get("loans", [])
        ]
        shown.append((row.member.id, row.arrears, items))
    return shown


def test_every_groups_sheet_is_what_the_per_member_reads_give(seeded):
    groups = db.session.execute(sa.select(VillageGroup).order_by(VillageGroup.id)).scalars()
    months = (DEMO_TODAY, date(2026, 10, 1), date(2025, 6, 1))
    compared = {"rows": 0, "behind": 0, "loans": 0, "late": 0}
    for group in groups:
        for month in months:
            as_of = sheet_day(month, DEMO_TODAY)
            got = group_sheet(group, month, as_of)
            expected = per_member_sheet(group, month, as_of)
            assert [(m, arrears) for m, arrears, _ in got] == [
                (m, arrears) for m, arrears, _ in expected
            ], (group.name, month)
            for (_, _, items), (_, _, asked) in zip(got, expected, strict=True):
                assert [i[:3] for i in items] == [a[:3] for a in asked], (group.name, month)
                for (*_, note, warning), (*_, owed, late) in zip(items, asked, strict=True):
                    assert owed in note and (f"{late} " in warning if late else warning == "")
                    compared["late"] += bool(late)
                compared["loans"] += len(items)
            compared["rows"] += len(got)
            compared["behind"] += sum(1 for _, arrears, _ in got if arrears)
    assert compared["rows"] > 300 and compared["behind"] > 50, compared
    assert compared["loans"] > 100 and compared["late"] > 10, compared
