"""Writes of savings: open accounts, deposit, withdraw, collect a sheet, settle an exit.

Every movement is one journal entry through `post_entry`; the account's cached balance
moves in the same transaction by a conditional UPDATE (the "savings" sub-ledger,
`subledger`). Functions flush and never commit.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import Line, credit, debit, post_entry
from coop_app.members.models import Member, MemberStatus
from coop_app.members.services import member_activated, members_activated

# The savings sub-ledger registers itself with the books when imported.
from coop_app.savings import subledger  # noqa: F401
from coop_app.savings.bulk import open_default_accounts_bulk
from coop_app.savings.errors import SavingsError
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct

# --- accounts -----------------------------------------------------------------------------


def open_account(member: Member, product: SavingsProduct, *, on: date) -> SavingsAccount:
    """Open (or reopen, for a returning member) `member`'s account of `product`."""
    if member.status != MemberStatus.ACTIVE:
        raise SavingsError(_("Savings accounts are opened for active members only."))
    if not product.active:
        raise SavingsError(_("This savings product is no longer offered."))
    account = db.session.execute(
        sa.select(SavingsAccount).filter_by(member_id=member.id, product_id=product.id)
    ).scalar_one_or_none()
    if account is not None and account.closed_on is None:
        raise SavingsError(_("The member already has this savings account."))
    if account is None:
        account = SavingsAccount(member_id=member.id, product_id=product.id, balance=0)
        db.session.add(account)
    account.opened_on, account.closed_on = on, None
    db.session.flush()
    return account


def open_default_accounts(member: Member, *, on: date, by: User | None = None) -> None:
    """Open the bylaws' accounts (principal, mandatory, voluntary) of a new active member."""
    products = db.session.execute(
        sa.select(SavingsProduct).filter_by(automatic=True, active=True).order_by(SavingsProduct.id)
    ).scalars()
    open_ids = set(
        db.session.execute(
            sa.select(SavingsAccount.product_id).filter_by(member_id=member.id, closed_on=None)
        ).scalars()
    )
    for product in products:
        if product.id not in open_ids:
            open_account(member, product, on=on)


@member_activated.connect
def _on_member_activated(member: Member, *, on: date, by: User | None) -> None:
    open_default_accounts(member, on=on, by=by)


@members_activated.connect
def _on_members_activated(activations: list[tuple[int, date]], *, by: User | None) -> None:
    open_default_accounts_bulk(activations)


# --- deposits and withdrawals -------------------------------------------------------------


def check_usable(account: SavingsAccount, on: date, today: date) -> None:
    if account.closed_on is not None:
        raise SavingsError(_("This savings account is closed."))
    if account.member.status != MemberStatus.ACTIVE:
        raise SavingsError(_("Only active members can save or withdraw."))
    if on > today:
        raise SavingsError(_("The date cannot be in the future."))
    if on < account.opened_on:
        raise SavingsError(_("The date cannot be before the account was opened."))


def savings_line(account: SavingsAccount, side: Side, amount: int) -> Line:
    return Line(
        account.product.account,
        side,
        amount,
        member_id=account.member_id,
        subaccount=account.subaccount,
    )


def _check_principal(account: SavingsAccount, amount: int) -> None:
    product = account.product
    if product.kind != SavingsKind.PRINCIPAL:
        return
    # Read the balance with the row locked (PostgreSQL; SQLite writes one at a time), so that
    # two payments sent at once cannot both pass the total.
    paid = db.session.execute(
        sa.select(SavingsAccount.balance).where(SavingsAccount.id == account.id).with_for_update()
    ).scalar_one()
    if paid + amount > (product.amount or 0):
        raise SavingsError(
            _(
                "Principal savings are %(amount)s in all; %(left)s is still to be paid.",
                amount=format_rupiah(product.amount or 0),
                left=format_rupiah(max(0, (product.amount or 0) - paid)),
            )
        )


