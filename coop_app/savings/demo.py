"""The demo's savings: years of collection sheets, deposits, withdrawals, exits, closed months.

A plan is made first, deterministic from the random generator and DEMO_TODAY only, and
keeps the savings rules as it goes (principal never above the bylaws' amount, no balance
below zero on any day, nothing withdrawn inside a lock-in). It is posted in one batch
through the ledger's bulk path; the few reversals and the exit settlements then go
through the ordinary services. The months up to September 2026 are closed by the demo's
last step, `lock_demo_months`, once the other features have posted their history.
"""

import itertools
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import Account, JournalEntry, Side, Unit
from coop_app.ledger.services import credit, debit, lock_period, month_start, reverse_entry
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member, MemberStatus, MigrantProfile, VillageGroup
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.products import add_product
from coop_app.savings.services import open_account, savings_line, settle_exit

#: The last day of the history (DEMO_TODAY is the first of a month nothing is posted in yet).
HISTORY_END = DEMO_TODAY - timedelta(days=1)
#: The demo's books are closed through this month.
LAST_CLOSED = date(2026, 9, 1)
#: Idul Fitri: remittances from family abroad peak in the weeks before, withdrawals just before.
LEBARAN = {2018: date(2018, 6, 15), 2019: date(2019, 6, 5), 2020: date(2020, 5, 24),
           2021: date(2021, 5, 13), 2022: date(2022, 5, 2), 2023: date(2023, 4, 22),
           2024: date(2024, 4, 10), 2025: date(2025, 3, 31), 2026: date(2026, 3, 20)}  # fmt: skip
#: Share of active members behind with mandatory savings, and how many months (weights).
BEHIND_SHARE = 0.17
BEHIND_MONTHS = {1: 30, 2: 20, 3: 15, 4: 8, 5: 6, 6: 6, 7: 3, 8: 3, 9: 3, 10: 2, 11: 2, 12: 2}
#: The admin's variant product: code, name, ledger account code, target, lock-in months.
REMITTANCE = ("TR", "Tabungan Remitansi", "2102", 10_000_000, 12)
REMITTANCE_MEMBERS = 15
#: Deposits recorded by mistake and reversed: (how many, reason).
MISTAKES = ((3, "Setoran tercatat dua kali"), (2, "Salah ketik nominal, seharusnya {amount}"))
DEPOSIT, WITHDRAWAL = 0, 1  # same day: deposits first


def seed_savings(rng: random.Random) -> None:
    """The savings history of every member who became active, from activation to DEMO_TODAY."""
    staff = _treasurer()
    savers = _savers()
    plan = _Plan(rng, _collection_days(rng))
    for saver in savers:
        plan.member(saver)
    plan.remittance(_remittance_product(), savers)
    plan.mistakes()
    post_entries_bulk(plan.entries(staff))
    for key, on, reason in plan.reversals:
        entry = db.session.execute(
            sa.select(JournalEntry).filter_by(idempotency_key=key)
        ).scalar_one()
        reverse_entry(entry, on=on, reason=reason, by=staff)
    for saver in savers:
        if saver.member.status != MemberStatus.ACTIVE:
            on = min(saver.end + timedelta(days=rng.randint(1, 30)), DEMO_TODAY)
            settle_exit(
                saver.member, on=on, today=DEMO_TODAY, by=staff, key=f"demo:exit:{saver.member.id}"
            )


def lock_demo_months(rng: random.Random) -> None:
    """Close the books from the first month of the history through LAST_CLOSED: the last
    demo step, so that every feature's history is posted into open months first."""
    staff = _treasurer()
    first = db.session.execute(sa.select(sa.func.min(JournalEntry.entry_date))).scalar()
    if first is None:
        return
    month = month_start(first)
    while month <= LAST_CLOSED:
        lock_period(month, today=DEMO_TODAY, by=staff)
        month += relativedelta(months=1)


@dataclass
class _Saver:
    member: Member
    accounts: dict[str, SavingsAccount]
    family_abroad: int

    @property
    def opened(self) -> date:
        return self.accounts[SavingsKind.PRINCIPAL].opened_on

    @property
    def end(self) -> date:
        """The last day money moves: the exit, or the end of the history."""
        active = self.member.status == MemberStatus.ACTIVE
        return HISTORY_END if active else min(self.member.status_date, HISTORY_END)


@dataclass
class _Move:
    """An over-the-counter deposit (amount > 0) or withdrawal (< 0) of one account."""

    on: date
    account: SavingsAccount
    amount: int
    key: str


