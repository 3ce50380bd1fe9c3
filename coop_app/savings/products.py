"""Savings products: the three every cooperative starts with, and the admin's variants."""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import AccountKind
from coop_app.savings.models import SavingsKind, SavingsProduct

#: code, name, kind, account purpose, amount. The admin changes amounts and adds variants
#: (README, "Savings"); these are only the starting point of a new installation.
DEFAULT_PRODUCTS = (
    ("SP", "Simpanan Pokok", "principal", "savings_principal", 100_000),
    ("SW", "Simpanan Wajib", "mandatory", "savings_mandatory", 20_000),
    ("SS", "Simpanan Sukarela", "voluntary", "savings_voluntary", None),
)


def insert_default_products(connection) -> None:
    """Insert the three products of the bylaws into a database that has the chart."""
    products = sa.table(
        "savings_product",
        *(sa.column(name) for name in ("code", "name", "kind", "account_id", "amount")),
        *(sa.column(name) for name in ("lock_months", "automatic", "active")),
    )
    for code, name, kind, purpose, amount in DEFAULT_PRODUCTS:
        account_id = connection.execute(
            sa.text("SELECT id FROM account WHERE purpose = :purpose"), {"purpose": purpose}
        ).scalar_one()
        connection.execute(
            sa.insert(products).values(
                code=code,
                name=name,
                kind=kind,
                account_id=account_id,
                amount=amount,
                lock_months=0,
                automatic=True,
                active=True,
            )
        )


def add_product(*, code: str, name: str, account, target: int | None, lock_months: int):
    """Add a voluntary savings variant (e.g. remittance savings with a target and a lock-in).

    Variants are withdrawable like voluntary savings once their lock-in has passed; they
    are opened on request, not for every member.
    """
    code, name = code.strip().upper(), " ".join(name.split())
    if not code.replace("-", "").isalnum():
        raise DomainError(_("The code may have letters, digits and dashes only."))
    if len(name) < 3:
        raise DomainError(_("Give the product a name."))
    if db.session.execute(sa.select(SavingsProduct.id).filter_by(code=code)).first():
        raise DomainError(_("Product code %(code)s is taken.", code=code))
    if account is None or account.kind != AccountKind.LIABILITY or not account.active:
        raise DomainError(_("Choose an active liability account for the product."))
    product = SavingsProduct(
        code=code,
        name=name,
        kind=SavingsKind.VOLUNTARY.value,
        account_id=account.id,
        target=target,
        lock_months=lock_months,
        automatic=False,
    )
    db.session.add(product)
    db.session.flush()
    audit.note(entity=f"savings_product:{product.id}", detail=f"added {code}")
    return product