def deposit(
    account: SavingsAccount, *, amount: int, on: date, today: date, by: User | None, key: str
) -> JournalEntry:
    """Receive cash into a savings account: debit cash, credit the product's account."""
    check_usable(account, on, today)
    _check_principal(account, amount)
    entry = post_entry(
        on=on,
        description=_(
            "Deposit to %(product)s, %(member)s",
            product=account.product.name,
            member=account.member.name,
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=[debit("cash", amount), savings_line(account, Side.CREDIT, amount)],
        source="savings.deposit",
        source_ref=account.member.number,
        key=key,
        by=by,
    )
    audit.note(entity=f"savings_account:{account.id}", detail=f"deposit {amount} entry {entry.id}")
    return entry


def withdraw(
    account: SavingsAccount, *, amount: int, on: date, today: date, by: User | None, key: str
) -> JournalEntry:
    """Pay out cash from voluntary savings (never below zero, never inside a lock-in)."""
    check_usable(account, on, today)
    product = account.product
    if not product.withdrawable:
        raise SavingsError(
            _("Principal and mandatory savings are paid out only when membership ends.")
        )
    unlocked = account.opened_on + relativedelta(months=product.lock_months)
    if on < unlocked:
        raise SavingsError(
            _("This savings is locked until %(day)s.", day=unlocked.strftime("%d/%m/%Y"))
        )
    if amount > account.balance:
        raise SavingsError(
            _(
                "The balance is %(balance)s; you cannot withdraw more.",
                balance=format_rupiah(account.balance),
            )
        )
    entry = post_entry(
        on=on,
        description=_(
            "Withdrawal from %(product)s, %(member)s",
            product=product.name,
            member=account.member.name,
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=[savings_line(account, Side.DEBIT, amount), credit("cash", amount)],
        source="savings.withdrawal",
        source_ref=account.member.number,
        key=key,
        by=by,
    )
    audit.note(
        entity=f"savings_account:{account.id}", detail=f"withdrawal {amount} entry {entry.id}"
    )
    return entry


# --- exit settlement ----------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """Something a leaving member still owes, offset against their savings at exit."""

    label: str
    account_purpose: str
    amount: int
    subaccount: str | None = None


#: Functions (member, day) -> list[Owed]: what a member owes on the settlement day, taken
#: from the savings in this order (the loans unit registers its loans here).
EXIT_OFFSETS: list[Callable[[Member, date], list[Owed]]] = []
#: Functions (member, day) called once the settlement is posted (e.g. to close paid loans).
EXIT_SETTLED: list[Callable[[Member, date], None]] = []


def open_accounts(member: Member) -> list[SavingsAccount]:
    return list(
        db.session.execute(
            sa.select(SavingsAccount)
            .filter_by(member_id=member.id, closed_on=None)
            .order_by(SavingsAccount.product_id)
        ).scalars()
    )


@dataclass(frozen=True)
class ExitSettlement:
    accounts: list[SavingsAccount]
    savings: int
    offsets: list[tuple[Owed, int]]
    paid_out: int


def exit_settlement(member: Member, on: date) -> ExitSettlement:
    """What leaving pays on `on`: every savings balance, minus what the member owes."""
    accounts = open_accounts(member)
    savings = sum(account.balance for account in accounts)
    left, offsets = savings, []
    for owed in (item for provider in EXIT_OFFSETS for item in provider(member, on)):
        taken = min(left, owed.amount)
        if taken > 0:
            offsets.append((owed, taken))
            left -= taken
    return ExitSettlement(accounts, savings, offsets, left)


def settle_exit(
    member: Member, *, on: date, today: date, by: User | None, key: str
) -> JournalEntry:
    """Refund a former member's savings minus what they owe, and close their accounts."""
    if member.status not in (MemberStatus.RESIGNED, MemberStatus.DECEASED):
        raise SavingsError(_("Savings are settled only after the member has left."))
    if on > today or on < member.status_date:
        raise SavingsError(_("The settlement date must be between the exit and today."))
    # Lock the open accounts and read their balances afresh: a deposit committed meanwhile
    # is paid out too instead of being left behind in a closed account.
    db.session.execute(
        sa.select(SavingsAccount)
        .filter_by(member_id=member.id, closed_on=None)
        .with_for_update(of=SavingsAccount)
        .execution_options(populate_existing=True)
    ).all()
    settlement = exit_settlement(member, on)
    if not settlement.accounts:
        raise SavingsError(_("This member's savings have already been settled."))
    lines = [
        savings_line(account, Side.DEBIT, account.balance)
        for account in settlement.accounts
        if account.balance > 0
    ]
    lines += [
        credit(owed.account_purpose, taken, member_id=member.id, subaccount=owed.subaccount)
        for owed, taken in settlement.offsets
    ]
    if settlement.paid_out:
        lines.append(credit("cash", settlement.paid_out, member_id=member.id))
    entry = None
    if lines:
        entry = post_entry(
            on=on,
            description=_("Exit settlement of %(member)s", member=member.name),
            unit=Unit.SAVINGS_LOANS,
            lines=lines,
            source="savings.exit",
            source_ref=member.number,
            key=key,
            by=by,
        )
    for account in settlement.accounts:
        account.closed_on = on
    db.session.flush()
    for settled in EXIT_SETTLED:
        settled(member, on)
    audit.note(entity=f"member:{member.id}", detail=f"exit settlement {settlement.paid_out}")
    return entry
