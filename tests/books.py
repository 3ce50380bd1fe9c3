"""Reading the books in tests: cached balances, and fresh idempotency keys."""

import itertools

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountBalance
from coop_app.savings.models import SavingsAccount

_keys = itertools.count(1)


def new_key(prefix: str = "test") -> str:
    """A key no other posting of the test run has used."""
    return f"{prefix}-{next(_keys)}"


def account_balance(purpose: str) -> int:
    """The cached balance (debits minus credits) of the account mapped to `purpose`."""
    return db.session.execute(
        sa.select(AccountBalance.balance)
        .join(Account, Account.id == AccountBalance.account_id)
        .where(Account.purpose == purpose)
    ).scalar_one()


def savings_balance(account: SavingsAccount) -> int:
    """The savings account's cached balance as stored (not the ORM's copy)."""
    return db.session.execute(
        sa.select(SavingsAccount.balance).where(SavingsAccount.id == account.id)
    ).scalar_one()
