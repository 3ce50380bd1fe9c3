"""Loan products: the board sets each product's terms; loans keep the terms they began with."""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.loans.models import COMPONENTS, LoanProduct, PenaltyKind


def add_loan_product(*, code: str, name: str, **terms) -> LoanProduct:
    """Add a product; `terms` are LoanProduct's columns (rates in ppm, amounts in rupiah)."""
    code, name = code.strip().upper(), " ".join(name.split())
    if not code.replace("-", "").isalnum():
        raise DomainError(_("The code may have letters, digits and dashes only."))
    if len(name) < 3:
        raise DomainError(_("Give the product a name."))
    if db.session.execute(sa.select(LoanProduct.id).filter_by(code=code)).first():
        raise DomainError(_("Product code %(code)s is taken.", code=code))
    if terms["min_months"] > terms["max_months"]:
        raise DomainError(_("The shortest tenor cannot be longer than the longest."))
    if sorted(terms["allocation_order"].split(",")) != sorted(COMPONENTS):
        raise DomainError(_("Choose the order in which a payment pays."))
    if terms["penalty_kind"] == PenaltyKind.FIXED:
        terms["penalty_rate_ppm"] = 0
    else:
        terms["penalty_per_day"] = 0
    product = LoanProduct(code=code, name=name, **terms)
    db.session.add(product)
    db.session.flush()
    audit.note(entity=f"loan_product:{product.id}", detail=f"added {code}")
    return product
