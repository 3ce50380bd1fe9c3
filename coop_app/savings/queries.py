"""Reads of savings: balances as of a date, mandatory arrears, passbooks, receipts."""

import math
from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine, Side
from coop_app.members.models import Member, MemberStatus, Village
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct

#: What a deposit or a withdrawal reads besides the savings account (is the member active,
#: which ledger account is the product's), loaded with it in one query.
FOR_MONEY = (
    joinedload(SavingsAccount.member),
    joinedload(SavingsAccount.product).joinedload(SavingsProduct.account),
)

_CREDIT_POSITIVE = sa.case(
    (JournalLine.side == Side.CREDIT.value, JournalLine.amount), else_=-JournalLine.amount
)


def months_between(start: date, end: date) -> int:
    """Months from `start`'s month to `end`'s month, both counted (0 if end is before)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


@dataclass(frozen=True)
class Arrears:
    member: Member
    account: SavingsAccount
    months_due: int
    paid: int
    #: Rupiah still due and the months that makes (a part month counts as one).
    rupiah: int
    months: int


def arrears_of(account: SavingsAccount, *, paid: int, as_of: date) -> Arrears:
    """Mandatory arrears = months due x amount - paid.

    Months due run from the month the account opened (the member became active: the joining
    month for a member registered as active; a returning member starts again) or the rule's
    first month, if later, to the month before `as_of`: each month is due by its last day,
    so nobody is behind on the 1st for the month their group has not collected yet.
    """
    product, member = account.product, account.member
    start = max(account.opened_on, product.rule_start or account.opened_on)
    due = max(0, months_between(start, as_of) - 1)
    rupiah = max(0, due * (product.amount or 0) - paid)
    months = math.ceil(rupiah / product.amount) if product.amount else 0
    return Arrears(member, account, due, paid, rupiah, months)


def balances_as_of(account_ids: list[int], as_of: date) -> dict[int, int]:
    """Savings balances from the journal, counting entries dated up to `as_of`."""
    if not account_ids:
        return {}
    names = {f"savings:{account_id}": account_id for account_id in account_ids}
    rows = db.session.execute(
        sa.select(JournalLine.subaccount, sa.func.sum(_CREDIT_POSITIVE))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.subaccount.in_(names), JournalEntry.entry_date <= as_of)
        .group_by(JournalLine.subaccount)
    ).all()
    found = {names[name]: total for name, total in rows}
    return {account_id: found.get(account_id, 0) for account_id in account_ids}


def mandatory_accounts(*, village_id: int | None = None, group_id: int | None = None):
    """Open mandatory-savings accounts of active members, by village, group and name."""
    query = (
        sa.select(SavingsAccount)
        .join(SavingsAccount.product)
        .join(SavingsAccount.member)
        .join(Member.village)
        .where(
            SavingsProduct.kind == SavingsKind.MANDATORY.value,
            SavingsAccount.closed_on.is_(None),
            Member.status == MemberStatus.ACTIVE.value,
        )
        .order_by(Village.name, Member.name, Member.id)
    )
    if village_id:
        query = query.where(Member.village_id == village_id)
    if group_id:
        query = query.where(Member.group_id == group_id)
    return list(db.session.execute(query).scalars())


def arrears_list(*, as_of: date, village_id: int | None = None) -> list[Arrears]:
    """Members behind with mandatory savings as of a date, by village then name."""
    accounts = mandatory_accounts(village_id=village_id)
    paid = balances_as_of([account.id for account in accounts], as_of)
    rows = [arrears_of(account, paid=paid[account.id], as_of=as_of) for account in accounts]
    return [row for row in rows if row.rupiah > 0]


@dataclass(frozen=True)
class PassbookRow:
    entry: JournalEntry
    deposit: int
    withdrawal: int
    balance: int


def passbook(account: SavingsAccount) -> list[PassbookRow]:
    """The account's movements, oldest first, with the balance after each."""
    rows = db.session.execute(
        sa.select(JournalEntry, JournalLine.side, JournalLine.amount)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.subaccount == account.subaccount)
        .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.id)
    ).all()
    balance, book = 0, []
    for entry, side, amount in rows:
        deposit = amount if side == Side.CREDIT else 0
        withdrawal = amount if side == Side.DEBIT else 0
        balance += deposit - withdrawal
        book.append(PassbookRow(entry, deposit, withdrawal, balance))
    return book


def bylaws_accounts(member_ids: list[int], kinds: tuple[SavingsKind, ...]) -> list[SavingsAccount]:
    """The members' open accounts of the bylaws' products of `kinds` (the mandatory and
    voluntary savings every member has, not a variant such as remittance savings), as
    stored now: accounts already in the session are refreshed, so that their cached
    balances are the database's even after a posting earlier in the transaction."""
    if not member_ids:
        return []
    values = [kind.value for kind in kinds]
    rows = db.session.execute(_bylaws_statement(), {"members": member_ids, "kinds": values})
    return list(rows.scalars())


def bylaws_account(member: Member, kind: SavingsKind) -> SavingsAccount | None:
    """The member's open account of the bylaws' product of `kind` (see `bylaws_accounts`)."""
    rows = db.session.execute(_bylaws_statement(), {"members": [member.id], "kinds": [kind.value]})
    return rows.scalars().one_or_none()


@cache
def _bylaws_statement() -> sa.Select:
    """Built once, with its values as parameters: the collection sheet asks it for every
    group on every collection day."""
    return (
        sa.select(SavingsAccount)
        .join(SavingsAccount.product)
        .where(
            SavingsAccount.member_id.in_(sa.bindparam("members", expanding=True)),
            SavingsAccount.closed_on.is_(None),
            SavingsProduct.kind.in_(sa.bindparam("kinds", expanding=True)),
            SavingsProduct.automatic.is_(True),
        )
        .order_by(SavingsAccount.id)
        .execution_options(populate_existing=True)
    )


def accounts_of(member: Member) -> list[SavingsAccount]:
    """All the member's savings accounts, the bylaws' three first."""
    return list(
        db.session.execute(
            sa.select(SavingsAccount)
            .where(SavingsAccount.member_id == member.id)
            .order_by(SavingsAccount.product_id)
        ).scalars()
    )


@dataclass(frozen=True)
class ReceiptLine:
    product: str
    deposit: int
    withdrawal: int
    balance_after: int


def receipt_lines(entry: JournalEntry) -> list[ReceiptLine]:
    """Per savings account moved by `entry`: the amounts and the balance after it."""
    result = []
    for line in entry.lines:
        if not (line.subaccount or "").startswith("savings:"):
            continue
        account = db.session.get(SavingsAccount, int(line.subaccount.split(":")[1]))
        after = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(_CREDIT_POSITIVE), 0))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalLine.subaccount == line.subaccount,
                sa.or_(
                    JournalEntry.entry_date < entry.entry_date,
                    sa.and_(
                        JournalEntry.entry_date == entry.entry_date, JournalEntry.id <= entry.id
                    ),
                ),
            )
        ).scalar_one()
        credit = line.side == Side.CREDIT
        result.append(
            ReceiptLine(
                account.product.name,
                line.amount if credit else 0,
                0 if credit else line.amount,
                after,
            )
        )
    return result


def receipt_number(entry: JournalEntry) -> str:
    """Receipts are numbered by their journal entry, so a number is never reused or skipped
    by a refusal, and a receipt always leads back to its entry."""
    return f"KW-{entry.id:07d}"
