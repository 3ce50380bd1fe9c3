"""Reads of the collection sheet: a group's active members (their accounts are
`queries.bylaws_accounts`) and what each has paid into mandatory savings by a day, one
query per kind of data for the group.

The sheet is opened every collection day for every group, so its cost must not grow with
the length of the members' history: the mandatory savings paid by the month's end come
from the accounts' cached balances whenever the journal holds nothing dated later (the
usual case, a sheet of the current month), and from the journal only for a past month.
"""

from datetime import date
from functools import cache

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry
from coop_app.members.models import Member, MemberStatus
from coop_app.savings.models import SavingsAccount
from coop_app.savings.queries import balances_as_of


def active_members(group_id: int) -> list[Member]:
    """The group's active members, by name (then id, for namesakes)."""
    return list(db.session.execute(_members_statement(), {"group": group_id}).scalars())


# The sheet's statements are built once, with their values as parameters, as the loans'
# are (loans.collection_queries): the sheet is opened for every group on every collection
# day.


@cache
def _members_statement() -> sa.Select:
    return (
        sa.select(Member)
        .where(Member.group_id == sa.bindparam("group"), Member.status == MemberStatus.ACTIVE.value)
        .order_by(Member.name, Member.id)
    )


def last_entry_date() -> date | None:
    """The date of the journal's latest entry (one step down its entry-date index)."""
    return db.session.execute(sa.select(sa.func.max(JournalEntry.entry_date))).scalar()


def balances_on(accounts: list[SavingsAccount], day: date) -> dict[int, int]:
    """The balances of `accounts` (as `queries.bylaws_accounts` reads them) counting entries dated
    up to `day`, by account id: what `queries.balances_as_of` gives. When no entry of the
    journal is dated after `day` they are the cached balances (a cached balance is the sum
    of all the account's lines, as the books' verification checks), so that the current
    month's sheet reads no history; for a past month, the journal."""
    if not accounts:
        return {}
    latest = last_entry_date()
    if latest is not None and latest > day:
        return balances_as_of([account.id for account in accounts], day)
    return {account.id: account.balance for account in accounts}
