"""Where a loan stands on any date: installments paid, penalties, days past due, payoff.

A pure calculation over the loan's schedule and its repayments as the journal records
them (date and the principal, interest and penalty each paid), so that the position of
31 December can be rebuilt in March, and a repayment's split is computed by the same
rules that later read it back. Installments are covered oldest first, component by
component; penalties accrue per installment on what is overdue, day by day.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from coop_app.loans.models import COMPONENTS, EarlyPayoff, PenaltyKind


@dataclass(frozen=True)
class Due:
    """An installment of the schedule in force."""

    no: int
    due_date: date
    principal: int
    interest: int


@dataclass(frozen=True)
class Payment:
    """What one repayment paid of each component (reversed repayments are left out)."""

    on: date
    principal: int = 0
    interest: int = 0
    penalty: int = 0


@dataclass(frozen=True)
class PenaltyTerms:
    kind: PenaltyKind
    #: Percent kind: share of the overdue amount per day. Fixed kind: rupiah per day.
    rate_per_day: Decimal
    per_day: int
    grace_days: int
    #: The most one installment can collect (None: no cap).
    cap: int | None


@dataclass(slots=True)
class InstallmentState:
    due: Due
    paid_principal: int = 0
    paid_interest: int = 0
    penalty: int = 0
    #: (day, unpaid amount after that day's payments): how the unpaid amount changed.
    history: list[tuple[date, int]] = field(default_factory=list)

    @property
    def unpaid_principal(self) -> int:
        return self.due.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> int:
        return self.due.interest - self.paid_interest

    @property
    def unpaid(self) -> int:
        return self.unpaid_principal + self.unpaid_interest


@dataclass(frozen=True)
class Split:
    """How an amount is (or is to be) divided between the components."""

    penalty: int = 0
    interest: int = 0
    principal: int = 0
    #: What is more than the loan asks for (refused, or put into voluntary savings).
    excess: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.interest + self.principal + self.excess


@dataclass
class Position:
    as_of: date
    installments: list[InstallmentState]
    penalty_accrued: int
    penalty_paid: int

    @property
    def penalty_due(self) -> int:
        return max(0, self.penalty_accrued - self.penalty_paid)

    def _due(self) -> list[InstallmentState]:
        return [s for s in self.installments if s.due.due_date <= self.as_of]

    @property
    def interest_due(self) -> int:
        return sum(s.unpaid_interest for s in self._due())

    @property
    def principal_due(self) -> int:
        return sum(s.unpaid_principal for s in self._due())

    @property
    def overdue(self) -> int:
        """Principal and interest of installments whose date has passed, unpaid."""
        return sum(s.unpaid for s in self.installments if s.due.due_date < self.as_of)

    @property
    def outstanding_principal(self) -> int:
        return sum(s.unpaid_principal for s in self.installments)

    @property
    def remaining(self) -> int:
        """Everything the schedule still asks for, penalties included."""
        return sum(s.unpaid for s in self.installments) + self.penalty_due

    @property
    def days_past_due(self) -> int:
        """Days since the due date of the oldest installment not fully paid (0 if none)."""
        late = [
            s.due.due_date for s in self.installments if s.unpaid and s.due.due_date < self.as_of
        ]
        return (self.as_of - min(late)).days if late else 0

    @property
    def paid_up(self) -> bool:
        return self.remaining == 0


def position(
    schedule: Sequence[Due], payments: Sequence[Payment], terms: PenaltyTerms, as_of: date
) -> Position:
    """Replay the payments made up to `as_of` over the schedule; accrue penalties."""
    states = [InstallmentState(due) for due in sorted(schedule, key=lambda d: d.no)]
    for state in states:
        state.history.append((state.due.due_date, state.unpaid))
    paid = [p for p in sorted(payments, key=lambda p: p.on) if p.on <= as_of]
    owing = 0
    for payment in paid:
        owing = _cover(states, payment, owing)
    for state in states:
        state.penalty = _penalty(state, terms, as_of)
    return Position(
        as_of=as_of,
        installments=states,
        penalty_accrued=sum(s.penalty for s in states),
        penalty_paid=sum(p.penalty for p in paid),
    )


def _cover(states: list[InstallmentState], payment: Payment, owing: int) -> int:
    """Put a payment's interest and principal on the oldest installments still owing them,
    from `owing` on (the installments before it are paid in full). Returns the first
    installment still owing anything afterwards, where the next payment starts looking:
    a long loan's payments need not walk past its paid installments again and again."""
    interest, principal = payment.interest, payment.principal
    for state in states[owing:]:
        if not interest and not principal:
            break  # all of it is placed: the later installments keep what they owe
        take_interest = min(interest, state.unpaid_interest)
        take_principal = min(principal, state.unpaid_principal)
        if take_interest or take_principal:
            state.paid_interest += take_interest
            state.paid_principal += take_principal
            interest -= take_interest
            principal -= take_principal
            state.history.append((payment.on, state.unpaid))
    if interest or principal:
        raise ValueError("a payment covers more than the schedule asks for")
    while owing < len(states) and not states[owing].unpaid:
        owing += 1
    return owing