class _Plan:
    def __init__(self, rng: random.Random, days: dict[tuple[int, date], date]):
        self.rng, self.days = rng, days
        self.moves: list[_Move] = []
        #: (group id, month) -> member id -> [mandatory, voluntary] rupiah on that sheet.
        self.sheets: dict[tuple[int, date], dict[int, list[int]]] = defaultdict(dict)
        self.members: dict[int, _Saver] = {}
        self.reversals: list[tuple[str, date, str]] = []
        self.numbers = itertools.count(1)

    def move(self, on: date, account: SavingsAccount, amount: int) -> _Move:
        kind = "deposit" if amount > 0 else "withdrawal"
        made = _Move(on, account, amount, f"demo:{kind}:{next(self.numbers)}")
        self.moves.append(made)
        return made

    def member(self, saver: _Saver) -> None:
        self.members[saver.member.id] = saver
        principal = saver.accounts[SavingsKind.PRINCIPAL]
        amount = principal.product.amount or 0
        if self.rng.random() < 0.2:  # in two installments, the second a month or two later
            first = amount // 2
            self.move(saver.opened, principal, first)
            later = saver.opened + timedelta(days=self.rng.randint(20, 75))
            self.move(min(later, saver.end), principal, amount - first)
        else:
            self.move(saver.opened, principal, amount)
        attended = self._mandatory(saver)
        self._voluntary(saver, attended)

    def _mandatory(self, saver: _Saver) -> list[tuple[date, date]]:
        """Months since joining paid at activation, then one sheet a month (some fall behind)."""
        account = saver.accounts[SavingsKind.MANDATORY]
        monthly = account.product.amount or 0
        joined = saver.member.join_date
        upfront = (saver.opened.year - joined.year) * 12 + saver.opened.month - joined.month + 1
        self.move(saver.opened, account, upfront * monthly)
        sheets, month = [], month_start(saver.opened) + relativedelta(months=1)
        while (day := self.days.get((saver.member.group_id, month))) and day <= saver.end:
            sheets.append((month, day))
            month += relativedelta(months=1)
        paid = self._months_paid(len(sheets), saver.member.status == MemberStatus.ACTIVE)
        attended = []
        for (month, day), months in zip(sheets, paid, strict=True):
            if months:
                self.sheets[(saver.member.group_id, month)][saver.member.id] = [months * monthly, 0]
                attended.append((month, day))
        return attended

    def _months_paid(self, count: int, active: bool) -> list[int]:
        """Months paid on each sheet: mostly one; some stop (arrears), some catch up later."""
        paid, rng = [1] * count, self.rng
        if active and count and rng.random() < BEHIND_SHARE:
            behind = min(count, rng.choices(list(BEHIND_MONTHS), list(BEHIND_MONTHS.values()))[0])
            paid[count - behind :] = [0] * behind
        elif count > 12 and rng.random() < 0.08:  # behind for a while, then paid it all at once
            length = rng.randint(3, 7)
            start = rng.randint(0, count - length - 2)
            paid[start : start + length] = [0] * length
            paid[start + length] += length
        else:
            for index in range(count - 1):  # now and then a month paid with the next one
                if paid[index] == 1 and rng.random() < 0.03:
                    paid[index], paid[index + 1] = 0, paid[index + 1] + 1
        return paid

    def _voluntary(self, saver: _Saver, attended: list[tuple[date, date]]) -> None:
        """Small amounts on the sheets, remittances before Lebaran, withdrawals never overdrawn."""
        rng, account = self.rng, saver.accounts[SavingsKind.VOLUNTARY]
        on_sheet = rng.choice((0.0, 0.0, 0.2, 0.2, 0.5, 0.7))
        events = []
        for month, day in attended:
            if rng.random() < on_sheet:
                events.append((day, DEPOSIT, month, _rupiah(rng, 5_000, 100_000)))
        for year in range(saver.opened.year, saver.end.year + 1):
            for on, low, high in self._office_deposits(saver, year, on_sheet > 0):
                events.append((on, DEPOSIT, None, _rupiah(rng, low, high)))
            lebaran = LEBARAN[year]
            for chance, on, share in (
                (0.5, lebaran - timedelta(days=rng.randint(1, 6)), (0.3, 0.8)),  # for the holiday
                (0.2, date(year, 7, rng.randint(1, 20)), (0.2, 0.6)),  # the new school year
                (0.06, date(year, rng.randint(1, 12), rng.randint(1, 28)), (0.5, 1.0)),  # a need
            ):
                if rng.random() < chance:
                    events.append((on, WITHDRAWAL, None, rng.uniform(*share)))
        balance = 0
        for on, kind, month, value in sorted(events, key=lambda event: event[:2]):
            if not saver.opened < on <= saver.end:
                continue
            if kind == WITHDRAWAL:
                amount = int(balance * value) // 5_000 * 5_000
                if amount >= 50_000:
                    self.move(on, account, -amount)
                    balance -= amount
                continue
            if month is None:
                self.move(on, account, value)
            else:
                self.sheets[(saver.member.group_id, month)][saver.member.id][1] = value
            balance += value

    def _office_deposits(self, saver: _Saver, year: int, saves: bool):
        """(date, least, most) of the year's deposits at the office."""
        rng, lebaran = self.rng, LEBARAN[year]
        if saver.family_abroad:
            for _index in range(rng.choice((1, 2, 2, 3))):
                yield lebaran - timedelta(days=rng.randint(3, 45)), 300_000, 2_000_000
        elif saves and rng.random() < 0.35:
            yield lebaran - timedelta(days=rng.randint(3, 40)), 50_000, 750_000
        if (saves or saver.family_abroad) and rng.random() < 0.3:
            yield date(year, rng.randint(1, 12), rng.randint(1, 28)), 50_000, 500_000

    def remittance(self, product: SavingsProduct, savers: list[_Saver]) -> None:
        """The variant product for members with family abroad: towards a target, locked a year."""
        rng = self.rng
        early = [
            s
            for s in savers
            if s.member.status == MemberStatus.ACTIVE and s.opened < date(2024, 7, 1)
        ]
        abroad = [s for s in early if s.family_abroad]
        chosen = rng.sample(abroad, min(REMITTANCE_MEMBERS, len(abroad)))
        chosen += rng.sample(
            [s for s in early if not s.family_abroad], REMITTANCE_MEMBERS - len(chosen)
        )
        for saver in sorted(chosen, key=lambda s: s.member.id):
            opened = _between(
                rng, max(saver.opened + timedelta(days=30), date(2023, 1, 2)), date(2025, 6, 30)
            )
            account = open_account(saver.member, product, on=opened)
            unlocked = opened + relativedelta(months=product.lock_months)
            builds = rng.random() < 0.35  # takes most of it out once, e.g. to renovate the house
            balance, month = 0, month_start(opened)
            while month <= HISTORY_END:
                peak = (
                    month_start(LEBARAN[month.year]) - relativedelta(months=1)
                    <= month
                    <= LEBARAN[month.year]
                )
                on = max(opened, month + timedelta(days=rng.randint(0, 27)))
                if balance < (product.target or 0) and rng.random() < (0.85 if peak else 0.45):
                    amount = _rupiah(rng, 200_000, 2_250_000 if peak else 1_500_000)
                    self.move(on, account, amount)
                    balance += amount
                elif builds and on >= unlocked and balance >= 6_000_000:
                    amount = int(balance * rng.uniform(0.6, 1.0)) // 50_000 * 50_000
                    self.move(on, account, -amount)
                    balance, builds = balance - amount, False
                month += relativedelta(months=1)

    def mistakes(self) -> None:
        """A few over-the-counter deposits recorded twice or with a wrong amount, then reversed."""
        candidates = [
            move
            for move in self.moves
            if move.amount > 0
            and move.account.product.savings_kind == SavingsKind.VOLUNTARY
            and self.members[move.account.member_id].member.status == MemberStatus.ACTIVE
            and move.on <= date(2026, 8, 20)
        ]
        picked = iter(self.rng.sample(candidates, sum(count for count, _reason in MISTAKES)))
        for count, reason in MISTAKES:
            for move in (next(picked) for _index in range(count)):
                corrected = move.on + timedelta(days=self.rng.randint(1, 10))
                if "{amount}" in reason:  # the wrong amount goes in; the right one on correction
                    wrong = self.move(move.on, move.account, move.amount * 10)
                    self.moves.append(_Move(corrected, move.account, move.amount, move.key))
                    self.moves.remove(move)
                else:
                    wrong = self.move(move.on, move.account, move.amount)
                self.reversals.append(
                    (wrong.key, corrected, reason.format(amount=format_rupiah(move.amount)))
                )

    def entries(self, staff: User) -> list[BulkEntry]:
        """Every planned posting in date order (deposits before withdrawals on the same day)."""
        rows = []
        for move in self.moves:
            saver = self.members[move.account.member_id]
            rows.append(
                (move.on, DEPOSIT if move.amount > 0 else WITHDRAWAL, _counter(move, saver, staff))
            )
        groups = {
            group.id: group for group in db.session.execute(sa.select(VillageGroup)).scalars()
        }
        batches = []
        for (group_id, month), paying in sorted(
            self.sheets.items(), key=lambda item: (self.days[item[0]], item[0])
        ):
            batch = CollectionBatch(
                group_id=group_id,
                month=month,
                collected_on=self.days[(group_id, month)],
                created_by_id=staff.id,
            )
            batches.append((batch, groups[group_id], paying))
        db.session.add_all(batch for batch, _group, _paying in batches)
        db.session.flush()
        for batch, group, paying in batches:
            for member_id in sorted(paying):
                entry = _sheet_row(batch, group, self.members[member_id], paying[member_id], staff)
                rows.append((batch.collected_on, DEPOSIT, entry))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [entry for _on, _kind, entry in rows]


