"""Writes of the books: post an entry (the only way in), reverse it, lock a month, add accounts.

Functions flush and never commit; the view or command commits once. Every refusal is a
DomainError raised before anything is written, or inside a savepoint that is undone.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.forms import MAX_RUPIAH
from coop_app.i18n import format_month
from coop_app.ledger import subledgers
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
from coop_app.ledger.totals import add_to_totals, deltas_of


class PostingError(DomainError):
    """The books refused an entry; nothing was written."""


@dataclass(frozen=True)
class Line:
    """One line to post: `account` is a purpose ("cash") or an Account."""

    account: str | Account
    side: Side
    amount: int
    member_id: int | None = None
    subaccount: str | None = None
    #: Defaults to the entry's unit.
    unit: Unit | None = None


def debit(account: str | Account, amount: int, **fields) -> Line:
    return Line(account, Side.DEBIT, amount, **fields)


def credit(account: str | Account, amount: int, **fields) -> Line:
    return Line(account, Side.CREDIT, amount, **fields)


def account_for(purpose: str) -> Account:
    """The account programs post `purpose` to (the account mapping)."""
    account = db.session.execute(
        sa.select(Account).where(Account.purpose == purpose)
    ).scalar_one_or_none()
    if account is None:
        raise PostingError(_("No account is set for %(purpose)s in the chart.", purpose=purpose))
    return account


def accounts_for(*purposes: str) -> dict[str, Account]:
    """`account_for` of several purposes in one query (pages that need a few of them)."""
    found = {
        account.purpose: account
        for account in db.session.execute(
            sa.select(Account).where(Account.purpose.in_(purposes))
        ).scalars()
    }
    for purpose in purposes:
        if purpose not in found:
            raise PostingError(
                _("No account is set for %(purpose)s in the chart.", purpose=purpose)
            )
    return found


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_locked(day: date) -> bool:
    return db.session.execute(_LOCKED, {"month": month_start(day)}).first() is not None


#: Whether a month is closed: asked by every posting, so a prepared Core query (the ORM's
#: look-up by key cost more than the rest of the check).
_LOCKED = sa.select(sa.literal(1)).where(PeriodLock.__table__.c.month == sa.bindparam("month"))


def _check_amount(amount) -> None:
    if type(amount) is int and 0 < amount <= MAX_RUPIAH:
        return  # the usual case in one test (bulk postings check a million lines)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PostingError(_("Amounts must be whole rupiah."))
    if amount <= 0:
        raise PostingError(_("Every amount must be more than zero."))
    if amount > MAX_RUPIAH:
        raise PostingError(_("The amount is too large."))


def resolve_lines(
    lines: Sequence[Line], lookup: Callable[[str], Account] = account_for
) -> list[tuple[Line, Account]]:
    """Each line with its account (a purpose through `lookup`, the account mapping); refuses
    bad amounts, inactive accounts, imbalance."""
    if len(lines) < 2:
        raise PostingError(_("An entry needs at least two lines."))
    resolved, debits, credits = [], 0, 0
    for line in lines:
        _check_amount(line.amount)
        account = line.account if isinstance(line.account, Account) else lookup(line.account)
        if not account.active:
            raise PostingError(
                _("Account %(code)s %(name)s is inactive.", code=account.code, name=account.name)
            )
        resolved.append((line, account))
        if line.side == Side.DEBIT:
            debits += line.amount
        elif line.side == Side.CREDIT:
            credits += line.amount
    if debits != credits:
        raise PostingError(_("The entry does not balance: debits and credits differ."))
    return resolved


def check_open(on: date) -> None:
    if is_locked(on):
        raise PostingError(
            _(
                "The books of %(month)s are closed. Use a date in an open month.",
                month=format_month(month_start(on)),
            )
        )


def post_entry(
    *,
    on: date,
    description: str,
    unit: Unit,
    lines: Sequence[Line],
    source: str,
    key: str,
    by: User | None,
    source_ref: str | None = None,
    reverses: JournalEntry | None = None,
    reason: str | None = None,
) -> JournalEntry:
    """Post one balanced entry and move every balance it touches, or refuse and write nothing.

    Invariants: debits equal credits; amounts are whole rupiah > 0; accounts are active;
    the month is open; `key` is new; cached balances move with the lines (sub-ledgers
    through conditional updates that refuse e.g. an overdraft).
    """
    resolved = resolve_lines(lines)
    check_open(on)
    entry_unit = Unit(unit).value
    entry = JournalEntry(
        entry_date=on,
        description=" ".join(description.split())[:255],
        unit=entry_unit,
        source=source,
        source_ref=source_ref,
        idempotency_key=key,
        reverses_id=reverses.id if reverses else None,
        reason=reason,
        created_by_id=by.id if by else None,
    )
    with db.session.begin_nested():
        db.session.add(entry)
        _flush_entry()  # a key (or a reversal) already recorded is refused here
        rows = [
            {
                "entry_id": entry.id,
                "account_id": account.id,
                "unit": Unit(line.unit).value if line.unit else entry_unit,
                "side": line.side.value,
                "amount": line.amount,
                "member_id": line.member_id,
                "subaccount": line.subaccount,
            }
            for line, account in resolved
        ]
        db.session.execute(_INSERT_LINES, rows)
        move_balances([(account, line) for line, account in resolved])
        add_to_totals(
            deltas_of(
                (row["account_id"], row["unit"], on, signed(line))
                for row, (line, _account) in zip(rows, resolved, strict=True)
            )
        )
    return entry


#: An entry's lines, written in one prepared INSERT rather than as ORM objects: nothing
#: reads them back as objects while posting, and `entry.lines` loads them when asked.
_INSERT_LINES = sa.insert(JournalLine.__table__)


def signed(line: Line) -> int:
    """The line's amount as debits minus credits."""
    return line.amount if line.side == Side.DEBIT else -line.amount


