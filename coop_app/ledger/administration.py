"""Changes to the books' frame: closing a month that has ended, adding an account to the
chart. Each is audited; neither moves money."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountBalance, AccountKind, PeriodLock, Unit
from coop_app.ledger.services import PostingError, is_locked, month_start


def lock_period(month: date, *, today: date, by: User | None) -> PeriodLock:
    """Close a month that has ended: nothing can be posted into it afterwards."""
    month = month_start(month)
    if month >= month_start(today):
        raise PostingError(_("Only a month that has ended can be closed."))
    if is_locked(month):
        raise PostingError(_("This month is already closed."))
    lock = PeriodLock(month=month, locked_by_id=by.id if by else None)
    db.session.add(lock)
    db.session.flush()
    audit.note(entity=f"period:{month:%Y-%m}", detail="locked")
    return lock


#: The first digit of an account code for each kind (the usual Indonesian chart layout).
CODE_DIGIT = {
    AccountKind.ASSET: "1",
    AccountKind.LIABILITY: "2",
    AccountKind.EQUITY: "3",
    AccountKind.INCOME: "4",
    AccountKind.EXPENSE: "5",
}


def add_account(*, code: str, name: str, kind: AccountKind, unit: Unit | None) -> Account:
    """Add an account to the chart (the admin's way to extend it), with a zero balance."""
    code, name = code.strip(), " ".join(name.split())
    if not (code.isdigit() and 3 <= len(code) <= 10):
        raise PostingError(_("The code must be 3 to 10 digits."))
    if not code.startswith(CODE_DIGIT[kind]):
        raise PostingError(_("Codes of this kind start with %(digit)s.", digit=CODE_DIGIT[kind]))
    if len(name) < 3:
        raise PostingError(_("Give the account a name."))
    if db.session.execute(sa.select(Account.id).where(Account.code == code)).first():
        raise PostingError(_("Account code %(code)s is taken.", code=code))
    account = Account(
        code=code, name=name[:120], kind=kind.value, unit=unit.value if unit else None
    )
    db.session.add(account)
    db.session.flush()
    db.session.add(AccountBalance(account_id=account.id, balance=0))
    db.session.flush()
    audit.note(entity=f"account:{account.id}", detail=f"added {code}")
    return account
