"""The loans section of the one-member page: the member's loans, what is due, the schedule."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.loans.forms import STATUS_LABELS
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.members.models import Member
from coop_app.members.sections import MemberSection, register_section


def _context(member: Member) -> dict:
    loans = db.session.execute(
        sa.select(Loan)
        .options(joinedload(Loan.product))
        .where(Loan.member_id == member.id)
        .order_by(Loan.id.desc())
    ).scalars()
    today = local_today()
    rows = [
        (loan, position_of(loan, today) if loan.status == LoanStatus.ACTIVE else None)
        for loan in loans
    ]
    return {"loans": rows, "status_labels": STATUS_LABELS}


register_section(
    MemberSection(
        "loans",
        _l("Loans"),
        "loans/section.html",
        frozenset({Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER}),
        _context,
    )
)
