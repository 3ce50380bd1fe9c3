"""Checks that the books hold together, and the control totals that tie a backup to them."""

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from coop_app.db import AppendOnly
from coop_app.extensions import db
from coop_app.ledger.models import (
    Account,
    AccountBalance,
    JournalEntry,
    JournalLine,
    PeriodTotal,
    Side,
)
from coop_app.ledger.subledgers import SUBLEDGERS
from coop_app.members.models import Member

#: Problems listed per check at most (a badly damaged database could have millions).
PROBLEM_LIMIT = 1000


@dataclass(frozen=True)
class Check:
    """One check of the books and what it found wrong (nothing: it holds)."""

    name: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Report:
    """Every check, and the control totals of the same state of the books."""

    checks: list[Check]
    totals: dict

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def problem_count(self) -> int:
        return sum(len(check.problems) for check in self.checks)


def verify_books() -> Report:
    """Run every check of the books and the database, all in one snapshot.

    Read-only. On PostgreSQL the session's transaction becomes REPEATABLE READ when it has
    not begun yet, so that the checks and totals see one state while others keep posting;
    a SQLite transaction is one snapshot already.
    """
    _begin_snapshot()
    checks = [
        Check("entries balance (debits = credits)", _unbalanced_entries()),
        Check("entries have two lines or more", _short_entries()),
        Check("cached account balances equal their lines", _balance_mismatches()),
        Check("day and month totals equal their lines", _period_total_mismatches()),
        Check("sub-accounts belong to a registered sub-ledger", _unknown_subaccounts()),
        *(
            Check(f"sub-ledger {prefix}", SUBLEDGERS[prefix].verify()[:PROBLEM_LIMIT])
            for prefix in sorted(SUBLEDGERS)
        ),
        Check("database integrity", _integrity_problems()),
    ]
    return Report(checks, control_totals())


def control_totals() -> dict:
    """Counts and sums that two copies of the same books share (deterministic, JSON-able)."""
    debits, credits, lines = db.session.execute(
        sa.select(_side_sum(Side.DEBIT), _side_sum(Side.CREDIT), sa.func.count(JournalLine.id))
    ).one()
    balances = db.session.execute(
        sa.select(Account.code, AccountBalance.balance)
        .outerjoin(AccountBalance, AccountBalance.account_id == Account.id)
        .order_by(Account.code)
    ).all()
    return {
        "entries": _count(JournalEntry.id),
        "lines": lines,
        "members": _count(Member.id),
        "debits": int(debits),
        "credits": int(credits),
        "accounts": {code: _int_or_none(balance) for code, balance in balances},
        "subledgers": {prefix: int(SUBLEDGERS[prefix].total()) for prefix in sorted(SUBLEDGERS)},
    }


def _begin_snapshot() -> None:
    if db.engine.dialect.name != "postgresql" or db.session().in_transaction():
        return
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _count(column) -> int:
    return db.session.execute(sa.select(sa.func.count(column))).scalar_one()


def _int_or_none(value) -> int | None:
    # PostgreSQL sums BIGINT into NUMERIC: plain ints keep the totals comparable as JSON.
    return None if value is None else int(value)


def _side_sum(side: Side):
    amount = sa.case((JournalLine.side == side.value, JournalLine.amount), else_=0)
    return sa.func.coalesce(sa.func.sum(amount), 0)


def _signed_amount():
    """Debit positive, credit negative (the sign of AccountBalance)."""
    return sa.case(
        (JournalLine.side == Side.DEBIT.value, JournalLine.amount), else_=-JournalLine.amount
    )


def _unbalanced_entries() -> list[str]:
    debits, credits = _side_sum(Side.DEBIT), _side_sum(Side.CREDIT)
    rows = db.session.execute(
        sa.select(JournalLine.entry_id, debits, credits)
        .group_by(JournalLine.entry_id)
        .having(debits != credits)
        .order_by(JournalLine.entry_id)
        .limit(PROBLEM_LIMIT)
    )
    return [f"entry {entry}: debits {d}, credits {c}" for entry, d, c in rows]


def _short_entries() -> list[str]:
    count = sa.func.count(JournalLine.id)
    rows = db.session.execute(
        sa.select(JournalEntry.id, count)
        .outerjoin(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id)
        .having(count < 2)
        .order_by(JournalEntry.id)
        .limit(PROBLEM_LIMIT)
    )
    return [f"entry {entry} has {n} line(s)" for entry, n in rows]