def _penalty(state: InstallmentState, terms: PenaltyTerms, as_of: date) -> int:
    """Penalty of one installment up to `as_of`: for each day after the due date and the
    grace days, on the amount unpaid at the start of that day (so a repayment's split,
    made before it, stays true afterwards); floored to rupiah, then capped."""
    first_day = state.due.due_date + timedelta(days=terms.grace_days + 1)
    total = Decimal(0)
    # Not late yet on `as_of` (e.g. an installment still to come): no day to count.
    history = state.history if first_day <= as_of else []
    for index, (since, unpaid) in enumerate(history):
        if unpaid <= 0:
            continue  # nothing owed over this stretch
        until = history[index + 1][0] if index + 1 < len(history) else None
        # The first entry is the due date itself; a payment changes the unpaid amount from
        # the next day on (the penalty of its own day was owed when it was made).
        start = max(since + timedelta(days=1) if index else since, first_day)
        last = min(until, as_of) if until else as_of
        end = last + timedelta(days=1)
        days = (end - start).days
        if days <= 0:
            continue
        if terms.kind == PenaltyKind.FIXED:
            total += terms.per_day * days
        else:
            total += unpaid * terms.rate_per_day * days
    amount = int(total.to_integral_value(rounding=ROUND_FLOOR))
    return min(amount, terms.cap) if terms.cap is not None else amount


def allocate(pos: Position, amount: int, order: Sequence[str] = COMPONENTS) -> Split:
    """Split a repayment: first what is due, component by component in the product's
    order; then the next installments, oldest first (interest, then principal); what is
    left over is excess."""
    due = {"penalty": pos.penalty_due, "interest": pos.interest_due, "principal": pos.principal_due}
    taken = dict.fromkeys(COMPONENTS, 0)
    left = amount
    for component in order:
        take = min(left, due[component])
        taken[component] += take
        left -= take
    for state in pos.installments:
        if state.due.due_date <= pos.as_of:
            continue
        for component, unpaid in (
            ("interest", state.unpaid_interest),
            ("principal", state.unpaid_principal),
        ):
            take = min(left, unpaid)
            taken[component] += take
            left -= take
    return Split(taken["penalty"], taken["interest"], taken["principal"], left)


def payoff(pos: Position, rule: EarlyPayoff) -> Split:
    """What closes the loan today: penalties, interest due, all the principal, and the
    interest the product's early-payoff rule asks for."""
    future = [s for s in pos.installments if s.due.due_date > pos.as_of]
    interest = pos.interest_due
    if rule == EarlyPayoff.CURRENT_INTEREST and future:
        interest += future[0].unpaid_interest
    elif rule == EarlyPayoff.ALL_INTEREST:
        interest += sum(s.unpaid_interest for s in future)
    return Split(pos.penalty_due, interest, pos.outstanding_principal)
