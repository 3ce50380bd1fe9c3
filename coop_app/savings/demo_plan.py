"""The demo's savings as a plan: every member's history, drawn from the random generator.

Made before anything is posted, deterministic from the generator and DEMO_TODAY only, and
keeping the savings rules as it goes (principal never above the bylaws' amount, no
balance below zero on any day, nothing withdrawn inside a lock-in); `Plan.entries` turns
it into the entries the savings services would post. Shared by the demo (one plan for its
220 members) and the district-scale demo (one plan per batch of members).
"""

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.db import reserve_ids, utcnow
from coop_app.extensions import db
from coop_app.ledger.bulk import BulkEntry
from coop_app.ledger.models import Side, Unit
from coop_app.ledger.services import credit, debit, month_start
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member, MemberStatus, VillageGroup
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind
from coop_app.savings.services import savings_line

#: The last day of the history (DEMO_TODAY is the first of a month nothing is posted in yet).
HISTORY_END = DEMO_TODAY - timedelta(days=1)
#: Idul Fitri: remittances from family abroad peak in the weeks before, withdrawals just before.
LEBARAN = {2016: date(2016, 7, 6), 2017: date(2017, 6, 25), 2018: date(2018, 6, 15),
           2019: date(2019, 6, 5), 2020: date(2020, 5, 24),
           2021: date(2021, 5, 13), 2022: date(2022, 5, 2), 2023: date(2023, 4, 22),
           2024: date(2024, 4, 10), 2025: date(2025, 3, 31), 2026: date(2026, 3, 20)}  # fmt: skip
#: Share of active members behind with mandatory savings, and how many months (weights).
BEHIND_SHARE = 0.17
BEHIND_MONTHS = {1: 30, 2: 20, 3: 15, 4: 8, 5: 6, 6: 6, 7: 3, 8: 3, 9: 3, 10: 2, 11: 2, 12: 2}
DEPOSIT, WITHDRAWAL = 0, 1  # same day: deposits first


@dataclass
class Saver:
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
class Move:
    """An over-the-counter deposit (amount > 0) or withdrawal (< 0) of one account."""

    on: date
    account: SavingsAccount
    amount: int
    key: str


class Sheet(NamedTuple):
    """A submitted collection sheet (its CollectionBatch row): what its entries name."""

    id: int
    collected_on: date


