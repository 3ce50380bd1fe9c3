"""Loan fixtures: the savings tests' members, a treasurer, two board members, a product."""

from datetime import date

import pytest

from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.extensions import db
from coop_app.loans.products import add_loan_product
from coop_app.savings import services as savings
from coop_app.savings.models import SavingsKind
from tests.books import new_key
from tests.helpers import PASSWORD
from tests.savings.conftest import account_of, ctx, group, make_member, treasurer

__all__ = ["board", "borrower", "ctx", "flat", "group", "make_member", "treasurer"]

#: The flat product of the tests (see the `flat` fixture), for add_loan_product(**FLAT).
FLAT = {
    "code": "PU",
    "name": "Pinjaman Usaha",
    "method": "flat",
    "rate_ppm": 15_000,
    "min_months": 1,
    "max_months": 24,
    "ceiling": 20_000_000,
    "admin_fee_ppm": 10_000,
    "savings_ppm": 0,
    "rounding": 1_000,
    "penalty_kind": "percent",
    "penalty_rate_ppm": 1_000,
    "penalty_per_day": 0,
    "grace_days": 3,
    "penalty_cap": 50_000,
    "early_payoff": "principal",
    "allocation_order": "penalty,interest,principal",
    "overpayment": "refuse",
    "max_arrears_months": 3,
    "max_open_loans": 1,
}

#: The worked example of DOMAIN.md: 12.000.000 over 12 months at 1,5 % a month, flat.
P, N = 12_000_000, 12


@pytest.fixture
def board(ctx):
    """Two board members (maker-checker needs someone other than the recorder)."""
    made = []
    for username in ("ketua", "wakil"):
        user, _ = create_user(
            username=username, full_name=username.title(), role=Role.ADMIN, password=PASSWORD
        )
        made.append(user)
    db.session.commit()
    return made


@pytest.fixture
def flat(ctx):
    """Flat 1,5 %/month, 1-24 months, up to 20 million, 1 % admin fee, installments rounded
    up to Rp1.000, penalty 0,1 %/day of the overdue amount after 3 grace days, at most
    Rp50.000 per installment; payoff costs the principal only; overpayment refused."""
    product = add_loan_product(**FLAT)
    db.session.commit()
    return product


@pytest.fixture
def borrower(make_member, treasurer):
    """An active member (joined 15 January 2026) whose mandatory savings are paid to date."""
    member = make_member("Siti Aminah")
    savings.deposit(
        account_of(member, SavingsKind.MANDATORY),
        amount=20_000,
        on=date(2026, 1, 20),
        today=date(2026, 1, 20),
        by=treasurer,
        key=new_key(),
    )
    db.session.commit()
    return member