def _balance_mismatches() -> list[str]:
    sums = (
        sa.select(JournalLine.account_id, sa.func.sum(_signed_amount()).label("total"))
        .group_by(JournalLine.account_id)
        .subquery()
    )
    total = sa.func.coalesce(sums.c.total, 0)
    rows = db.session.execute(
        sa.select(Account.code, AccountBalance.balance, total)
        .outerjoin(AccountBalance, AccountBalance.account_id == Account.id)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(sa.or_(AccountBalance.balance.is_(None), AccountBalance.balance != total))
        .order_by(Account.code)
        .limit(PROBLEM_LIMIT)
    )
    return [
        f"account {code} has no balance row (lines {lines})"
        if cached is None
        else f"account {code}: cached {cached}, lines {lines}"
        for code, cached, lines in rows
    ]


def _period_total_mismatches() -> list[str]:
    """Every day's and month's total of an account and unit against the sum of its lines."""
    daily = db.session.execute(
        sa.select(
            JournalLine.account_id,
            JournalLine.unit,
            JournalEntry.entry_date,
            sa.func.sum(_signed_amount()),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .group_by(JournalLine.account_id, JournalLine.unit, JournalEntry.entry_date)
    )
    expected: dict[tuple, int] = defaultdict(int)
    for account_id, unit, day, net in daily:
        expected[(account_id, unit, "day", day)] += int(net)
        expected[(account_id, unit, "month", day.replace(day=1))] += int(net)
    kept = {
        (total.account_id, total.unit, total.span, total.starts_on): total.net
        for total in db.session.execute(sa.select(PeriodTotal)).scalars()
    }
    problems = [
        f"account id {key[0]}, {key[1]}, {key[2]} {key[3]}: total {kept.get(key, 0)}, lines {net}"
        for key in sorted(expected.keys() | kept.keys())
        if (net := expected.get(key, 0)) != kept.get(key, 0)
    ]
    return problems[:PROBLEM_LIMIT]


def _unknown_subaccounts() -> list[str]:
    """Lines naming a sub-account no registered sub-ledger checks (or a bug in a prefix)."""
    known = [JournalLine.subaccount.like(f"{prefix}:%") for prefix in SUBLEDGERS]
    query = sa.select(JournalLine.subaccount).where(JournalLine.subaccount.is_not(None))
    if known:
        query = query.where(sa.not_(sa.or_(*known)))
    rows = db.session.execute(
        query.distinct().order_by(JournalLine.subaccount).limit(PROBLEM_LIMIT)
    ).scalars()
    return [f"sub-account {name!r} has no registered sub-ledger" for name in rows]


def append_only_tables() -> list[str]:
    """Every table whose model is AppendOnly (all models are imported for this)."""
    import coop_app.models  # noqa: F401  (registers every feature's tables)

    return sorted(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, AppendOnly)
    )


def _integrity_problems() -> list[str]:
    if db.engine.dialect.name == "sqlite":
        return _sqlite_integrity()
    return _postgres_integrity()


def _sqlite_integrity() -> list[str]:
    execute = db.session.connection().exec_driver_sql
    problems = [row for row in execute("PRAGMA integrity_check").scalars() if row != "ok"]
    problems += [
        f"{table} row {rowid}: no {parent} row for foreign key {fkid}"
        for table, rowid, parent, fkid in execute("PRAGMA foreign_key_check")
    ]
    triggers = set(execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
    problems += [
        f"trigger {name} is missing: {table} can be changed"
        for table in append_only_tables()
        for name in (f"{table}_no_update", f"{table}_no_delete")
        if name not in triggers
    ]
    return problems[:PROBLEM_LIMIT]


#: Triggers that fire in ordinary sessions: 'O' (origin) and 'A' (always); not 'D', 'R'.
_PG_TRIGGERS = sa.text(
    "SELECT c.relname || '.' || t.tgname FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')"
)
_PG_UNVALIDATED = sa.text(
    "SELECT r.conrelid::regclass::text || ' ' || r.conname FROM pg_constraint r "
    "JOIN pg_namespace n ON n.oid = r.connamespace "
    "WHERE n.nspname = current_schema() AND NOT r.convalidated ORDER BY 1"
)
_PG_INVALID_INDEXES = sa.text(
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready) ORDER BY 1"
)


def _postgres_integrity() -> list[str]:
    """Catalogue checks: append-only triggers enabled, constraints and indexes valid.

    PostgreSQL checksums its pages itself; what can go wrong silently is a trigger that
    was disabled, a constraint added NOT VALID, or an index whose build failed.
    """
    enabled = set(db.session.execute(_PG_TRIGGERS).scalars())
    problems = [
        f"trigger {name} is missing or disabled: {table} can be changed"
        for table in append_only_tables()
        for name in (f"{table}_append_only", f"{table}_no_truncate")
        if f"{table}.{name}" not in enabled
    ]
    problems += [
        f"constraint {name} is not validated"
        for name in db.session.execute(_PG_UNVALIDATED).scalars()
    ]
    problems += [
        f"index {name} is invalid" for name in db.session.execute(_PG_INVALID_INDEXES).scalars()
    ]
    return problems[:PROBLEM_LIMIT]
