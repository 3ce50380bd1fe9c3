"""The schedule calculator: DOMAIN.md's worked example for the three methods, the rounding
rule, due dates, validation, and property-based checks against an exact reference.

The reference below recomputes a schedule with exact fractions from the written rule (not
from the code under test), so the properties compare two independent calculations.
"""

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_app.loans.schedule import (
    Installment,
    Method,
    annuity_installment,
    build_schedule,
    flat_effective_rate,
)

P, N, R = 12_000_000, 12, Decimal("0.015")
START = date(2025, 1, 31)


def _schedule(method, rounding=1, **terms):
    args = {"principal": P, "months": N, "monthly_rate": R, "start": START} | terms
    return build_schedule(**args, method=method, rounding=rounding)


def _column(schedule, name):
    return [getattr(item, name) for item in schedule]


# --- DOMAIN.md's worked example: P = 12,000,000, n = 12, r = 1.5 %/month -------------------


@pytest.mark.parametrize("rounding", [1, 100, 1000])
def test_flat_worked_example(rounding):
    schedule = _schedule(Method.FLAT, rounding)
    assert _column(schedule, "installment") == [1_180_000] * 12
    assert _column(schedule, "principal") == [1_000_000] * 12
    assert sum(_column(schedule, "interest")) == 2_160_000
    assert _column(schedule, "balance") == [11_000_000 - 1_000_000 * k for k in range(12)]


@pytest.mark.parametrize("rounding", [1, 100, 1000])
def test_declining_worked_example(rounding):
    schedule = _schedule(Method.DECLINING, rounding)
    installments = _column(schedule, "installment")
    assert (installments[0], installments[-1]) == (1_180_000, 1_015_000)
    # interest falls by 1,000,000 x 1.5 % = 15,000 each month
    assert installments == [1_000_000 + 15_000 * (13 - k) for k in range(1, 13)]
    assert sum(_column(schedule, "interest")) == 1_170_000
    assert _column(schedule, "principal") == [1_000_000] * 12


def test_annuity_closed_form_of_the_worked_example_to_the_cent():
    level = annuity_installment(principal=P, months=N, monthly_rate=R)
    assert level.quantize(Decimal("0.01")) == Decimal("1100159.91")


# Rows computed by hand: installment 1 = A rounded up; interest 1 = 12,000,000 x 1.5 %;
# interest 2 = 1.5 % of what is left after installment 1, rounded half-up.
ANNUITY_ROWS = {
    1: [
        Installment(1, date(2025, 2, 28), 920_160, 180_000, 1_100_160, 11_079_840),
        Installment(2, date(2025, 3, 31), 933_962, 166_198, 1_100_160, 10_145_878),
    ],
    100: [
        Installment(1, date(2025, 2, 28), 920_200, 180_000, 1_100_200, 11_079_800),
        Installment(2, date(2025, 3, 31), 934_003, 166_197, 1_100_200, 10_145_797),
    ],
    1000: [
        Installment(1, date(2025, 2, 28), 921_000, 180_000, 1_101_000, 11_079_000),
        Installment(2, date(2025, 3, 31), 934_815, 166_185, 1_101_000, 10_144_185),
    ],
}
#: rounding -> (level installment, last installment, total interest); the last two from the
#: exact reference below, row by row.
ANNUITY_TOTALS = {
    1: (1_100_160, 1_100_160, 1_201_920),
    100: (1_100_200, 1_099_678, 1_201_878),
    1000: (1_101_000, 1_090_044, 1_201_044),
}


@pytest.mark.parametrize("rounding", [1, 100, 1000])
def test_annuity_worked_example(rounding):
    schedule = _schedule(Method.ANNUITY, rounding)
    level, last, interest = ANNUITY_TOTALS[rounding]
    assert schedule[:2] == ANNUITY_ROWS[rounding]
    assert _column(schedule, "installment") == [level] * 11 + [last]
    assert sum(_column(schedule, "interest")) == interest
    assert sum(_column(schedule, "principal")) == P
    assert schedule == _as_installments(_reference(P, N, R, Method.ANNUITY, rounding))


def test_effective_rate_of_the_worked_flat_loan():
    monthly, yearly = flat_effective_rate(principal=P, months=N, monthly_rate=R)
    assert Decimal("0.0264") <= monthly < Decimal("0.0265")  # "about 2.64 % per month"
    assert Decimal("0.317") <= yearly < Decimal("0.318")  # "about 31.7 % a year"
    assert yearly == 12 * monthly  # DOMAIN.md's year is 12 months of the monthly rate
    # the rate discounts the twelve installments of 1,180,000 back to the principal
    value = sum(Fraction(1_180_000) / (1 + Fraction(monthly)) ** k for k in range(1, 13))
    assert abs(value - P) < 1