def _flush_entry() -> None:
    """Write the entry's row. The unique key (and the one reversal per entry) are checked
    by the database here, also against another request's commit a moment ago, so no
    separate look-up is made first."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        raise PostingError(_("This transaction has already been recorded.")) from None


def moves_subledger(account: Account) -> bool:
    """Whether a line on `account` moves its sub-account's balance. A sub-account names the
    member-level record a line is about; only balance-sheet lines change what is owed (a
    loan's interest income line names the loan, but the loan's principal stays as it is)."""
    return not AccountKind(account.kind).is_result


def move_balances(lines: Sequence[tuple[Account, Line]]) -> None:
    """Apply the lines to the sub-ledgers (which may refuse) and the accounts' balances.

    Always in the same order (sub-accounts, then accounts by id), so that two postings
    never wait for each other's rows in opposite orders.
    """
    by_subaccount: dict[str, int] = defaultdict(int)
    by_account: dict[int, int] = defaultdict(int)
    moving: dict[int, bool] = {}  # per account: whether its lines move their sub-accounts
    for account, line in lines:
        account_id, amount = account.id, signed(line)
        by_account[account_id] += amount
        if line.subaccount:
            if account_id not in moving:
                moving[account_id] = moves_subledger(account)
            if moving[account_id]:
                by_subaccount[line.subaccount] += amount
    moves: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for name in sorted(by_subaccount):
        subledger, record_id = subledgers.split(name)
        moves[subledger.prefix].append((record_id, by_subaccount[name]))
    for prefix, records in moves.items():
        subledgers.SUBLEDGERS[prefix].apply(records)
    moved = [
        {"account": account_id, "delta": by_account[account_id]}
        for account_id in sorted(by_account)
        if by_account[account_id]
    ]
    if moved:
        db.session.execute(_MOVE_ACCOUNT, moved)
        for row in moved:
            loaded = db.session.identity_map.get(
                db.session.identity_key(AccountBalance, row["account"])
            )
            if loaded is not None:
                db.session.expire(loaded, ["balance"])


_BALANCES = AccountBalance.__table__
#: One account's cached balance moved, prepared once and run for each account an entry
#: touches (an executemany).
_MOVE_ACCOUNT = (
    sa.update(_BALANCES)
    .where(_BALANCES.c.account_id == sa.bindparam("account"))
    .values(balance=_BALANCES.c.balance + sa.bindparam("delta"))
)
