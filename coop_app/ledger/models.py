"""Tables of the books: accounts and their cached balances, journal entries and lines, locks."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.models import BigId, User
from coop_app.db import AppendOnly, Money, UTCDateTime, utcnow
from coop_app.extensions import db


class AccountKind(StrEnum):
    """Where an account stands in the statements; assets and expenses are debit-normal."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountKind.ASSET, AccountKind.EXPENSE)

    @property
    def is_result(self) -> bool:
        """Income and expense: the year's result, not something owned or owed."""
        return self in (AccountKind.INCOME, AccountKind.EXPENSE)


class Unit(StrEnum):
    """The cooperative's business units (unit usaha); every journal line carries one."""

    SAVINGS_LOANS = "savings_loans"
    PROCUREMENT = "procurement"
    MARKETING = "marketing"
    GENERAL = "general"


class Side(StrEnum):
    DEBIT = "D"
    CREDIT = "C"


def _in(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{item.value}'" for item in enum)


class Account(db.Model):
    """An account of the chart; never deleted, deactivated when no longer used."""

    __tablename__ = "account"
    __table_args__ = (sa.CheckConstraint(f"kind IN ({_in(AccountKind)})", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. 1100; the first digit follows the kind (1 assets ... 5 expenses).
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: The unit an income or expense account belongs to (None: shared by all units).
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    #: What the programs post to (e.g. "cash", "savings_voluntary"): the account mapping.
    #: An accountant may point a purpose at another account; programs never use codes.
    purpose: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    balance: Mapped["AccountBalance"] = relationship(lazy="raise")

    @property
    def account_kind(self) -> AccountKind:
        return AccountKind(self.kind)


class AccountBalance(db.Model):
    """Debits minus credits of an account, kept in step with its lines by `post_entry`.

    A separate row, changed only by UPDATE ... SET balance = balance + :delta, so that
    concurrent postings never lose an update and the account's master data stay apart.
    """

    __tablename__ = "account_balance"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Money, default=0)


class PeriodTotal(db.Model):
    """Debits minus credits of an account's lines of one unit in one day or one month.

    Kept in step with the lines by every posting (an upsert adding the delta), so that a
    trial balance or an opening balance on any date adds up a few hundred totals (the
    months before that date's month, then its days) instead of every line since the
    first day: its cost stays the same however many years the journal holds.
    """

    __tablename__ = "period_total"
    __table_args__ = (sa.CheckConstraint("span IN ('day', 'month')", name="span_known"),)

    #: Span and date lead the key, so that a report reads one range of months and one
    #: range of days instead of every total ever kept.
    span: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    #: The day, or the first day of the month.
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    net: Mapped[int] = mapped_column(Money, default=0)


class JournalEntry(AppendOnly, db.Model):
    """A balanced business event; written once, corrected only by a reversing entry."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        sa.CheckConstraint(f"unit IN ({_in(Unit)})", name="unit_known"),
        sa.CheckConstraint("(reverses_id IS NULL) = (reason IS NULL)", name="reversal_has_reason"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_date: Mapped[date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(sa.String(255))
    unit: Mapped[str] = mapped_column(sa.String(16))
    #: What made it, e.g. "savings.deposit", and its reference there (a receipt, a sheet).
    source: Mapped[str] = mapped_column(sa.String(40))
    source_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: One intent, one entry: the same key can never be posted twice.
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: The entry this one reverses (at most one reversal per entry) and why.
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list["JournalLine"]] = relationship(order_by="JournalLine.id")
    created_by: Mapped[User | None] = relationship()

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines if line.side == Side.DEBIT)


class JournalLine(AppendOnly, db.Model):
    """One side of an entry: an amount (> 0) debited or credited to an account."""

    __tablename__ = "journal_line"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(f"side IN ({_in(Side)})", name="side_known"),
        sa.CheckConstraint(f"unit IN ({_in(Unit)})", name="unit_known"),
        sa.Index("ix_journal_line_account_entry", "account_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("journal_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    unit: Mapped[str] = mapped_column(sa.String(16))
    side: Mapped[str] = mapped_column(sa.String(1))
    amount: Mapped[int] = mapped_column(Money)
    #: The member concerned, for the one-member view and member statements.
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"), index=True)
    #: The member-level record this line is about, e.g. "savings:12" or "loan:7". Its
    #: sub-ledger's cached balance follows the balance-sheet lines that name it (see
    #: ledger.subledgers); income and expense lines name it to say what they were earned on.
    subaccount: Mapped[str | None] = mapped_column(sa.String(32), index=True)

    account: Mapped[Account] = relationship()

    @property
    def signed(self) -> int:
        """Debit positive, credit negative."""
        return self.amount if self.side == Side.DEBIT else -self.amount


class PeriodLock(AppendOnly, db.Model):
    """A closed month: nothing can be posted with a date in it. Locks are permanent."""

    __tablename__ = "period_lock"

    #: The first day of the locked month.
    month: Mapped[date] = mapped_column(primary_key=True)
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    locked_by: Mapped[User | None] = relationship()


class FormSubmission(db.Model):
    """A money form's one-time key: the same intent sent twice is posted once.

    The key is in the form when it is shown; the first POST claims it (a unique key, so
    two at once cannot both claim it) and records where its result is. A second POST with
    the same payload is sent to that result; with another payload it is refused.
    """

    __tablename__ = "form_submission"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: SHA-256 of what was sent (every field but the CSRF token), to recognise a replay.
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: Where the first submission's answer is (e.g. its receipt).
    result_url: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
