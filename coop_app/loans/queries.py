"""Reads of loans: the schedule in force on a date, the repayments the journal records,
and the position built from them (see loans.position), for one loan or many at once."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import cache

import sqlalchemy as sa
from flask import g

from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine, Side
from coop_app.ledger.services import accounts_for
from coop_app.loans.models import (
    Loan,
    LoanEvent,
    LoanInstallment,
    LoanProduct,
    PenaltyKind,
    rate,
)
from coop_app.loans.position import Due, Payment, PenaltyTerms, Position, position

#: Loans' sub-accounts are named "loan:<id>" (see Loan.subaccount).
SUBACCOUNT = "loan"
#: A write-off credits the loan's principal too, but nobody paid it.
WRITE_OFF = "loans.write_off"


def schedule_event(loan: Loan, as_of: date) -> LoanEvent | None:
    """The disbursement or reschedule whose schedule was in force on `as_of`."""
    return db.session.execute(
        sa.select(LoanEvent)
        .where(
            LoanEvent.loan_id == loan.id,
            LoanEvent.schedule_version.is_not(None),
            LoanEvent.on <= as_of,
        )
        .order_by(LoanEvent.schedule_version.desc())
        .limit(1)
    ).scalar_one_or_none()


def schedule_of(loan: Loan, version: int) -> list[LoanInstallment]:
    return list(
        db.session.execute(
            sa.select(LoanInstallment)
            .where(LoanInstallment.loan_id == loan.id, LoanInstallment.schedule_version == version)
            .order_by(LoanInstallment.no)
        ).scalars()
    )


#: The purpose of each account a repayment credits, with the component it pays.
_COMPONENT_OF = {
    "loans_receivable": "principal",
    "loan_interest": "interest",
    "loan_penalty": "penalty",
}


def repayment_purposes() -> dict[int, str]:
    """The accounts a repayment credits, by id, with the component each one pays.

    Asked once per request (or command): a page reads every running loan's repayments
    with it, and the accounts programs post to do not change while it runs."""
    if "repayment_purposes" not in g:
        accounts = accounts_for(*_COMPONENT_OF)
        g.repayment_purposes = {
            accounts[purpose].id: component for purpose, component in _COMPONENT_OF.items()
        }
    return g.repayment_purposes


def counted_on(as_of: date) -> tuple:
    """Conditions on JournalEntry for a repayment counted on `as_of`: dated up to then, not
    a reversal nor a write-off, and not reversed by then (a reversal dated later still
    leaves the payment counted)."""
    reversal = sa.orm.aliased(JournalEntry)
    reversed_by_then = (
        sa.select(reversal.id)
        .where(reversal.reverses_id == JournalEntry.id, reversal.entry_date <= as_of)
        .exists()
    )
    return (
        JournalEntry.entry_date <= as_of,
        # Not `reverses_id IS NULL`: SQLite takes that for a lookup of one row in the
        # unique index on reverses_id and then scans every entry that is not a reversal.
        sa.func.coalesce(JournalEntry.reverses_id, 0) == 0,
        JournalEntry.source != WRITE_OFF,
        ~reversed_by_then,
    )


def payments_from(rows: Iterable, purposes: dict[int, str]) -> list[Payment]:
    """Payments from journal lines `(entry id, date, account id, side, amount)` of one loan,
    in date and entry order: each entry's credits net of debits, per component."""
    paid: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    days: dict[int, date] = {}
    for entry_id, on, account_id, side, amount in rows:
        signed = amount if side == Side.CREDIT.value else -amount
        paid[entry_id][purposes[account_id]] += signed
        days[entry_id] = on
    return [
        Payment(days[entry_id], parts["principal"], parts["interest"], parts["penalty"])
        for entry_id, parts in paid.items()
        if parts["principal"] > 0 or parts["interest"] > 0 or parts["penalty"] > 0
    ]


def payments_of(loan: Loan, *, after_entry_id: int, as_of: date) -> list[Payment]:
    """What each repayment paid, from the journal: credits naming the loan on the
    receivable (principal), interest and penalty accounts, of entries counted on `as_of`
    (see `counted_on`) posted after `after_entry_id`."""
    purposes = repayment_purposes()
    rows = db.session.execute(
        _payments_statement(),
        {
            "subaccount": loan.subaccount,
            "accounts": list(purposes),
            "after": after_entry_id,
            "as_of": as_of,
        },
    ).all()
    return payments_from(rows, purposes)


