"""Savings fixtures: an active member with the bylaws' accounts, and a treasurer."""

from datetime import date

import pytest
import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.extensions import db
from coop_app.members.models import MemberStatus, Village, VillageGroup
from coop_app.members.services import register_member
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from tests.helpers import PASSWORD
from tests.members.conftest import member_data

#: The tests' "today"; members joined on 2026-01-15, so eleven months are due by November.
TODAY = date(2026, 11, 20)
JOINED = date(2026, 1, 15)


@pytest.fixture
def ctx(app):
    """An app context inside a POST-like request (so writes take SQLite's write lock)."""
    with app.test_request_context(method="POST"):
        yield app


@pytest.fixture
def treasurer(ctx) -> User:
    user, _ = create_user(
        username="bendahara", full_name="Sri Wahyuni", role=Role.TREASURER, password=PASSWORD
    )
    db.session.commit()
    return user


@pytest.fixture
def group(ctx) -> VillageGroup:
    group = VillageGroup(village=Village(name="Kalibeber"), name="Mawar")
    db.session.add(group)
    db.session.commit()
    return group


@pytest.fixture
def make_member(ctx, group):
    """Register an active member of the group (the bylaws' accounts open with it)."""
    count = iter(range(1, 1000))

    def make(name: str = "Siti Aminah", **overrides):
        n = next(count)
        data = member_data(
            group.village_id,
            nik=f"33071{n:011d}",
            name=name,
            group_id=group.id,
            join_date=JOINED,
            **overrides,
        )
        member = register_member(data, today=TODAY, by=None, status=MemberStatus.ACTIVE)
        db.session.commit()
        return member

    return make


def account_of(member, kind: SavingsKind) -> SavingsAccount:
    return db.session.execute(
        sa.select(SavingsAccount)
        .join(SavingsProduct)
        .where(SavingsAccount.member_id == member.id, SavingsProduct.kind == kind.value)
    ).scalar_one()
