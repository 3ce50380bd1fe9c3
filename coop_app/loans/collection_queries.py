"""Positions of a handful of loans (a village group's, for the collection sheet), read by
key: the loans' schedules in force and their sub-accounts' repayment lines.

`queries.positions_of` reads the repayment lines of the whole journal in one pass, which
suits reports over every loan; a sheet asks for a few loans, and reading them by key keeps
its cost to those loans' own lines, whatever the size and age of the journal. Both build
the same `position.position` from the same schedule in force and the same repayments
(`queries.counted_on`, `queries.payments_from`), one query per kind of data.

The statements are built once, with their values as parameters: the sheet is opened for
every group on every collection day, and building them cost more than running them.
"""

from collections import defaultdict
from datetime import date
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine
from coop_app.loans.models import Loan, LoanEvent, LoanInstallment, LoanStatus
from coop_app.loans.position import Due, Payment, Position, position
from coop_app.loans.queries import (
    SUBACCOUNT,
    counted_on,
    payments_from,
    repayment_purposes,
    terms_of,
)


class InForce(NamedTuple):
    """A loan's schedule in force on a date (see `queries.schedule_event`)."""

    event_id: int
    version: int
    #: Repayments count from the entries after this one (the disbursement, or the last
    #: entry before the reschedule).
    after_entry_id: int
    installments: list[Due]


def running_loans(member_ids: list[int]) -> list[Loan]:
    """The members' active loans with their products, by loan number."""
    if not member_ids:
        return []
    return list(db.session.execute(_running_statement(), {"members": member_ids}).scalars())


@cache
def _running_statement() -> sa.Select:
    return (
        sa.select(Loan)
        .options(sa.orm.joinedload(Loan.product))
        .where(
            Loan.member_id.in_(sa.bindparam("members", expanding=True)),
            Loan.status == LoanStatus.ACTIVE.value,
        )
        .order_by(Loan.id)
    )


@cache
def _schedules_statement() -> sa.Select:
    """Every schedule that took effect by `as_of` for the loans `loans`, each with its
    installments (an outer join: a schedule without installment rows is still the one in
    force, as `queries.schedule_event` finds it)."""
    return (
        sa.select(
            LoanEvent.loan_id,
            LoanEvent.id,
            LoanEvent.schedule_version,
            sa.func.coalesce(LoanEvent.after_entry_id, 0),
            LoanInstallment.no,
            LoanInstallment.due_date,
            LoanInstallment.principal,
            LoanInstallment.interest,
        )
        .outerjoin(
            LoanInstallment,
            sa.and_(
                LoanInstallment.loan_id == LoanEvent.loan_id,
                LoanInstallment.schedule_version == LoanEvent.schedule_version,
            ),
        )
        .where(
            LoanEvent.loan_id.in_(sa.bindparam("loans", expanding=True)),
            LoanEvent.schedule_version.is_not(None),
            LoanEvent.on <= sa.bindparam("as_of", type_=sa.Date),
        )
        .order_by(LoanEvent.loan_id, LoanEvent.schedule_version, LoanEvent.id, LoanInstallment.no)
    )


def schedules_in_force(loan_ids: list[int], as_of: date) -> dict[int, InForce]:
    """Per loan paid out by `as_of`, the schedule in force then: the latest version that
    took effect by that day, as `queries.schedule_event` picks it one loan at a time."""
    rows = db.session.execute(_schedules_statement(), {"loans": loan_ids, "as_of": as_of})
    found: dict[int, InForce] = {}
    for loan_id, event_id, version, after, no, *due in rows:
        if loan_id not in found or version > found[loan_id].version:
            found[loan_id] = InForce(event_id, version, after, [])
        if no is not None and event_id == found[loan_id].event_id:
            found[loan_id].installments.append(Due(no, *due))
    return found


@cache
def _loan_lines_statement() -> sa.Select:
    """The lines of the loans' sub-accounts `names` (their own index finds them)."""
    return sa.select(
        JournalLine.subaccount,
        JournalLine.entry_id,
        JournalLine.account_id,
        JournalLine.side,
        JournalLine.amount,
    ).where(JournalLine.subaccount.in_(sa.bindparam("names", expanding=True)))


@cache
def _counted_entries_statement() -> sa.Select:
    """The dates of the entries `entries` that count on `as_of` (`queries.counted_on`)."""
    return sa.select(JournalEntry.id, JournalEntry.entry_date).where(
        JournalEntry.id.in_(sa.bindparam("entries", expanding=True)),
        *counted_on(sa.bindparam("as_of", type_=sa.Date)),
    )


def repayments_of(in_force: dict[int, InForce], as_of: date) -> dict[int, list[Payment]]:
    """Per loan, its repayments counted on `as_of` (see `queries.payments_of`) posted after
    its schedule took effect.

    Two keyed reads rather than one join: the loans' lines by sub-account, then their
    entries by id. Joined, PostgreSQL weighs a scan of the whole journal against a few
    hundred index lookups and, for a large group, picks the scan. The repayment accounts
    are picked out here too: a condition on them would let either database read every
    repayment line of the journal."""
    purposes = repayment_purposes()
    names = {f"{SUBACCOUNT}:{loan_id}": loan_id for loan_id in in_force}
    lines = [
        (names[subaccount], entry_id, account_id, side, amount)
        for subaccount, entry_id, account_id, side, amount in db.session.execute(
            _loan_lines_statement(), {"names": list(names)}
        )
        if account_id in purposes and entry_id > in_force[names[subaccount]].after_entry_id
    ]
    if not lines:
        return {}
    counted = dict(
        db.session.execute(
            _counted_entries_statement(),
            {"entries": sorted({line[1] for line in lines}), "as_of": as_of},
        ).all()
    )
    found: dict[int, list] = defaultdict(list)
    for loan_id, entry_id, account_id, side, amount in sorted(
        (line for line in lines if line[1] in counted),
        key=lambda line: (counted[line[1]], line[1]),
    ):
        found[loan_id].append((entry_id, counted[entry_id], account_id, side, amount))
    return {loan_id: payments_from(rows, purposes) for loan_id, rows in found.items()}


def positions_by_key(loans: list[Loan], as_of: date) -> dict[int, Position]:
    """`queries.position_of` of each of `loans` (products loaded) on `as_of`, by loan id;
    loans not yet paid out on `as_of` are left out."""
    if not loans:
        return {}
    in_force = schedules_in_force([loan.id for loan in loans], as_of)
    if not in_force:
        return {}
    payments = repayments_of(in_force, as_of)
    return {
        loan.id: position(
            in_force[loan.id].installments,
            payments.get(loan.id, []),
            terms_of(loan.product),
            as_of,
        )
        for loan in loans
        if loan.id in in_force
    }
