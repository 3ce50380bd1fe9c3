"""The district-scale demo's savings: every member's history, a few hundred members at a time.

Each batch of members is planned exactly as the demo plans its 220 (`Plan`: principal
once, months since joining at activation, then one collection sheet a month with some
falling behind, voluntary deposits and withdrawals never overdrawn), the leavers' exit
settlements are added, and the batch is posted through the ledger's bulk path in pieces
of at most PIECE entries. The plans share the keys' numbering and the sheets submitted so
far, so that a village group's month has one sheet however many batches pay on it. Only
one batch's plan, entries and accounts are held at a time.
"""

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.demo_size import DemoSize
from coop_app.extensions import db
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import Side, Unit
from coop_app.ledger.services import credit, month_start
from coop_app.members.demo import DEMO_TODAY
from coop_app.members.models import Member, MemberStatus, MigrantProfile
from coop_app.savings.demo import collection_days, lock_demo_months, treasurer
from coop_app.savings.demo_plan import Plan, Saver
from coop_app.savings.models import SavingsAccount, SavingsProduct
from coop_app.savings.services import savings_line

#: Members planned and posted together, and entries per call of the bulk path.
CHUNK, PIECE = 400, 20_000


def seed_savings_at_scale(rng: random.Random, size: DemoSize) -> None:
    """The savings history of every member who became active, from activation to DEMO_TODAY."""
    staff = treasurer()
    days = collection_days(rng, month_start(size.first_day))
    numbers, batches = itertools.count(1), {}
    for savers in _saver_batches():
        plan = Plan(rng, days, numbers=numbers, batches=batches)
        for saver in savers:
            plan.member(saver)
        entries = plan.entries(staff)
        exits = _exits(rng, savers, entries, staff)
        entries += [entry for entry, _on, _accounts in exits if entry is not None]
        entries.sort(key=lambda entry: entry.on)  # stable: each exit after the member's days
        for start in range(0, len(entries), PIECE):
            post_entries_bulk(entries[start : start + PIECE])
        _close(exits)
        _forget(savers)


def lock_months_at_scale(rng: random.Random, size: DemoSize) -> None:
    """Close the books from the history's first month through LAST_CLOSED, as the demo does."""
    lock_demo_months(rng)


def _saver_batches() -> Iterator[list[Saver]]:
    """Members who became active (their bylaws' accounts opened then), CHUNK at a time."""
    last = 0
    while True:
        members = (
            db.session.execute(
                sa.select(Member)
                .where(Member.id > last, Member.status != MemberStatus.CANDIDATE.value)
                .order_by(Member.id)
                .limit(CHUNK)
            )
            .scalars()
            .all()
        )
        if not members:
            return
        yield _savers(members)
        last = members[-1].id


def _savers(members: list[Member]) -> list[Saver]:
    ids = [member.id for member in members]
    accounts = db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsAccount.product)
        .where(SavingsAccount.member_id.in_(ids), SavingsProduct.automatic.is_(True))
    ).scalars()
    by_member: dict[int, dict] = defaultdict(dict)
    for account in accounts:
        by_member[account.member_id][account.product.kind] = account
    abroad = dict(
        db.session.execute(
            sa.select(MigrantProfile.member_id, MigrantProfile.family_abroad).where(
                MigrantProfile.member_id.in_(ids)
            )
        ).all()
    )
    return [Saver(m, by_member[m.id], abroad.get(m.id, 0)) for m in members if by_member[m.id]]


def _exits(rng: random.Random, savers: list[Saver], entries: list[BulkEntry], staff: User):
    """The leavers' exit settlements, as `settle_exit` posts them for a member without
    loans (only active members borrow): every savings balance paid out in cash, a few
    days after leaving. Returns (the entry, None if nothing is left to pay; the day; the
    accounts it closes) per leaver."""
    balances: dict[str, int] = defaultdict(int)
    for entry in entries:
        for line in entry.lines:
            if line.subaccount:
                signed = line.amount if line.side == Side.CREDIT else -line.amount
                balances[line.subaccount] += signed
    settled = []
    for saver in savers:
        member = saver.member
        if member.status == MemberStatus.ACTIVE:
            continue
        on = min(saver.end + timedelta(days=rng.randint(1, 30)), DEMO_TODAY)
        accounts = list(saver.accounts.values())
        lines = [
            savings_line(account, Side.DEBIT, balances[account.subaccount])
            for account in accounts
            if balances[account.subaccount] > 0
        ]
        paid = sum(line.amount for line in lines)
        if not paid:
            settled.append((None, on, accounts))
            continue
        entry = BulkEntry(
            on,
            _("Exit settlement of %(member)s", member=member.name),
            Unit.SAVINGS_LOANS,
            [*lines, credit("cash", paid, member_id=member.id)],
            "savings.exit",
            f"demo:exit:{member.id}",
            staff.id,
            member.number,
        )
        settled.append((entry, on, accounts))
    return settled


def _close(exits) -> None:
    """Close the leavers' accounts on their settlement's day, once it is posted."""
    rows = [
        {"account": account.id, "on": on} for _entry, on, accounts in exits for account in accounts
    ]
    if rows:
        table = SavingsAccount.__table__
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("account"))
            .values(closed_on=sa.bindparam("on")),
            rows,
        )


def _forget(savers: list[Saver]) -> None:
    """Let the session drop a batch's members and accounts (they are written)."""
    db.session.flush()
    for saver in savers:
        for account in saver.accounts.values():
            db.session.expunge(account)
        db.session.expunge(saver.member)