def _counter(move: _Move, saver: _Saver, staff: User) -> BulkEntry:
    """An over-the-counter deposit or withdrawal, as `deposit` and `withdraw` post them."""
    account, member = move.account, saver.member
    if move.amount > 0:
        lines = [debit("cash", move.amount), savings_line(account, Side.CREDIT, move.amount)]
        text = _(
            "Deposit to %(product)s, %(member)s", product=account.product.name, member=member.name
        )
    else:
        lines = [savings_line(account, Side.DEBIT, -move.amount), credit("cash", -move.amount)]
        text = _(
            "Withdrawal from %(product)s, %(member)s",
            product=account.product.name,
            member=member.name,
        )
    source = "savings.deposit" if move.amount > 0 else "savings.withdrawal"
    return BulkEntry(
        move.on, text, Unit.SAVINGS_LOANS, lines, source, move.key, staff.id, member.number
    )


def _sheet_row(
    batch: CollectionBatch, group: VillageGroup, saver: _Saver, amounts: list[int], staff: User
):
    """One member's row of a sheet, as `collection.collect` posts it."""
    member = saver.member
    lines = [
        savings_line(saver.accounts[kind], Side.CREDIT, amount)
        for kind, amount in zip(
            (SavingsKind.MANDATORY, SavingsKind.VOLUNTARY), amounts, strict=True
        )
        if amount
    ]
    return BulkEntry(
        batch.collected_on,
        _("Collection %(group)s, %(member)s", group=group.name, member=member.name),
        Unit.SAVINGS_LOANS,
        [debit("cash", sum(amounts), member_id=member.id), *lines],
        "savings.collection",
        f"demo:collection:{batch.id}:{member.id}",
        staff.id,
        source_ref=f"collection:{batch.id}",
    )


