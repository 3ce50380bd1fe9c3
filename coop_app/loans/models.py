"""Tables of loans: products (the bylaws' terms), loans, their schedules, quality classes."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.models import User
from coop_app.db import AppendOnly, Money, UTCDateTime, utcnow
from coop_app.extensions import db
from coop_app.loans.schedule import Method
from coop_app.members.models import Member

#: Rates are stored as whole parts per million (15000 = 1.5 %), so that no float and no
#: SQLite Numeric ever touches them; `Decimal(ppm) / PPM` is the rate.
PPM = 1_000_000


def rate(ppm: int) -> Decimal:
    return Decimal(ppm) / PPM


def _in(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{item.value}'" for item in enum)


#: Flat, declining balance or annuity (the schedule calculator's methods).
LoanMethod = Method


class PenaltyKind(StrEnum):
    """Late penalty: a share of the overdue amount per day, or a fixed amount per day."""

    PERCENT = "percent"
    FIXED = "fixed"


class EarlyPayoff(StrEnum):
    """What paying a loan off early costs, besides the overdue amounts and penalties."""

    #: Only the remaining principal (interest stops with the payoff).
    PRINCIPAL = "principal"
    #: The remaining principal and the interest of the current month.
    CURRENT_INTEREST = "current_interest"
    #: Every remaining installment in full (common for flat loans).
    ALL_INTEREST = "all_interest"


class Overpayment(StrEnum):
    REFUSE = "refuse"
    SAVINGS = "savings"


class LoanStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


#: Components a repayment pays, in the default order of the bylaws.
COMPONENTS = ("penalty", "interest", "principal")


class LoanProduct(db.Model):
    """A kind of loan with its terms; set by the board."""

    __tablename__ = "loan_product"
    __table_args__ = (
        sa.CheckConstraint(f"method IN ({_in(LoanMethod)})", name="method_known"),
        sa.CheckConstraint(f"penalty_kind IN ({_in(PenaltyKind)})", name="penalty_kind_known"),
        sa.CheckConstraint(f"early_payoff IN ({_in(EarlyPayoff)})", name="early_payoff_known"),
        sa.CheckConstraint(f"overpayment IN ({_in(Overpayment)})", name="overpayment_known"),
        sa.CheckConstraint("rate_ppm >= 0 AND rate_ppm < 1000000", name="rate_range"),
        sa.CheckConstraint("min_months >= 1 AND max_months >= min_months", name="tenor_range"),
        sa.CheckConstraint("ceiling > 0", name="ceiling_positive"),
        sa.CheckConstraint("rounding >= 1", name="rounding_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    method: Mapped[str] = mapped_column(sa.String(16))
    #: Interest per month, parts per million (15000 = 1.5 %).
    rate_ppm: Mapped[int]
    min_months: Mapped[int]
    max_months: Mapped[int]
    #: The largest loan of this product.
    ceiling: Mapped[int] = mapped_column(Money)
    #: Admin fee, parts per million of the principal, deducted at disbursement.
    admin_fee_ppm: Mapped[int] = mapped_column(default=0)
    #: Savings deducted at disbursement into the member's voluntary savings (ppm of principal).
    savings_ppm: Mapped[int] = mapped_column(default=0)
    #: Installments are rounded up to this multiple of rupiah (e.g. 100 or 1000).
    rounding: Mapped[int] = mapped_column(default=100)
    penalty_kind: Mapped[str] = mapped_column(sa.String(16), default=PenaltyKind.PERCENT.value)
    #: Percent kind: ppm of the overdue amount per day. Fixed kind: rupiah per day.
    penalty_rate_ppm: Mapped[int] = mapped_column(default=0)
    penalty_per_day: Mapped[int] = mapped_column(Money, default=0)
    grace_days: Mapped[int] = mapped_column(default=0)
    #: The most penalty one installment can collect (None: no cap).
    penalty_cap: Mapped[int | None] = mapped_column(Money)
    early_payoff: Mapped[str] = mapped_column(sa.String(20), default=EarlyPayoff.PRINCIPAL.value)
    #: Order in which a repayment pays the components, e.g. "penalty,interest,principal".
    allocation_order: Mapped[str] = mapped_column(sa.String(40), default=",".join(COMPONENTS))
    overpayment: Mapped[str] = mapped_column(sa.String(16), default=Overpayment.REFUSE.value)
    #: Eligibility: mandatory-savings arrears at most this many months ...
    max_arrears_months: Mapped[int] = mapped_column(default=3)
    #: ... and fewer open loans (applied, approved or active) than this.
    max_open_loans: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(self.allocation_order.split(","))


class Loan(db.Model):
    """One member's loan from application to closing; its principal is a sub-ledger."""

    __tablename__ = "loan"
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({_in(LoanStatus)})", name="status_known"),
        sa.CheckConstraint(f"method IN ({_in(LoanMethod)})", name="method_known"),
        sa.CheckConstraint("principal > 0", name="principal_positive"),
        sa.CheckConstraint("months >= 1", name="months_positive"),
        sa.CheckConstraint("outstanding >= 0", name="outstanding_not_negative"),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> recorded_by_id", name="maker_checker"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_product.id"))
    purpose: Mapped[str] = mapped_column(sa.String(255))
    principal: Mapped[int] = mapped_column(Money)
    months: Mapped[int]
    #: The product's terms when the loan was applied for (later changes do not touch it).
    method: Mapped[str] = mapped_column(sa.String(16))
    rate_ppm: Mapped[int]
    rounding: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default=LoanStatus.APPLIED.value)
    applied_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: Approval or rejection, by another user with the admin role (maker-checker).
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_on: Mapped[date | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(255))
    disbursed_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    #: Principal still owed: debits minus credits of the lines on sub-account "loan:<id>".
    outstanding: Mapped[int] = mapped_column(Money, default=0)
    #: The schedule in force (a reschedule adds a new one and keeps the old).
    schedule_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Optimistic lock: a repayment or decision on a stale form is refused.
    version: Mapped[int] = mapped_column(default=1)

    member: Mapped[Member] = relationship()
    product: Mapped[LoanProduct] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        """PJ-00042: numbered by the loan's key, so a number is never reused."""
        return f"PJ-{self.id:05d}"

    @property
    def subaccount(self) -> str:
        return f"loan:{self.id}"

    @property
    def monthly_rate(self) -> Decimal:
        return rate(self.rate_ppm)