@cache
def _payments_statement() -> sa.Select:
    """`payments_of`'s query, built once with its values as parameters (the member page
    asks it for every running loan; building it cost more than running it)."""
    return (
        sa.select(
            JournalEntry.id,
            JournalEntry.entry_date,
            JournalLine.account_id,
            JournalLine.side,
            JournalLine.amount,
        )
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(
            JournalLine.subaccount == sa.bindparam("subaccount"),
            JournalLine.account_id.in_(sa.bindparam("accounts", expanding=True)),
            JournalEntry.id > sa.bindparam("after"),
            *counted_on(sa.bindparam("as_of", type_=sa.Date)),
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    )


def terms_of(product: LoanProduct) -> PenaltyTerms:
    return PenaltyTerms(
        kind=PenaltyKind(product.penalty_kind),
        rate_per_day=rate(product.penalty_rate_ppm),
        per_day=product.penalty_per_day,
        grace_days=product.grace_days,
        cap=product.penalty_cap,
    )


def penalty_terms(loan: Loan) -> PenaltyTerms:
    return terms_of(loan.product)


def position_of(loan: Loan, as_of: date) -> Position | None:
    """The loan's position on `as_of` under the schedule then in force (None before
    disbursement)."""
    event = schedule_event(loan, as_of)
    if event is None:
        return None
    schedule = [
        Due(item.no, item.due_date, item.principal, item.interest)
        for item in schedule_of(loan, event.schedule_version)
    ]
    payments = payments_of(loan, after_entry_id=event.after_entry_id or 0, as_of=as_of)
    return position(schedule, payments, penalty_terms(loan), as_of)


# --- many loans at once (reports) ---------------------------------------------------------


def _in_force(ids, as_of: date):
    """Per loan of `ids`, the schedule in force on `as_of`, the entry its repayments follow
    and the loan's product."""
    latest = (
        sa.select(LoanEvent.loan_id, sa.func.max(LoanEvent.schedule_version).label("version"))
        .where(
            LoanEvent.loan_id.in_(ids),
            LoanEvent.schedule_version.is_not(None),
            LoanEvent.on <= as_of,
        )
        .group_by(LoanEvent.loan_id)
        .subquery()
    )
    return (
        sa.select(
            LoanEvent.loan_id,
            LoanEvent.schedule_version,
            sa.func.coalesce(LoanEvent.after_entry_id, 0).label("after_entry_id"),
            Loan.product_id,
        )
        .join(
            latest,
            sa.and_(
                LoanEvent.loan_id == latest.c.loan_id,
                LoanEvent.schedule_version == latest.c.version,
            ),
        )
        .join(Loan, Loan.id == LoanEvent.loan_id)
        .subquery()
    )


def _schedules(in_force) -> dict[int, list[Due]]:
    rows = db.session.execute(
        sa.select(
            LoanInstallment.loan_id,
            LoanInstallment.no,
            LoanInstallment.due_date,
            LoanInstallment.principal,
            LoanInstallment.interest,
        )
        .join(
            in_force,
            sa.and_(
                LoanInstallment.loan_id == in_force.c.loan_id,
                LoanInstallment.schedule_version == in_force.c.schedule_version,
            ),
        )
        .order_by(LoanInstallment.loan_id, LoanInstallment.no)
    )
    schedules = defaultdict(list)
    for loan_id, *due in rows:
        schedules[loan_id].append(Due(*due))
    return schedules


def _payments(ids, after: dict[int, int], as_of: date) -> dict[int, list[Payment]]:
    """Every loan's repayments counted on `as_of` (see payments_of), from one query over
    the repayment lines of the loans `ids`; those before the schedule in force (entry id
    not above `after`) are dropped here. The loans are found by their sub-account names
    (a semi-join), so the database reads the repayment lines once rather than once per
    loan (SQLite otherwise picks a plan that rescans the journal for every loan)."""
    purposes = repayment_purposes()
    chosen = ids.subquery()
    names = sa.select(sa.literal(f"{SUBACCOUNT}:") + sa.cast(chosen.c[0], sa.String))
    rows = db.session.execute(
        sa.select(
            JournalLine.subaccount,
            JournalEntry.id,
            JournalEntry.entry_date,
            JournalLine.account_id,
            JournalLine.side,
            JournalLine.amount,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id.in_(purposes),
            JournalLine.subaccount.in_(names),
            *counted_on(as_of),
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    )
    lines = defaultdict(list)
    for subaccount, entry_id, *line in rows:
        loan_id = int(subaccount.removeprefix(f"{SUBACCOUNT}:"))
        if loan_id in after and entry_id > after[loan_id]:
            lines[loan_id].append((entry_id, *line))
    return {loan_id: payments_from(found, purposes) for loan_id, found in lines.items()}


def positions_of(ids, as_of: date) -> dict[int, Position]:
    """`position_of` for many loans at once: the loans whose ids the select `ids` gives,
    by id (those not yet disbursed on `as_of` are left out). Schedules, events and
    journal lines of all of them are read in a few set-based queries."""
    in_force = _in_force(ids, as_of)
    loans = db.session.execute(
        sa.select(in_force.c.loan_id, in_force.c.after_entry_id, in_force.c.product_id)
    ).all()
    products = {loan_id: product_id for loan_id, _, product_id in loans}
    terms = {
        product.id: terms_of(product)
        for product in db.session.execute(
            sa.select(LoanProduct).where(LoanProduct.id.in_(set(products.values())))
        ).scalars()
    }
    schedules = _schedules(in_force)
    payments = _payments(ids, {loan_id: after for loan_id, after, _ in loans}, as_of)
    return {
        loan_id: position(schedules[loan_id], payments.get(loan_id, []), terms[product_id], as_of)
        for loan_id, product_id in products.items()
    }