def _collection_days(rng: random.Random) -> dict[tuple[int, date], date]:
    """Each group meets on about the same day every month (moved a little now and then)."""
    groups = (
        db.session.execute(sa.select(VillageGroup.id).order_by(VillageGroup.id)).scalars().all()
    )
    days, month = {}, date(2018, 1, 1)
    usual = {group_id: rng.randint(5, 25) for group_id in groups}
    while month <= HISTORY_END:
        for group_id in groups:
            days[(group_id, month)] = month.replace(
                day=usual[group_id] + rng.choice((-2, 0, 0, 0, 0, 1, 3))
            )
        month += relativedelta(months=1)
    return days


def _savers() -> list[_Saver]:
    """Members who became active (their bylaws' accounts opened then), by member id."""
    accounts = db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsAccount.product)
        .where(SavingsProduct.automatic.is_(True))
        .order_by(SavingsAccount.member_id, SavingsAccount.id)
    ).scalars()
    abroad = dict(
        db.session.execute(sa.select(MigrantProfile.member_id, MigrantProfile.family_abroad)).all()
    )
    by_member: dict[int, dict[str, SavingsAccount]] = defaultdict(dict)
    for account in accounts:
        by_member[account.member_id][account.product.kind] = account
    members = db.session.execute(
        sa.select(Member).where(Member.id.in_(by_member)).order_by(Member.id)
    ).scalars()
    return [_Saver(m, by_member[m.id], abroad.get(m.id, 0)) for m in members]


def _remittance_product() -> SavingsProduct:
    """The variant the board adds on the products screen."""
    code, name, account_code, target, lock_months = REMITTANCE
    account = db.session.execute(sa.select(Account).filter_by(code=account_code)).scalar_one()
    return add_product(
        code=code, name=name, account=account, target=target, lock_months=lock_months
    )


def _treasurer() -> User:
    user = db.session.execute(
        sa.select(User).where(User.role == Role.TREASURER.value).order_by(User.id).limit(1)
    ).scalar()
    if user is None:
        raise RuntimeError("seed the demo users before the savings")
    return user


def _rupiah(rng: random.Random, least: int, most: int) -> int:
    """An amount between the two, small ones more often, in multiples of Rp 5.000."""
    amount = math.exp(rng.uniform(math.log(least), math.log(most)))
    return max(least, round(amount / 5_000) * 5_000)


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))
