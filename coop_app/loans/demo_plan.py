"""How the demo's borrowers repay, as a plan drawn from the random generator alone.

Shared by the demo (which posts the plan through the bulk path and the loan services) and
the district-scale demo (which writes thousands of loans in bulk). No database: each
repayment is split exactly as `repay_loan` splits it, by `allocate` on the loan's
position of the day, the position being rebuilt in memory from the schedule and the
payments planned so far with the same `position` that later reads them back from the
journal.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from coop_app.loans.position import Due, Payment, PenaltyTerms, Split, allocate, position

#: code -> weight, least and most amount, step, tenors to choose from.
TERMS = {
    "PU": (60, 1_000_000, 10_000_000, 500_000, (6, 10, 12, 12, 12, 18, 24)),
    "PA": (18, 5_000_000, 25_000_000, 1_000_000, (12, 18, 24, 24, 36)),
    "PD": (22, 500_000, 2_000_000, 250_000, (2, 3, 3, 4, 6)),
}
#: How a plan ends: the history ended with the loan running, an installment was left
#: unpaid (the borrower stopped), the last repayment paid it up, or it is paid off early.
OPEN, STOPPED, CLOSED, PAYOFF = "open", "stopped", "closed", "payoff"


@dataclass(frozen=True)
class Repayment:
    """One planned repayment: the installment it is for (in its key), its day and split."""

    no: int
    on: date
    split: Split


@dataclass
class Outcome:
    """The repayments, how the plan ends and on what day (OPEN and STOPPED: the due date of
    the first installment not paid; CLOSED: the last repayment; PAYOFF: the payoff's day,
    for installment `no`)."""

    end: str
    on: date
    no: int | None = None
    repayments: list[Repayment] = field(default_factory=list)


def loan_amount(rng: random.Random, code: str) -> int:
    """An amount of product `code`: small loans more often than large ones."""
    _weight, least, most, step, _tenors = TERMS[code]
    return min(most, round(least * (most / least) ** (rng.random() ** 1.6) / step) * step)


def plan_repayments(
    rng: random.Random,
    schedule: Sequence[Due],
    terms: PenaltyTerms,
    order: Sequence[str],
    *,
    since: date,
    until: date,
    late: float = 0.0,
    payoff: int | None = None,
    stop: int | None = None,
) -> Outcome:
    """Pay `schedule` near each due date (a `late` share of them a week to three late,
    with the penalty), from `since` (the disbursement) up to `until` (the end of the
    history), up to installment `stop` (not paid); pay off at installment `payoff`.

    Each repayment is what is due up to its installment, penalty included, split by the
    product's `order`. After a repayment on day D the position of D asks for what it
    asked before, less the repayment (a payment changes the unpaid amount from the next
    day on, see `position`), so the loan is paid up exactly when the repayment was all
    that remained."""
    last, payments, outcome = since, [], Outcome(OPEN, since)
    for due in schedule:
        if due.no == stop:
            return _ending(outcome, STOPPED, due.due_date)
        if rng.random() < late:
            offset = rng.randint(6, 24)
        else:
            offset = rng.choice((-5, -4, -3, -2, -1, -1, 0, 0, 0, 1, 2, 3))
        on = max(due.due_date + timedelta(days=offset), last)
        if on > until:
            return _ending(outcome, OPEN, due.due_date)
        last = on
        if due.no == payoff:
            return _ending(outcome, PAYOFF, on, due.no)
        now = position(schedule, payments, terms, on)
        amount = now.penalty_due + sum(
            state.unpaid for state in now.installments if state.due.due_date <= due.due_date
        )
        split = allocate(now, amount, order)
        if split.excess:
            raise RuntimeError("the demo's repayment is more than the loan asks for")
        if amount:
            payments.append(Payment(on, split.principal, split.interest, split.penalty))
            outcome.repayments.append(Repayment(due.no, on, split))
        if now.remaining == split.total:
            return _ending(outcome, CLOSED, on)
    return _ending(outcome, OPEN, last)


def _ending(outcome: Outcome, end: str, on: date, no: int | None = None) -> Outcome:
    outcome.end, outcome.on, outcome.no = end, on, no
    return outcome
