"""The savings section of the one-member page: accounts, balances, arrears, actions."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.forms import choice_list
from coop_app.i18n import local_today
from coop_app.members.models import Member
from coop_app.members.sections import MemberSection, register_section
from coop_app.savings.forms import KIND_LABELS, OpenAccountForm
from coop_app.savings.models import SavingsKind, SavingsProduct
from coop_app.savings.queries import accounts_of, arrears_of


def _context(member: Member) -> dict:
    accounts = accounts_of(member)
    arrears = None
    for account in accounts:
        if account.product.kind == SavingsKind.MANDATORY and account.closed_on is None:
            arrears = arrears_of(account, paid=account.balance, as_of=local_today())
    held = {account.product_id for account in accounts}
    offered = db.session.execute(
        sa.select(SavingsProduct).where(
            SavingsProduct.active.is_(True), SavingsProduct.automatic.is_(False)
        )
    ).scalars()
    form = OpenAccountForm()
    form.product_id.choices = choice_list((p.id, p.name) for p in offered if p.id not in held)
    return {
        "accounts": accounts,
        "arrears": arrears,
        "open_form": form,
        "kind_labels": KIND_LABELS,
        "open_total": sum(a.balance for a in accounts if a.closed_on is None),
    }


register_section(
    MemberSection(
        "savings",
        _l("Savings"),
        "savings/section.html",
        frozenset({Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER}),
        _context,
    )
)
