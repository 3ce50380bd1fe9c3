"""Reads of the books: trial balance, account statements and the general ledger, as of any date."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountKind, JournalEntry, JournalLine, Side, Unit
from coop_app.ledger.totals import nets_through


def _unit_filter(query, unit: Unit | None):
    return query.where(JournalLine.unit == unit.value) if unit else query


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    debit: int
    credit: int


def trial_balance(*, as_of: date, unit: Unit | None = None) -> list[TrialBalanceRow]:
    """Each account's net balance from the journal up to `as_of`, on its debit or credit side
    (from the day and month totals, which postings keep equal to the lines)."""
    nets = nets_through(as_of, unit=unit.value if unit else None)
    accounts = db.session.execute(sa.select(Account).order_by(Account.code)).scalars()
    return [
        TrialBalanceRow(account, max(nets[account.id], 0), max(-nets[account.id], 0))
        for account in accounts
        if nets.get(account.id)
    ]


@dataclass(frozen=True)
class StatementRow:
    entry: JournalEntry
    line: JournalLine
    debit: int
    credit: int
    #: Running balance on the account's normal side (debit for assets and expenses).
    balance: int


@dataclass
class Statement:
    account: Account
    start: date
    end: date
    opening: int
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.rows[-1].balance if self.rows else self.opening

    @property
    def debits(self) -> int:
        return sum(row.debit for row in self.rows)

    @property
    def credits(self) -> int:
        return sum(row.credit for row in self.rows)


def _normal(account: Account, signed: int) -> int:
    return signed if AccountKind(account.kind).debit_normal else -signed


def statement(account: Account, *, start: date, end: date, unit: Unit | None = None) -> Statement:
    """An account's lines between two dates with opening, running and closing balances."""
    opening_net = nets_through(
        start - timedelta(days=1), unit=unit.value if unit else None, account_id=account.id
    )
    opening = _normal(account, opening_net.get(account.id, 0))
    lines_query = (
        sa.select(JournalEntry, JournalLine)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(
            JournalLine.account_id == account.id,
            JournalEntry.entry_date >= start,
            JournalEntry.entry_date <= end,
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.id)
    )
    result = Statement(account, start, end, opening)
    balance = opening
    for entry, line in db.session.execute(_unit_filter(lines_query, unit)).all():
        balance += _normal(account, line.signed)
        debit = line.amount if line.side == Side.DEBIT else 0
        result.rows.append(StatementRow(entry, line, debit, line.amount - debit, balance))
    return result


def general_ledger(*, start: date, end: date, unit: Unit | None = None) -> list[Statement]:
    """The statement of every account that moved between two dates."""
    query = (
        sa.select(JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .distinct()
    )
    moved = set(db.session.execute(_unit_filter(query, unit)).scalars())
    accounts = db.session.execute(
        sa.select(Account).where(Account.id.in_(moved)).order_by(Account.code)
    ).scalars()
    return [statement(account, start=start, end=end, unit=unit) for account in accounts]


def reversal_of(entry: JournalEntry) -> JournalEntry | None:
    return db.session.execute(
        sa.select(JournalEntry).where(JournalEntry.reverses_id == entry.id)
    ).scalar_one_or_none()
