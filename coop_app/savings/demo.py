"""The demo's savings: years of collection sheets, deposits, withdrawals, exits, closed months.

A plan is made first, deterministic from the random generator and DEMO_TODAY only, and
keeps the savings rules as it goes (principal never above the bylaws' amount, no balance
below zero on any day, nothing withdrawn inside a lock-in). It is posted in one batch
through the ledger's bulk path; the few reversals and the exit settlements then go
through the ordinary services. The months up to September 2026 are closed by the demo's
last step, `lock_demo_months`, once the other features have posted their history.
"""

import random
from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger.administration import lock_period
from coop_app.ledger.bulk import post_entries_bulk
from coop_app.ledger.models import Account, JournalEntry
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.services import month_start
from coop_app.members.demo import DEMO_TODAY, between
from coop_app.members.models import Member, MemberStatus, MigrantProfile, VillageGroup
from coop_app.savings.demo_plan import (
    HISTORY_END,
    LEBARAN,
    Move,
    Plan,
    Saver,
    rupiah,
)
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.products import add_product
from coop_app.savings.services import open_account, settle_exit

#: The demo's books are closed through this month.
LAST_CLOSED = date(2026, 9, 1)
#: The admin's variant product: code, name, ledger account code, target, lock-in months.
REMITTANCE = ("TR", "Tabungan Remitansi", "2102", 10_000_000, 12)
REMITTANCE_MEMBERS = 15
#: Deposits recorded by mistake and reversed: (how many, reason).
MISTAKES = ((3, "Setoran tercatat dua kali"), (2, "Salah ketik nominal, seharusnya {amount}"))


def seed_savings(rng: random.Random) -> None:
    """The savings history of every member who became active, from activation to DEMO_TODAY."""
    staff = treasurer()
    savers = _savers()
    plan = Plan(rng, collection_days(rng))
    for saver in savers:
        plan.member(saver)
    _remittance(plan, _remittance_product(), savers)
    _mistakes(plan)
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
    staff = treasurer()
    first = db.session.execute(sa.select(sa.func.min(JournalEntry.entry_date))).scalar()
    if first is None:
        return
    month = month_start(first)
    while month <= LAST_CLOSED:
        lock_period(month, today=DEMO_TODAY, by=staff)
        month += relativedelta(months=1)


def _remittance(plan: Plan, product: SavingsProduct, savers: list[Saver]) -> None:
    """The variant product for members with family abroad: towards a target, locked a year."""
    rng = plan.rng
    early = [
        s for s in savers if s.member.status == MemberStatus.ACTIVE and s.opened < date(2024, 7, 1)
    ]
    abroad = [s for s in early if s.family_abroad]
    chosen = rng.sample(abroad, min(REMITTANCE_MEMBERS, len(abroad)))
    chosen += rng.sample(
        [s for s in early if not s.family_abroad], REMITTANCE_MEMBERS - len(chosen)
    )
    for saver in sorted(chosen, key=lambda s: s.member.id):
        opened = between(
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
                amount = rupiah(rng, 200_000, 2_250_000 if peak else 1_500_000)
                plan.move(on, account, amount)
                balance += amount
            elif builds and on >= unlocked and balance >= 6_000_000:
                amount = int(balance * rng.uniform(0.6, 1.0)) // 50_000 * 50_000
                plan.move(on, account, -amount)
                balance, builds = balance - amount, False
            month += relativedelta(months=1)


def _mistakes(plan: Plan) -> None:
    """A few over-the-counter deposits recorded twice or with a wrong amount, then reversed."""
    candidates = [
        move
        for move in plan.moves
        if move.amount > 0
        and move.account.product.savings_kind == SavingsKind.VOLUNTARY
        and plan.members[move.account.member_id].member.status == MemberStatus.ACTIVE
        and move.on <= date(2026, 8, 20)
    ]
    picked = iter(plan.rng.sample(candidates, sum(count for count, _reason in MISTAKES)))
    for count, reason in MISTAKES:
        for move in (next(picked) for _index in range(count)):
            corrected = move.on + timedelta(days=plan.rng.randint(1, 10))
            if "{amount}" in reason:  # the wrong amount goes in; the right one on correction
                wrong = plan.move(move.on, move.account, move.amount * 10)
                plan.moves.append(Move(corrected, move.account, move.amount, move.key))
                plan.moves.remove(move)
            else:
                wrong = plan.move(move.on, move.account, move.amount)
            plan.reversals.append(
                (wrong.key, corrected, reason.format(amount=format_rupiah(move.amount)))
            )


def collection_days(
    rng: random.Random, first: date = date(2018, 1, 1)
) -> dict[tuple[int, date], date]:
    """Each group meets on about the same day every month (moved a little now and then),
    from the month `first` to the end of the history."""
    groups = (
        db.session.execute(sa.select(VillageGroup.id).order_by(VillageGroup.id)).scalars().all()
    )
    days, month = {}, first
    usual = {group_id: rng.randint(5, 25) for group_id in groups}
    while month <= HISTORY_END:
        for group_id in groups:
            days[(group_id, month)] = month.replace(
                day=usual[group_id] + rng.choice((-2, 0, 0, 0, 0, 1, 3))
            )
        month += relativedelta(months=1)
    return days


def _savers() -> list[Saver]:
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
    return [Saver(m, by_member[m.id], abroad.get(m.id, 0)) for m in members]


def _remittance_product() -> SavingsProduct:
    """The variant the board adds on the products screen."""
    code, name, account_code, target, lock_months = REMITTANCE
    account = db.session.execute(sa.select(Account).filter_by(code=account_code)).scalar_one()
    return add_product(
        code=code, name=name, account=account, target=target, lock_months=lock_months
    )


def treasurer() -> User:
    user = db.session.execute(
        sa.select(User).where(User.role == Role.TREASURER.value).order_by(User.id).limit(1)
    ).scalar()
    if user is None:
        raise RuntimeError("seed the demo users before the savings")
    return user
