"""Post many journal entries at once (a demo's or an import's history), same invariants.

Why this is as safe as calling `post_entry` once per entry:
- every entry is checked by the same helpers before anything is written (`resolve_lines`:
  at least two lines, whole rupiah > 0, known and active accounts, debits = credits;
  `check_open`: its month is not closed) and its key must differ from the batch's other
  keys; the first refusal raises PostingError and nothing is written;
- everything is written inside one savepoint, so a refusal found while writing undoes the
  whole batch: a key already posted (the entries' INSERT skips it on the unique index, in
  the same statement, and the batch is refused when an entry is missing), a reversal that
  the unique constraint refuses, a sub-ledger that refuses its final balance;
- the cached balances move through the same `move_balances`, with each account's and each
  sub-account's deltas summed over the batch: the accounts' balances therefore equal their
  lines, and a sub-ledger's conditional update still refuses a final balance that would go
  below zero. What it cannot see is an intermediate balance: a caller posting withdrawals
  in bulk must have ordered and checked its history itself (the savings demo does).
Rules above the ledger (e.g. savings' lock-in months or principal cap) stay the caller's.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.db import dialect_insert, reserve_ids, utcnow
from coop_app.extensions import db
from coop_app.ledger.models import Account, JournalEntry, JournalLine, Unit
from coop_app.ledger.services import (
    Line,
    PostingError,
    account_for,
    check_open,
    month_start,
    move_balances,
    resolve_lines,
    signed,
)
from coop_app.ledger.totals import Deltas, add_to_totals

#: The tables themselves: Core inserts (the ORM's bulk insert costs more per row than the
#: database does).
_ENTRY, _LINE = JournalEntry.__table__, JournalLine.__table__


@dataclass(frozen=True)
class BulkEntry:
    """What `post_entry` takes, as data; `by_id` is the user who records it."""

    on: date
    description: str
    unit: Unit
    lines: Sequence[Line]
    source: str
    key: str
    by_id: int | None
    source_ref: str | None = None
    reverses_id: int | None = None
    reason: str | None = None


def post_entries_bulk(entries: list[BulkEntry]) -> list[int]:
    """Post `entries` in their order with three statements and one balance update per
    account; return their ids, in the list's order.

    Entry ids follow the list's order (so a passbook sorted by date and id reads in that
    order). Refuses the whole batch, writing nothing, if any entry would be refused.
    """
    if not entries:
        return []
    lookup = _purposes()
    resolved = [resolve_lines(entry.lines, lookup) for entry in entries]
    for month in sorted({month_start(entry.on) for entry in entries}):
        check_open(month)
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        raise PostingError(_("This transaction has already been recorded."))
    with db.session.begin_nested():
        db.session.flush()
        ids = reserve_ids(db.session, _ENTRY, len(entries))
        now = utcnow()
        posted = [
            _entry_row(entry_id, entry, now) for entry_id, entry in zip(ids, entries, strict=True)
        ]
        if _insert_new(posted) != len(posted):
            raise PostingError(_("This transaction has already been recorded."))
        lines, deltas = _line_rows(ids, entries, resolved)
        db.session.execute(sa.insert(_LINE), lines)
        move_balances([(account, line) for lines in resolved for line, account in lines])
        add_to_totals(deltas)
        db.session.flush()
    return ids


def _purposes() -> Callable[[str], Account]:
    """`account_for`, each purpose looked up once per batch."""
    found: dict[str, Account] = {}

    def lookup(purpose: str) -> Account:
        if purpose not in found:
            found[purpose] = account_for(purpose)
        return found[purpose]

    return lookup


def _insert_new(rows: list[dict]) -> int:
    """Insert the entries whose key is new, in one statement; return how many were.

    The unique index on the key decides, for each row as it is inserted: no lookup before
    (a key posted meanwhile by another transaction is caught all the same), and no query
    whose plan can go wrong as the journal grows within the batch's transaction."""
    insert = dialect_insert(db.session)(_ENTRY).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )
    try:
        result = db.session.execute(insert.execution_options(preserve_rowcount=True), rows)
    except sa.exc.IntegrityError:  # e.g. a second reversal of the same entry
        raise PostingError(_("This transaction has already been recorded.")) from None
    return result.rowcount


def _entry_row(entry_id: int, entry: BulkEntry, now: datetime) -> dict:
    return {
        "id": entry_id,
        "entry_date": entry.on,
        "description": " ".join(entry.description.split())[:255],
        "unit": Unit(entry.unit).value,
        "source": entry.source,
        "source_ref": entry.source_ref,
        "idempotency_key": entry.key,
        "reverses_id": entry.reverses_id,
        "reason": entry.reason,
        "created_by_id": entry.by_id,
        "created_at": now,
    }


def _line_rows(ids: list[int], entries: list[BulkEntry], resolved: list) -> tuple[list, Deltas]:
    """The lines' rows, and the day totals they add to (see `totals`), in one pass."""
    rows, deltas = [], defaultdict(int)
    for entry_id, entry, lines in zip(ids, entries, resolved, strict=True):
        entry_unit, day = Unit(entry.unit).value, entry.on
        for line, account in lines:
            unit = Unit(line.unit).value if line.unit else entry_unit
            account_id, amount = account.id, signed(line)
            rows.append(
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "unit": unit,
                    "side": line.side.value,
                    "amount": line.amount,
                    "member_id": line.member_id,
                    "subaccount": line.subaccount,
                }
            )
            deltas[(account_id, unit, day)] += amount
    return rows, deltas