class LoanInstallment(db.Model):
    """One installment of a schedule; schedules replaced by a reschedule are kept."""

    __tablename__ = "loan_installment"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "schedule_version", "no"),
        sa.CheckConstraint("principal >= 0 AND interest >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loan.id"), index=True)
    schedule_version: Mapped[int]
    no: Mapped[int]
    due_date: Mapped[date]
    principal: Mapped[int] = mapped_column(Money)
    interest: Mapped[int] = mapped_column(Money)

    @property
    def amount(self) -> int:
        return self.principal + self.interest


class LoanEvent(AppendOnly, db.Model):
    """A schedule taking effect (disbursement, reschedule) or a write-off, who and why.

    A schedule counts the repayments posted after `after_entry_id` (the disbursement, or
    the last entry before the reschedule), so any past date's position can be rebuilt.
    """

    __tablename__ = "loan_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loan.id"), index=True)
    #: "disbursed", "rescheduled" or "written_off".
    kind: Mapped[str] = mapped_column(sa.String(20))
    on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(255))
    schedule_version: Mapped[int | None]
    after_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()


class QualityClass(db.Model):
    """A loan quality class (kolektibilitas) by days past due, with its provision."""

    __tablename__ = "loan_quality_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lancar, Kurang Lancar, Diragukan, Macet (the cooperative may rename them).
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Loans with at least this many days past due (and fewer than the next class's) fall here.
    min_days: Mapped[int] = mapped_column(unique=True)
    #: Provision for bad loans, ppm of the outstanding principal.
    provision_ppm: Mapped[int] = mapped_column(default=0)