class Plan:
    """Every member's planned savings history; `numbers` (of the keys) and `batches` (the
    sheets submitted so far) may be shared by several plans, e.g. one per batch of members."""

    def __init__(
        self,
        rng: random.Random,
        days: dict[tuple[int, date], date],
        *,
        numbers: Iterator[int] | None = None,
        batches: dict[tuple[int, date], Sheet] | None = None,
    ):
        self.rng, self.days = rng, days
        self.moves: list[Move] = []
        #: (group id, month) -> member id -> [mandatory, voluntary] rupiah on that sheet.
        self.sheets: dict[tuple[int, date], dict[int, list[int]]] = defaultdict(dict)
        self.members: dict[int, Saver] = {}
        self.reversals: list[tuple[str, date, str]] = []
        self.numbers = numbers or itertools.count(1)
        #: (group id, month) -> the sheet submitted for it.
        self.batches = {} if batches is None else batches

    def move(self, on: date, account: SavingsAccount, amount: int) -> Move:
        kind = "deposit" if amount > 0 else "withdrawal"
        made = Move(on, account, amount, f"demo:{kind}:{next(self.numbers)}")
        self.moves.append(made)
        return made

    def member(self, saver: Saver) -> None:
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

    def _mandatory(self, saver: Saver) -> list[tuple[date, date]]:
        """Months since joining paid at activation, then one sheet a month (some fall behind)."""
        account = saver.accounts[SavingsKind.MANDATORY]
        monthly = account.product.amount or 0
        joined = saver.member.join_date
        upfront = (saver.opened.year - joined.year) * 12 + saver.opened.month - joined.month + 1
        self.move(saver.opened, account, upfront * monthly)
        sheets, month = [], _next_month(month_start(saver.opened))
        group_id, end = saver.member.group_id, saver.end
        while (day := self.days.get((group_id, month))) and day <= end:
            sheets.append((month, day))
            month = _next_month(month)
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

    def _voluntary(self, saver: Saver, attended: list[tuple[date, date]]) -> None:
        """Small amounts on the sheets, remittances before Lebaran, withdrawals never overdrawn."""
        rng, account = self.rng, saver.accounts[SavingsKind.VOLUNTARY]
        on_sheet = rng.choice((0.0, 0.0, 0.2, 0.2, 0.5, 0.7))
        events = []
        for month, day in attended:
            if rng.random() < on_sheet:
                events.append((day, DEPOSIT, month, rupiah(rng, 5_000, 100_000)))
        for year in range(saver.opened.year, saver.end.year + 1):
            for on, low, high in self._office_deposits(saver, year, on_sheet > 0):
                events.append((on, DEPOSIT, None, rupiah(rng, low, high)))
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

    def _office_deposits(self, saver: Saver, year: int, saves: bool):
        """(date, least, most) of the year's deposits at the office."""
        rng, lebaran = self.rng, LEBARAN[year]
        if saver.family_abroad:
            for _index in range(rng.choice((1, 2, 2, 3))):
                yield lebaran - timedelta(days=rng.randint(3, 45)), 300_000, 2_000_000
        elif saves and rng.random() < 0.35:
            yield lebaran - timedelta(days=rng.randint(3, 40)), 50_000, 750_000
        if (saves or saver.family_abroad) and rng.random() < 0.3:
            yield date(year, rng.randint(1, 12), rng.randint(1, 28)), 50_000, 500_000

    def entries(self, staff: User) -> list[BulkEntry]:
        """Every planned posting in date order (deposits before withdrawals on the same day)."""
        rows, texts = [], _texts()
        for move in self.moves:
            saver = self.members[move.account.member_id]
            kind = DEPOSIT if move.amount > 0 else WITHDRAWAL
            rows.append((move.on, kind, _counter(move, saver, staff, texts)))
        groups = {
            group.id: group for group in db.session.execute(sa.select(VillageGroup)).scalars()
        }
        collected = sorted(self.sheets, key=lambda sheet: (self.days[sheet], sheet))
        self._submit([sheet for sheet in collected if sheet not in self.batches], staff)
        for group_id, month in collected:
            batch, group = self.batches[(group_id, month)], groups[group_id]
            paying = self.sheets[(group_id, month)]
            for member_id in sorted(paying):
                saver = self.members[member_id]
                entry = _sheet_row(batch, group, saver, paying[member_id], staff, texts)
                rows.append((batch.collected_on, DEPOSIT, entry))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [entry for _on, _kind, entry in rows]

    def _submit(self, sheets: list[tuple[int, date]], staff: User) -> None:
        """Record the sheets (group id, month) not submitted yet, in that order, as `collect`
        records a sheet (a CollectionBatch row), all in one INSERT: a district has tens of
        thousands of them, and the ORM inserts one row per statement."""
        if not sheets:
            return
        table, now = CollectionBatch.__table__, utcnow()
        ids = reserve_ids(db.session, table, len(sheets))
        rows = [
            {
                "id": batch_id,
                "group_id": group_id,
                "month": month,
                "collected_on": self.days[(group_id, month)],
                "created_by_id": staff.id,
                "created_at": now,
            }
            for batch_id, (group_id, month) in zip(ids, sheets, strict=True)
        ]
        db.session.execute(sa.insert(table), rows)
        for row in rows:
            self.batches[(row["group_id"], row["month"])] = Sheet(row["id"], row["collected_on"])


def _texts() -> dict[str, str]:
    """The entries' descriptions in the current language, looked up once per plan (a lookup
    per entry took longer than posting the entry); `%` fills them in as `_` would."""
    return {
        "deposit": _("Deposit to %(product)s, %(member)s"),
        "withdrawal": _("Withdrawal from %(product)s, %(member)s"),
        "collection": _("Collection %(group)s, %(member)s"),
    }


def _next_month(month: date) -> date:
    """The first day of the month after `month` (a first day), as `+ relativedelta(months=1)`
    gives it, at a fraction of its cost (ten thousand members' sheets, month by month)."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _counter(move: Move, saver: Saver, staff: User, texts: dict[str, str]) -> BulkEntry:
    """An over-the-counter deposit or withdrawal, as `deposit` and `withdraw` post them."""
    account, member = move.account, saver.member
    names = {"product": account.product.name, "member": member.name}
    if move.amount > 0:
        lines = [debit("cash", move.amount), savings_line(account, Side.CREDIT, move.amount)]
        text = texts["deposit"] % names
    else:
        lines = [savings_line(account, Side.DEBIT, -move.amount), credit("cash", -move.amount)]
        text = texts["withdrawal"] % names
    source = "savings.deposit" if move.amount > 0 else "savings.withdrawal"
    return BulkEntry(
        move.on, text, Unit.SAVINGS_LOANS, lines, source, move.key, staff.id, member.number
    )


def _sheet_row(batch: Sheet, group: VillageGroup, saver: Saver, amounts, staff, texts):
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
        texts["collection"] % {"group": group.name, "member": member.name},
        Unit.SAVINGS_LOANS,
        [debit("cash", sum(amounts), member_id=member.id), *lines],
        "savings.collection",
        f"demo:collection:{batch.id}:{member.id}",
        staff.id,
        source_ref=f"collection:{batch.id}",
    )


def rupiah(rng: random.Random, least: int, most: int) -> int:
    """An amount between the two, small ones more often, in multiples of Rp 5.000."""
    amount = math.exp(rng.uniform(math.log(least), math.log(most)))
    return max(least, round(amount / 5_000) * 5_000)
