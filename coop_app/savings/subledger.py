"""The savings sub-ledger: each savings account's balance, cached on its row and moved
with the books' lines naming "savings:<id>". Registered with the books when imported:
postings move it by conditional UPDATEs (never below zero, never on a closed account) and
`flask verify-books` checks it against the lines.
"""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.extensions import db
from coop_app.ledger import subledgers
from coop_app.ledger.models import JournalLine, Side
from coop_app.savings.errors import SavingsError
from coop_app.savings.models import SavingsAccount

SUBLEDGER = "savings"


_ACCOUNTS = SavingsAccount.__table__
#: One account's move, prepared once and run for each account moved (an executemany).
_MOVE = (
    sa.update(_ACCOUNTS)
    .where(
        _ACCOUNTS.c.id == sa.bindparam("record"),
        _ACCOUNTS.c.closed_on.is_(None),
        _ACCOUNTS.c.balance - sa.bindparam("delta") >= 0,
    )
    .values(balance=_ACCOUNTS.c.balance - sa.bindparam("delta"))
)


def _apply(moves: list[tuple[int, int]]) -> None:
    """Move savings balances by debit-positive deltas; refuse to go below zero, and refuse a
    closed account (e.g. reversing an old withdrawal after the exit settlement).

    The condition is in each account's UPDATE itself, so two withdrawals at the same moment
    cannot both spend the same rupiah (the second finds the row changed and the balance
    short). One prepared statement for all the accounts: a bulk posting moves thousands,
    and building the statement anew per account cost ten times more than running it.
    """
    params = [{"record": account_id, "delta": delta} for account_id, delta in moves]
    if db.session.execute(_MOVE, params).rowcount != len(moves):
        closed = db.session.execute(
            sa.select(SavingsAccount.id)
            .where(
                SavingsAccount.id.in_([account_id for account_id, _delta in moves]),
                SavingsAccount.closed_on.is_not(None),
            )
            .limit(1)
        ).first()
        if closed is not None:
            raise SavingsError(_("This savings account is closed."))
        raise SavingsError(_("The savings balance is not enough for this."))
    for account_id, _delta in moves:
        loaded = db.session.identity_map.get(db.session.identity_key(SavingsAccount, account_id))
        if loaded is not None:
            db.session.expire(loaded, ["balance"])


def _line_sums():
    """Credits minus debits per savings sub-account, from the journal."""
    signed = sa.case(
        (JournalLine.side == Side.CREDIT.value, JournalLine.amount), else_=-JournalLine.amount
    )
    return (
        sa.select(JournalLine.subaccount, sa.func.sum(signed).label("total"))
        .where(JournalLine.subaccount.like(f"{SUBLEDGER}:%"))
        .group_by(JournalLine.subaccount)
        .subquery()
    )


def _verify() -> list[str]:
    sums = _line_sums()
    name = sa.literal(f"{SUBLEDGER}:") + sa.cast(SavingsAccount.id, sa.String)
    rows = db.session.execute(
        sa.select(
            SavingsAccount.id, SavingsAccount.balance, sa.func.coalesce(sums.c.total, 0)
        ).outerjoin(sums, sums.c.subaccount == name)
    ).all()
    problems = []
    for account_id, balance, total in rows:
        if balance < 0:
            problems.append(f"savings account {account_id} is negative: {balance}")
        if balance != total:
            problems.append(f"savings account {account_id}: cached {balance}, lines {total}")
    return problems


def _total() -> int:
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(SavingsAccount.balance), 0))
    ).scalar_one()


subledgers.register(subledgers.Subledger(SUBLEDGER, _apply, _verify, _total))