def test_effective_rate_of_one_month_is_the_flat_rate_and_of_no_interest_zero():
    monthly, _ = flat_effective_rate(principal=1_000_000, months=1, monthly_rate=Decimal("0.02"))
    assert abs(monthly - Decimal("0.02")) < Decimal("1e-10")
    assert flat_effective_rate(principal=P, months=N, monthly_rate=Decimal(0)) == (0, 0)


def test_the_effective_rate_handles_rates_near_100_percent():
    monthly, _ = flat_effective_rate(principal=1_000, months=2, monthly_rate=Decimal("0.99"))
    # installments of 500 + 990 = 1,490 twice: 1,000 = 1,490 x (x + x^2), x = 1 / (1 + m)
    x = 1 / (1 + monthly)
    assert abs(1_490 * (x + x * x) - 1_000) < Decimal("1e-6")
    assert monthly > 1


# --- rounding, due dates, edge cases ------------------------------------------------------


def test_the_last_installment_absorbs_the_residue():
    # 1,000,000 / 3 = 333,333.33 -> 333,334 twice, the last takes 332,332
    schedule = _schedule(Method.FLAT, principal=1_000_000, months=3, monthly_rate=Decimal(0))
    assert _column(schedule, "installment") == [333_334, 333_334, 333_332]
    schedule = _schedule(Method.FLAT, 1000, principal=1_000_000, months=3, monthly_rate=Decimal(0))
    assert _column(schedule, "installment") == [334_000, 334_000, 332_000]


def test_interest_is_rounded_half_up():
    # 100,100 x 0.5 % = 500.5 -> 501; flat: 100,100 / 2 + 500.5 = 50,550.5 -> 50,551
    schedule = _schedule(Method.FLAT, principal=100_100, months=2, monthly_rate=Decimal("0.005"))
    assert schedule[0] == Installment(1, date(2025, 2, 28), 50_050, 501, 50_551, 50_050)
    assert schedule[1] == Installment(2, date(2025, 3, 31), 50_050, 501, 50_551, 0)


def test_a_loan_repaid_early_by_rounding_keeps_its_tenor():
    # 100,000 over 60 months is 1,666.67 a month, rounded up to 2,000: repaid in month 50;
    # months 51-60 owe nothing under the declining method.
    schedule = _schedule(
        Method.DECLINING, 1000, principal=100_000, months=60, monthly_rate=Decimal(0)
    )
    assert len(schedule) == 60
    assert _column(schedule, "installment") == [2_000] * 50 + [0] * 10
    assert schedule[49].balance == 0


def test_a_flat_loan_repaid_early_by_rounding_still_owes_its_monthly_interest():
    # 5,000 over 12 months at 1 %: 416.67 + 50 = 466.67 -> 1,000, so 950 principal a month;
    # month 6 pays the 250 left + 50; months 7-12 pay the flat interest of 50 only.
    schedule = _schedule(
        Method.FLAT, 1000, principal=5_000, months=12, monthly_rate=Decimal("0.01")
    )
    assert _column(schedule, "installment") == [1_000] * 5 + [300] + [50] * 6
    assert _column(schedule, "principal") == [950] * 5 + [250] + [0] * 6
    assert sum(_column(schedule, "interest")) == 12 * 50


def test_due_dates_keep_the_day_of_the_month():
    schedule = _schedule(Method.FLAT, months=14)
    assert _column(schedule, "due_date")[:4] == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]
    assert (schedule[11].no, schedule[11].due_date) == (12, date(2026, 1, 31))
    assert (schedule[12].no, schedule[12].due_date) == (13, date(2026, 2, 28))
    leap = _schedule(Method.FLAT, start=date(2023, 1, 31), months=14)
    assert (leap[11].due_date, leap[12].due_date) == (date(2024, 1, 31), date(2024, 2, 29))


def test_a_zero_rate_and_a_single_month():
    schedule = _schedule(Method.ANNUITY, principal=1_200, months=12, monthly_rate=Decimal(0))
    assert _column(schedule, "installment") == [100] * 12
    (only,) = _schedule(Method.DECLINING, principal=1_000, months=1)
    assert only == Installment(1, date(2025, 2, 28), 1_000, 15, 1_015, 0)


@pytest.mark.parametrize(
    "terms",
    [
        {"principal": 0},
        {"principal": -5},
        {"principal": 1.5},
        {"months": 0},
        {"months": 361},
        {"monthly_rate": Decimal("-0.01")},
        {"monthly_rate": Decimal(1)},
        {"monthly_rate": Decimal("NaN")},
        {"monthly_rate": 0.015},
        {"rounding": 0},
        {"method": "balloon"},
    ],
)
def test_terms_outside_the_domain_are_refused(terms):
    args = {"method": Method.FLAT} | terms
    with pytest.raises(ValueError):
        _schedule(**args)


