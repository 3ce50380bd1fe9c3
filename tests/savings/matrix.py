"""Savings and books screens in the role x route matrix (see tests/test_access.py).

{account} is the voluntary account of an active member without a login, {entry} a deposit
to it, {group} that member's group, {batch} a collection sheet of the group. A member user
gets 404 for this other member's passbook and receipt.
"""

from datetime import date

import sqlalchemy as sa

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.members.models import MemberStatus, VillageGroup
from coop_app.members.services import register_member
from coop_app.savings import collection, services
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from tests.members.conftest import member_data

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER
OTHERS_RECORD = {M: 404}
ON = date(2026, 11, 2)

SAVINGS_ROUTES: dict = {
    "savings.index": ("GET", "/savings/", (A, T, S), 200, 302),
    "savings.passbook": (
        "GET",
        "/savings/accounts/{account}",
        (A, T, S, M),
        200,
        302,
        OTHERS_RECORD,
    ),
    "savings.deposit": ("GET", "/savings/accounts/{account}/deposit", (A, T), 200, 302),
    "savings.deposit#post": ("POST", "/savings/accounts/{account}/deposit", (A, T), 422, 302),
    "savings.withdraw": ("GET", "/savings/accounts/{account}/withdraw", (A, T), 200, 302),
    "savings.withdraw#post": ("POST", "/savings/accounts/{account}/withdraw", (A, T), 422, 302),
    "savings.receipt": ("GET", "/savings/receipts/{entry}", (A, T, S, M), 200, 302, OTHERS_RECORD),
    "savings.collection_sheet": ("GET", "/savings/collection/{group}", (A, T), 200, 302),
    "savings.collection_sheet#post": ("POST", "/savings/collection/{group}", (A, T), 422, 302),
    "savings.collection_receipts": ("GET", "/savings/collections/{batch}", (A, T, S), 200, 302),
    "savings.arrears": ("GET", "/savings/arrears", (A, T, S), 200, 302),
    "savings.arrears_export": ("GET", "/savings/arrears.xlsx", (A, T, S), 200, 302),
    "savings.products": ("GET", "/savings/products", (A, T, S), 200, 302),
    "savings.add_product_view#post": ("POST", "/savings/products", (A,), 422, 302),
    "savings.open_account#post": ("POST", "/savings/members/{active}/accounts", (A, T), 302, 302),
    "savings.exit_settlement": ("GET", "/savings/members/{active}/exit", (A, T), 200, 302),
    "savings.exit_settlement#post": ("POST", "/savings/members/{active}/exit", (A, T), 422, 302),
}

BOOKS_ROUTES: dict = {
    "books.trial_balance": ("GET", "/books/", (A, T, S), 200, 302),
    "books.trial_balance_export": ("GET", "/books/trial-balance.xlsx", (A, T, S), 200, 302),
    "books.general_ledger": ("GET", "/books/ledger", (A, T, S), 200, 302),
    "books.general_ledger_export": ("GET", "/books/ledger.xlsx", (A, T, S), 200, 302),
    "books.account_statement": ("GET", "/books/accounts/1", (A, T, S), 200, 302),
    "books.account_statement_export": ("GET", "/books/accounts/1.xlsx", (A, T, S), 200, 302),
    "books.entry": ("GET", "/books/entries/{entry}", (A, T, S), 200, 302),
    "books.reverse#post": ("POST", "/books/entries/{entry}/reverse", (A, T), 422, 302),
    "books.periods": ("GET", "/books/periods", (A, T, S), 200, 302),
    "books.lock_period#post": ("POST", "/books/periods", (A,), 422, 302),
    "books.accounts": ("GET", "/books/accounts", (A, T, S), 200, 302),
    "books.add_account#post": ("POST", "/books/accounts", (A,), 422, 302),
}

#: GETs handing out members' data in bulk, audited like a change.
SAVINGS_AUDITED_READS = {"savings.arrears_export"}


def savings_records(village_id: int) -> dict:
    """An active member with a deposit, in a group with a collected sheet (ids by name)."""
    group = VillageGroup(village_id=village_id, name="Mawar")
    db.session.add(group)
    db.session.flush()
    data = member_data(
        village_id,
        nik="3307016502900002",
        name="Wartini",
        group_id=group.id,
        join_date=date(2026, 1, 5),
    )
    member = register_member(data, today=ON, by=None, status=MemberStatus.ACTIVE)
    voluntary = db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsProduct)
        .where(SavingsAccount.member_id == member.id, SavingsProduct.kind == SavingsKind.VOLUNTARY)
    ).scalar_one()
    entry = services.deposit(voluntary, amount=50_000, on=ON, today=ON, by=None, key="matrix:1")
    batch = collection.collect(
        group,
        month=ON,
        on=ON,
        amounts={member.id: {SavingsKind.MANDATORY: 20_000}},
        today=ON,
        by=None,
        key="matrix:2",
    )
    return {
        "account": voluntary.id,
        "entry": entry.id,
        "group": group.id,
        "batch": batch.id,
        "active": member.id,
    }
