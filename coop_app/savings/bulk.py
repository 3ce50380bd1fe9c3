"""Open the bylaws' savings accounts of many members at once (members registered in bulk).

As `open_default_accounts` opens them for one member on `member_activated`: one account
of every automatic product still offered, opened on the day the member became active,
with a zero balance (a balance moves only with postings). A member registered in bulk is
new, so one who already has an account of these products, or who is named twice, is
refused rather than reopened: that is `open_account`'s own refusal of a second account.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.savings.models import SavingsAccount, SavingsProduct

#: Members looked up per query (well under SQLite's limit of bound parameters).
_CHUNK = 500


def open_default_accounts_bulk(activations: list[tuple[int, date]]) -> None:
    """Open the automatic products' accounts of each (member id, day it became active)."""
    if not activations:
        return
    products = (
        db.session.execute(
            sa.select(SavingsProduct.id)
            .filter_by(automatic=True, active=True)
            .order_by(SavingsProduct.id)
        )
        .scalars()
        .all()
    )
    members = [member_id for member_id, _on in activations]
    if len(set(members)) != len(members) or _any_account(members, products):
        raise DomainError(_("The member already has this savings account."))
    db.session.execute(
        sa.insert(SavingsAccount.__table__),
        [
            {
                "member_id": member_id,
                "product_id": product_id,
                "opened_on": on,
                "closed_on": None,
                "balance": 0,
            }
            for member_id, on in activations
            for product_id in products
        ],
    )


def _any_account(members: list[int], products: list[int]) -> bool:
    for start in range(0, len(members), _CHUNK):
        found = db.session.execute(
            sa.select(SavingsAccount.id)
            .where(
                SavingsAccount.member_id.in_(members[start : start + _CHUNK]),
                SavingsAccount.product_id.in_(products),
            )
            .limit(1)
        ).first()
        if found is not None:
            return True
    return False
