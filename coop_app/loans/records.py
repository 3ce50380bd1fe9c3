"""A loan's row in a transaction: claimed by its version, checked running and dated,
written, closed. Shared by the services that move a loan's money, the board's decisions
and the settlement at a member's exit."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from coop_app.errors import StaleEditError
from coop_app.extensions import db
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanStatus


def check_version(loan: Loan, expected_version) -> None:
    """Refuse a stale form; then claim the loan for this transaction.

    The conditional UPDATE is the transaction's first write on the loan: a second
    transaction acting on the same version at the same moment waits for this one and
    then finds the version changed, so two treasurers cannot both pay the same
    installment and a decision cannot be taken twice."""
    claimed = db.session.execute(
        sa.update(Loan)
        .where(Loan.id == loan.id, Loan.version == expected_version)
        .values(version=Loan.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise StaleEditError()
    db.session.expire(loan)


def flush_loan() -> None:
    """Write the loan's changes; a row changed meanwhile is a stale form (StaleEditError)."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEditError() from None


def check_running(loan: Loan) -> None:
    """Refuse an action on a loan that is not running (not yet paid out, or finished)."""
    if loan.status != LoanStatus.ACTIVE:
        raise LoanError(_("This loan is not running: it is closed or not yet disbursed."))


def check_day(on: date, today: date, since: date | None) -> None:
    """Refuse a date in the future, or before `since` (the decision, the payout)."""
    if on > today:
        raise LoanError(_("The date cannot be in the future."))
    if since is not None and on < since:
        raise LoanError(_("The date cannot be before %(day)s.", day=since.strftime("%d/%m/%Y")))


def close_loan(loan: Loan, on: date) -> None:
    """Close a loan that asks for nothing more (paid up, paid off, settled at exit)."""
    loan.status, loan.closed_on = LoanStatus.CLOSED.value, on
    flush_loan()
