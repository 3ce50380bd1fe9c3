"""Loan schedules in whole rupiah (flat, declining, annuity) and a flat loan's effective rate.

A pure calculation, shared by the loan itself, the loan simulator and `flask loan-schedule`.
Rates are `Decimal` fractions per month (0.015 = 1.5 %); amounts are `int` rupiah; no float.

The one rounding rule (DOMAIN.md, "Loans"), with S(k-1) the principal still owed before
installment k, r the monthly rate and n the number of installments:

1. Interest of each month is rounded half-up to whole rupiah: P*r for flat, S(k-1)*r for
   declining and annuity.
2. The installment before rounding is P/n + P*r (flat), P/n + S(k-1)*r (declining) or the
   closed form A = P*r / (1 - (1+r)^-n) (annuity; P/n when r = 0). Every installment but the
   last is that amount rounded UP to the product's multiple (`rounding`, e.g. Rp100).
3. The principal of an installment is the rounded installment minus its interest.
4. The last installment is the principal still owed plus its interest, so principal sums to
   exactly P and the balance ends at zero.

Rounding up repays principal a little faster than the formula, so on a small loan with a
long tenor and a coarse multiple the principal can be repaid before the last month. The
schedule then keeps its n monthly installments (the tenor agreed stays the tenor): the month
that would overshoot pays exactly what is left plus its interest (not a multiple), and the
later months carry no principal, only their interest (flat: P*r every month, the price of a
flat loan does not change; declining and annuity: nothing, as nothing is owed).
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from dateutil.relativedelta import relativedelta

MAX_MONTHS = 360
#: Digits of Decimal arithmetic: far more than rupiah up to 10^13 at rates of 10^-6 need.
PRECISION = 40
#: The effective rate is solved to this accuracy (a fraction per month).
RATE_TOLERANCE = Decimal("1e-12")


class Method(StrEnum):
    FLAT = "flat"
    DECLINING = "declining"
    ANNUITY = "annuity"


@dataclass(frozen=True)
class Installment:
    """One month of a schedule; `balance` is the principal still owed after it."""

    no: int
    due_date: date
    principal: int
    interest: int
    installment: int
    balance: int


def _check(principal: int, months: int, monthly_rate: Decimal, rounding: int) -> None:
    """Refuse terms outside the schedule's domain (callers turn this into messages)."""
    for name, value in (("principal", principal), ("months", months), ("rounding", rounding)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, not {type(value).__name__}")
    if not isinstance(monthly_rate, Decimal) or not monthly_rate.is_finite():
        raise ValueError("monthly_rate must be a finite Decimal (a fraction per month)")
    if principal < 1:
        raise ValueError("principal must be at least 1 rupiah")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be from 1 to {MAX_MONTHS}")
    if not 0 <= monthly_rate < 1:
        raise ValueError("monthly_rate must be from 0 to below 1 (100 % a month)")
    if rounding < 1:
        raise ValueError("rounding must be at least 1 rupiah")


def _half_up(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def _up_to_multiple(amount: Decimal, multiple: int) -> int:
    return int((amount / multiple).to_integral_value(rounding=ROUND_CEILING)) * multiple


def annuity_installment(*, principal: int, months: int, monthly_rate: Decimal) -> Decimal:
    """The annuity's level installment before rounding: A = P*r / (1 - (1+r)^-n)."""
    _check(principal, months, monthly_rate, 1)
    with localcontext(prec=PRECISION):
        if monthly_rate == 0:
            return Decimal(principal) / months
        return principal * monthly_rate / (1 - (1 + monthly_rate) ** -months)


def build_schedule(
    *,
    principal: int,
    months: int,
    monthly_rate: Decimal,
    method: Method,
    start: date,
    rounding: int = 1,
) -> list[Installment]:
    """The n monthly installments of a loan paid out on `start`, under the rounding rule of
    this module's docstring. Due dates fall on `start`'s day of the month, one month after
    `start` and then monthly (31 Jan -> 28/29 Feb -> 31 Mar). Raises ValueError for terms
    outside 1 <= principal, 1 <= months <= 360, 0 <= rate < 1, 1 <= rounding."""
    _check(principal, months, monthly_rate, rounding)
    method = Method(method)
    level = annuity_installment(principal=principal, months=months, monthly_rate=monthly_rate)
    schedule, balance = [], principal
    with localcontext(prec=PRECISION):
        share = Decimal(principal) / months
        for no in range(1, months + 1):
            base = principal if method is Method.FLAT else balance
            interest = _half_up(base * monthly_rate)
            if no == months:
                paid = balance
            else:
                target = level if method is Method.ANNUITY else share + base * monthly_rate
                # Never below zero: the target is at least the unrounded interest.
                paid = min(_up_to_multiple(target, rounding) - interest, balance)
            balance -= paid
            schedule.append(
                Installment(
                    no=no,
                    due_date=start + relativedelta(months=no),
                    principal=paid,
                    interest=interest,
                    installment=paid + interest,
                    balance=balance,
                )
            )
    return schedule


def _present_value(amounts: list[int], rate: Decimal) -> Decimal:
    """What monthly payments of `amounts` (the first one month away) are worth today."""
    factor = 1 / (1 + rate)
    value, discount = Decimal(0), Decimal(1)
    for amount in amounts:
        discount *= factor
        value += amount * discount
    return value


def flat_effective_rate(
    *, principal: int, months: int, monthly_rate: Decimal, rounding: int = 1
) -> tuple[Decimal, Decimal]:
    """The effective rate of a flat loan: (per month, per year).

    Per month: the internal rate of return of the flat schedule's installments (as rounded
    with `rounding`) against the principal paid out, solved by bisection to 1e-12. Per year:
    12 x the monthly rate (a nominal annual rate), as DOMAIN.md states it ("about 2.64 % per
    month effective, about 31.7 % a year" for a 1.5 % flat loan over 12 months); compounded
    it would be (1 + m)^12 - 1, about 36.8 % for that loan.
    """
    schedule = build_schedule(
        principal=principal,
        months=months,
        monthly_rate=monthly_rate,
        method=Method.FLAT,
        start=date(2000, 1, 1),
        rounding=rounding,
    )
    amounts = [item.installment for item in schedule]
    with localcontext(prec=PRECISION):
        low, high = Decimal(0), Decimal(1)
        if _present_value(amounts, low) <= principal:  # no interest at all
            return Decimal(0), Decimal(0)
        while _present_value(amounts, high) > principal:
            low, high = high, high * 2
        while high - low > RATE_TOLERANCE:
            middle = (low + high) / 2
            if _present_value(amounts, middle) > principal:
                low = middle
            else:
                high = middle
        monthly = ((low + high) / 2).quantize(RATE_TOLERANCE)
    return monthly, monthly * 12
