"""A leaving member's running loans in the exit settlement (savings.services): what they
owe is taken from their savings, and loans paid in full by it are closed. Registered with
the savings' exit settlement when imported."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.extensions import db
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.loans.records import close_loan
from coop_app.members.models import Member
from coop_app.savings.services import EXIT_OFFSETS, EXIT_SETTLED, Owed


def _running_loans(member: Member) -> list[Loan]:
    return list(
        db.session.execute(
            sa.select(Loan).where(
                Loan.member_id == member.id, Loan.status == LoanStatus.ACTIVE.value
            )
        ).scalars()
    )


def _owed_at_exit(member: Member, on: date) -> list[Owed]:
    """A leaving member's running loans: penalty and interest due, and all the principal."""
    owed = []
    for loan in _running_loans(member):
        position = position_of(loan, on)
        for label, purpose, amount in (
            (
                _("Penalty of loan %(number)s", number=loan.number),
                "loan_penalty",
                position.penalty_due,
            ),
            (
                _("Interest of loan %(number)s", number=loan.number),
                "loan_interest",
                position.interest_due,
            ),
            (
                _("Loan %(number)s", number=loan.number),
                "loans_receivable",
                position.outstanding_principal,
            ),
        ):
            if amount:
                owed.append(Owed(label, purpose, amount, loan.subaccount))
    return owed


def _close_settled_loans(member: Member, on: date) -> None:
    """Loans whose principal the exit settlement paid in full are closed with it."""
    for loan in _running_loans(member):
        db.session.refresh(loan, ["outstanding"])
        if loan.outstanding == 0:
            close_loan(loan, on)


EXIT_OFFSETS.append(_owed_at_exit)
EXIT_SETTLED.append(_close_settled_loans)