def test_the_effective_rate_refuses_bad_terms_too():
    with pytest.raises(ValueError):
        flat_effective_rate(principal=0, months=12, monthly_rate=R)


# --- the exact reference and the properties -----------------------------------------------


def _half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _up_to(value: Fraction, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def _closed_form(principal: int, months: int, rate: Fraction) -> Fraction:
    """A = P r (1+r)^n / ((1+r)^n - 1), exactly (P/n without interest)."""
    if rate == 0:
        return Fraction(principal, months)
    growth = (1 + rate) ** months
    return principal * rate * growth / (growth - 1)


def _reference(principal, months, monthly_rate, method, rounding) -> list[tuple]:
    """The written rounding rule in exact fractions: (no, principal, interest, balance)."""
    rate = Fraction(monthly_rate)
    level = _closed_form(principal, months, rate)
    owed, rows = principal, []
    for no in range(1, months + 1):
        base = principal if method == Method.FLAT else owed
        interest = _half_up(base * rate)
        if no == months:
            paid = owed
        else:
            target = (
                level if method == Method.ANNUITY else Fraction(principal, months) + base * rate
            )
            paid = min(_up_to(target, rounding) - interest, owed)
        owed -= paid
        rows.append((no, paid, interest, owed))
    return rows


def _as_installments(rows) -> list[Installment]:
    return [
        Installment(no, START + relativedelta(months=no), paid, interest, paid + interest, owed)
        for no, paid, interest, owed in rows
    ]


terms = st.fixed_dictionaries(
    {
        "principal": st.one_of(
            st.integers(1, 10_000), st.integers(100_000, 500_000_000), st.integers(1, 10**13)
        ),
        "months": st.one_of(st.integers(1, 60), st.integers(1, 360)),
        # whole parts per million, as products store them: 0 to 99.9999 % a month
        "monthly_rate": st.one_of(st.integers(0, 50_000), st.integers(0, 999_999)).map(
            lambda ppm: Decimal(ppm) / 1_000_000
        ),
        "rounding": st.one_of(st.sampled_from([1, 100, 500, 1000]), st.integers(1, 100_000)),
        "method": st.sampled_from(list(Method)),
    }
)


@settings(max_examples=300, deadline=None)
@given(terms)
def test_schedule_properties(terms):
    schedule = _schedule(**terms)
    principal, months, rounding = terms["principal"], terms["months"], terms["rounding"]

    assert [item.no for item in schedule] == list(range(1, months + 1))
    assert sum(item.principal for item in schedule) == principal
    assert schedule[-1].balance == 0
    owed = principal
    for item in schedule:
        assert min(item.principal, item.interest, item.balance) >= 0
        assert item.installment == item.principal + item.interest
        assert item.balance == owed - item.principal  # balances only go down
        owed = item.balance
    for item in schedule[:-1]:
        if item.balance > 0:  # not yet repaid early by the rounding (see the module doc)
            assert item.installment % rounding == 0
    repaid = [item.no for item in schedule if item.balance == 0]
    assert all(item.principal == 0 for item in schedule if item.no > repaid[0])


@settings(max_examples=300, deadline=None)
@given(terms)
def test_schedule_matches_the_exact_reference(terms):
    schedule = _schedule(**terms)
    rows = _reference(**terms)
    assert schedule == _as_installments(rows)


@settings(max_examples=300, deadline=None)
@given(terms.filter(lambda t: t["method"] == Method.ANNUITY))
def test_annuity_installments_match_the_closed_form(terms):
    principal, months = terms["principal"], terms["months"]
    rate = terms["monthly_rate"]
    exact = _closed_form(principal, months, Fraction(rate))
    level = annuity_installment(principal=principal, months=months, monthly_rate=rate)
    assert abs(Fraction(level) - exact) < Fraction(1, 10**20) * max(1, exact)
    expected = _up_to(exact, terms["rounding"])
    for item in _schedule(**terms)[:-1]:
        if item.balance > 0:
            assert item.installment == expected


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1_000, 10**10),
    st.integers(2, 120),
    st.integers(1, 100_000).map(lambda ppm: Decimal(ppm) / 1_000_000),
)
def test_a_flat_loan_costs_more_than_its_flat_rate(principal, months, rate):
    monthly, yearly = flat_effective_rate(principal=principal, months=months, monthly_rate=rate)
    schedule = _schedule(Method.FLAT, principal=principal, months=months, monthly_rate=rate)
    value = sum(
        Fraction(item.installment) / (1 + Fraction(monthly)) ** item.no for item in schedule
    )
    assert abs(value - principal) <= Fraction(principal, 10**8) + 1
    if _half_up(principal * Fraction(rate)) >= principal * Fraction(rate):
        # the whole flat interest is charged every month while the principal shrinks
        assert monthly > rate
    assert yearly == 12 * monthly
