"""Day and month totals of the journal (`PeriodTotal`): kept by postings, read by reports.

A report on a date D needs, per account, the sum of its lines up to D. Summing the lines
grows with the journal (five years of a district cooperative: millions of lines); the
totals give the same sum from the months before D's month and the days of D's month up
to D. `flask verify-books` checks that every total equals its lines.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import cache

import sqlalchemy as sa

from coop_app.db import dialect_insert
from coop_app.extensions import db
from coop_app.ledger.models import PeriodTotal

#: (account id, unit, day) -> debits minus credits.
Deltas = dict[tuple[int, str, date], int]


def add_to_totals(deltas: Deltas) -> None:
    """Add each delta to its day's and its month's total (one upsert per total).

    In key order, like the cached balances, so that two postings never wait for each
    other's rows in opposite orders.
    """
    rows: dict[tuple[int, str, str, date], int] = defaultdict(int)
    for (account_id, unit, day), net in deltas.items():
        rows[(account_id, unit, "day", day)] += net
        rows[(account_id, unit, "month", day.replace(day=1))] += net
    values = [
        {"account_id": a, "unit": u, "span": s, "starts_on": d, "net": net}
        for (a, u, s, d), net in sorted(rows.items())
        if net
    ]
    if values:
        db.session.execute(_upsert(dialect_insert(db.session)), values)


@cache
def _upsert(insert_of) -> sa.Insert:
    """Add `net` to a total, creating it at the first line (built once per database kind;
    on the table, not the ORM class, so that the ORM's bulk machinery stays out of it)."""
    table = PeriodTotal.__table__
    insert = insert_of(table)
    return insert.on_conflict_do_update(
        index_elements=["span", "starts_on", "account_id", "unit"],
        set_={"net": table.c.net + insert.excluded.net},
    )


def deltas_of(rows: Iterable[tuple[int, str, date, int]]) -> Deltas:
    """Sum `(account id, unit, day, signed amount)` per account, unit and day."""
    deltas: Deltas = defaultdict(int)
    for account_id, unit, day, signed in rows:
        deltas[(account_id, unit, day)] += signed
    return deltas


def nets_through(as_of: date, *, unit: str | None = None, account_id: int | None = None):
    """Per account, debits minus credits of every line dated up to `as_of` (inclusive):
    the months before `as_of`'s month, then its days up to `as_of`."""
    params = {"month": as_of.replace(day=1), "as_of": as_of, "unit": unit, "account": account_id}
    statement = _nets_statement(unit is not None, account_id is not None)
    return {account: int(net) for account, net in db.session.execute(statement, params).all()}


@cache
def _nets_statement(by_unit: bool, by_account: bool) -> sa.Select:
    """`nets_through`'s query, built once per kind (pages ask it on every request)."""
    in_range = sa.or_(
        sa.and_(PeriodTotal.span == "month", PeriodTotal.starts_on < sa.bindparam("month")),
        sa.and_(
            PeriodTotal.span == "day",
            PeriodTotal.starts_on >= sa.bindparam("month"),
            PeriodTotal.starts_on <= sa.bindparam("as_of"),
        ),
    )
    query = (
        sa.select(PeriodTotal.account_id, sa.func.sum(PeriodTotal.net))
        .where(in_range)
        .group_by(PeriodTotal.account_id)
    )
    if by_unit:
        query = query.where(PeriodTotal.unit == sa.bindparam("unit"))
    if by_account:
        query = query.where(PeriodTotal.account_id == sa.bindparam("account"))
    return query
