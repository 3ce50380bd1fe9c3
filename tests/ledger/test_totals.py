"""Day and month totals: reports read them instead of every line, so they must equal the lines.

The oracle is the journal itself: for any date, unit and account, the sum of the lines dated
up to then, computed here with SQL over `journal_line`, never through the totals.
"""

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import Account, JournalEntry, JournalLine, PeriodTotal, Unit
from coop_app.ledger.queries import statement, trial_balance
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.services import credit, debit, post_entry
from coop_app.ledger.verify import verify_books
from tests.books import new_key
from tests.savings.conftest import TODAY

FIRST = TODAY - timedelta(days=400)
INCOME = ("other_income", "loan_fee")


def lines_through(as_of: date, unit: Unit | None = None) -> dict[int, int]:
    """Debits minus credits per account of the lines dated up to `as_of` (the oracle)."""
    signed = sa.case((JournalLine.side == "D", JournalLine.amount), else_=-JournalLine.amount)
    query = (
        sa.select(JournalLine.account_id, sa.func.sum(signed))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.entry_date <= as_of)
        .group_by(JournalLine.account_id)
    )
    if unit:
        query = query.where(JournalLine.unit == unit.value)
    return {account: net for account, net in db.session.execute(query).all() if net}


def from_trial_balance(as_of: date, unit: Unit | None = None) -> dict[int, int]:
    rows = trial_balance(as_of=as_of, unit=unit)
    return {row.account.id: row.debit - row.credit for row in rows}


def random_history(rng: random.Random) -> list[JournalEntry]:
    """Entries on random days over 13 months, out of date order, in every unit, one by one
    and in bulk, some reversed later (or the same day)."""
    posted = []
    bulk = []
    for _ in range(40):
        on = FIRST + timedelta(days=rng.randint(0, 399))
        amount = rng.randint(1, 5_000_000)
        lines = [debit("cash", amount), credit(rng.choice(INCOME), amount)]
        unit = rng.choice(list(Unit))
        if rng.random() < 0.3:
            bulk.append(BulkEntry(on, "Bulk", unit, lines, "test", new_key(), None))
            continue
        posted.append(
            post_entry(
                on=on,
                description="Pendapatan",
                unit=unit,
                lines=lines,
                source="test",
                key=new_key(),
                by=None,
            )
        )
    post_entries_bulk(bulk)
    for entry in rng.sample(posted, 5):
        later = entry.entry_date + timedelta(days=rng.choice((0, 3, 40)))
        reverse_entry(entry, on=min(later, TODAY), reason="Salah catat", by=None)
    db.session.flush()
    return posted


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trial_balance_from_totals_equals_the_lines_on_any_day(ctx, seed):
    rng = random.Random(seed)
    random_history(rng)
    days = [FIRST - timedelta(days=1), TODAY]
    days += [FIRST + timedelta(days=rng.randint(0, 420)) for _ in range(12)]
    days += [day.replace(day=1) for day in days] + [
        day.replace(day=1) - timedelta(1) for day in days
    ]
    for as_of in days:
        assert from_trial_balance(as_of) == lines_through(as_of), as_of
        unit = rng.choice(list(Unit))
        assert from_trial_balance(as_of, unit) == lines_through(as_of, unit), (as_of, unit)
    assert verify_books().ok


def test_statement_opening_balance_equals_the_lines_before_it(ctx):
    random_history(random.Random(7))
    cash = db.session.execute(sa.select(Account).where(Account.purpose == "cash")).scalar_one()
    for start in (FIRST, FIRST + timedelta(days=45), TODAY.replace(day=1), TODAY):
        expected = lines_through(start - timedelta(days=1)).get(cash.id, 0)
        assert statement(cash, start=start, end=TODAY).opening == expected, start


def test_a_changed_total_is_found_by_verify(ctx):
    random_history(random.Random(11))
    assert verify_books().ok
    total = db.session.execute(sa.select(PeriodTotal).limit(1)).scalar_one()
    db.session.execute(
        sa.update(PeriodTotal)
        .where(
            PeriodTotal.account_id == total.account_id,
            PeriodTotal.unit == total.unit,
            PeriodTotal.span == total.span,
            PeriodTotal.starts_on == total.starts_on,
        )
        .values(net=PeriodTotal.net + 1)
    )
    report = verify_books()
    problems = {check.name: check.problems for check in report.checks}
    assert len(problems["day and month totals equal their lines"]) == 1
