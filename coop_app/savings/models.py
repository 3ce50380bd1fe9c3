"""Tables of savings: products (the bylaws' rules), members' accounts, collection sheets."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.models import User
from coop_app.db import AppendOnly, Money, UTCDateTime, utcnow
from coop_app.extensions import db
from coop_app.ledger.models import Account
from coop_app.members.models import Member, VillageGroup


class SavingsKind(StrEnum):
    """Principal is paid once, mandatory monthly; only voluntary kinds can be withdrawn."""

    PRINCIPAL = "principal"
    MANDATORY = "mandatory"
    VOLUNTARY = "voluntary"


_KINDS = ", ".join(f"'{kind.value}'" for kind in SavingsKind)


class SavingsProduct(db.Model):
    """A kind of savings with its rules; the admin adds variants (e.g. remittance savings)."""

    __tablename__ = "savings_product"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        sa.CheckConstraint("target IS NULL OR target > 0", name="target_positive"),
        sa.CheckConstraint("lock_months >= 0", name="lock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: The ledger account its balances belong to (equity for principal and mandatory).
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    #: Principal: the amount paid once. Mandatory: the amount due each month.
    amount: Mapped[int | None] = mapped_column(Money)
    #: A savings goal shown on the passbook (e.g. for a remittance savings product).
    target: Mapped[int | None] = mapped_column(Money)
    #: Months after opening during which nothing can be withdrawn.
    lock_months: Mapped[int] = mapped_column(default=0)
    #: Opened for every member who becomes active (the three kinds of the bylaws).
    automatic: Mapped[bool] = mapped_column(default=False)
    #: Mandatory: the month the rule started; arrears count from it or the join, the later.
    rule_start: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)

    account: Mapped[Account] = relationship()

    @property
    def savings_kind(self) -> SavingsKind:
        return SavingsKind(self.kind)

    @property
    def withdrawable(self) -> bool:
        """Principal and mandatory savings are paid out only by the exit settlement."""
        return self.kind == SavingsKind.VOLUNTARY


class SavingsAccount(db.Model):
    """A member's account of one product; its balance is cached and moved only by postings."""

    __tablename__ = "savings_account"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "product_id"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("savings_product.id"))
    opened_on: Mapped[date]
    #: Paid out by the exit settlement; nothing is posted to a closed account.
    closed_on: Mapped[date | None]
    #: Credits minus debits of its journal lines (sub-account "savings:<id>").
    balance: Mapped[int] = mapped_column(Money, default=0)

    member: Mapped[Member] = relationship()
    product: Mapped[SavingsProduct] = relationship(lazy="joined")

    @property
    def subaccount(self) -> str:
        return f"savings:{self.id}"


class CollectionBatch(AppendOnly, db.Model):
    """One submitted collection sheet: a village group's month, one entry per member."""

    __tablename__ = "collection_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("village_group.id"), index=True)
    #: The first day of the month collected for.
    month: Mapped[date]
    collected_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[VillageGroup] = relationship()
    created_by: Mapped[User | None] = relationship()
