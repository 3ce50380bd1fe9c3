"""Post many journal entries at once (a demo's or an import's history), same invariants.

Why this is as safe as calling `post_entry` once per entry:
- every entry is checked by the same helpers before anything is written (`resolve_lines`:
  at least two lines, whole rupiah > 0, known and active accounts, debits = credits;
  `check_open`: its month is not closed) and its key must be new, in the batch and in the
  database; the first refusal raises PostingError and nothing is written;
- everything is written inside one savepoint, so a refusal found while writing (a key or a
  reversal that the unique constraints refuse, a sub-ledger that refuses its final balance)
  undoes the whole batch;
- the cached balances move through the same `move_balances`, with each account's and each
  sub-account's deltas summed over the batch: the accounts' balances therefore equal their
  lines, and a sub-ledger's conditional update still refuses a final balance that would go
  below zero. What it cannot see is an intermediate balance: a caller posting withdrawals
  in bulk must have ordered and checked its history itself (the savings demo does).
Rules above the ledger (e.g. savings' lock-in months or principal cap) stay the caller's.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

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
)

#: Keys looked up per query (well under SQLite's limit of bound parameters).
_KEY_CHUNK = 500
#: Send NULLs as NULL rather than leaving the column out: otherwise the ORM splits the rows
#: into one statement per run of rows with the same empty columns (thousands, not one).
_ONE_STATEMENT = {"render_nulls": True}


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


def post_entries_bulk(entries: list[BulkEntry]) -> None:
    """Post `entries` in their order with three statements and one balance update per account.

    Entry ids follow the list's order (so a passbook sorted by date and id reads in that
    order). Refuses the whole batch, writing nothing, if any entry would be refused.
    """
    if not entries:
        return
    purposes: dict[str, Account] = {}
    resolved = [resolve_lines(_with_accounts(entry.lines, purposes)) for entry in entries]
    for month in sorted({month_start(entry.on) for entry in entries}):
        check_open(month)
    _check_keys([entry.key for entry in entries])
    with db.session.begin_nested():
        db.session.flush()
        try:
            ids = db.session.scalars(
                sa.insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True),
                [_entry_row(entry) for entry in entries],
                execution_options=_ONE_STATEMENT,
            ).all()
        except sa.exc.IntegrityError:
            raise PostingError(_("This transaction has already been recorded.")) from None
        db.session.execute(
            sa.insert(JournalLine),
            [
                _line_row(entry_id, entry.unit, line, account)
                for entry_id, entry, lines in zip(ids, entries, resolved, strict=True)
                for line, account in lines
            ],
            execution_options=_ONE_STATEMENT,
        )
        move_balances([(account, line) for lines in resolved for line, account in lines])
        db.session.flush()


def _with_accounts(lines: Sequence[Line], purposes: dict[str, Account]) -> list[Line]:
    """The lines with each purpose looked up once per batch (as `account_for` would)."""
    found = []
    for line in lines:
        if isinstance(line.account, str):
            if line.account not in purposes:
                purposes[line.account] = account_for(line.account)
            line = replace(line, account=purposes[line.account])
        found.append(line)
    return found


def _check_keys(keys: list[str]) -> None:
    """One intent, one entry: keys differ within the batch and from every posted entry."""
    if len(set(keys)) != len(keys):
        raise PostingError(_("This transaction has already been recorded."))
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        if db.session.execute(
            sa.select(JournalEntry.id).where(JournalEntry.idempotency_key.in_(chunk)).limit(1)
        ).first():
            raise PostingError(_("This transaction has already been recorded."))


def _entry_row(entry: BulkEntry) -> dict:
    return {
        "entry_date": entry.on,
        "description": " ".join(entry.description.split())[:255],
        "unit": Unit(entry.unit).value,
        "source": entry.source,
        "source_ref": entry.source_ref,
        "idempotency_key": entry.key,
        "reverses_id": entry.reverses_id,
        "reason": entry.reason,
        "created_by_id": entry.by_id,
    }


def _line_row(entry_id: int, unit: Unit, line: Line, account: Account) -> dict:
    return {
        "entry_id": entry_id,
        "account_id": account.id,
        "unit": Unit(line.unit or unit).value,
        "side": line.side.value,
        "amount": line.amount,
        "member_id": line.member_id,
        "subaccount": line.subaccount,
    }
