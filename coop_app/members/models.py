"""Tables of the member registry: villages, members, status history, migrant profiles."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.models import User
from coop_app.db import UTCDateTime, utcnow
from coop_app.extensions import db


class MemberStatus(StrEnum):
    """A member's place in the lifecycle; changes need a date and a reason."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    RESIGNED = "resigned"
    DECEASED = "deceased"


class Sex(StrEnum):
    """As on the Indonesian identity card: laki-laki or perempuan."""

    MALE = "L"
    FEMALE = "P"


def _in(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{item.value}'" for item in enum)


class Village(db.Model):
    """A village (desa) of the cooperative's area; an admin-managed list."""

    __tablename__ = "village"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: Kecamatan (sub-district), for reports.
    subdistrict: Mapped[str | None] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)

    groups: Mapped[list["VillageGroup"]] = relationship(
        back_populates="village", order_by="VillageGroup.name"
    )


class VillageGroup(db.Model):
    """A group (kelompok) of members in a village: the unit of the monthly collection."""

    __tablename__ = "village_group"
    __table_args__ = (sa.UniqueConstraint("village_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("village.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)

    village: Mapped[Village] = relationship(back_populates="groups")


class MemberNumberCounter(db.Model):
    """The last number handed out per prefix, bumped atomically on SQLite and PostgreSQL."""

    __tablename__ = "member_number_counter"

    prefix: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Member(db.Model):
    """A member (anggota) of the cooperative."""

    __tablename__ = "member"
    __table_args__ = (
        sa.CheckConstraint("length(nik) = 16", name="nik_16_digits"),
        sa.CheckConstraint(f"sex IN ({_in(Sex)})", name="sex_known"),
        sa.CheckConstraint(f"status IN ({_in(MemberStatus)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. KPM-00042; automatic, or kept from the cooperative's old books on import.
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    #: Nomor Induk Kependudukan: 16 digits, kept as text (leading zeros matter).
    nik: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), index=True)
    sex: Mapped[str] = mapped_column(sa.String(1))
    birth_date: Mapped[date]
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("village.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("village_group.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    #: 08... or +628..., kept as typed (as text) after removing spaces and dashes.
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    join_date: Mapped[date]
    #: Ahli waris: who receives the savings if the member dies.
    heir: Mapped[str | None] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(16), default=MemberStatus.CANDIDATE.value)
    #: Date and reason of the latest status change (the history is in member_status_change).
    status_date: Mapped[date]
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    #: The member's own login, if the treasurer made one.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Optimistic lock: an edit on a stale form is refused instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    village: Mapped[Village] = relationship()
    group: Mapped[VillageGroup | None] = relationship()
    user: Mapped[User | None] = relationship()
    profile: Mapped["MigrantProfile | None"] = relationship(back_populates="member")
    status_changes: Mapped[list["MemberStatusChange"]] = relationship(
        order_by="MemberStatusChange.id", back_populates="member"
    )

    __mapper_args__ = {"version_id_col": version}


class MemberStatusChange(db.Model):
    """One change of a member's status, with its date, reason and who made it."""

    __tablename__ = "member_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(255))
    by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="status_changes")
    by_user: Mapped[User | None] = relationship()


class MigrantProfile(db.Model):
    """The member's migration story; exists only once consent is recorded.

    Sensitive: shown to the board, treasurer and supervisor only, never on member-facing
    pages or in member-list exports; reports use it only in aggregate.
    """

    __tablename__ = "migrant_profile"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), primary_key=True)
    consent_date: Mapped[date]
    consent_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    return_date: Mapped[date | None]
    #: Whether the last departure went through the official (procedural) channel.
    procedural: Mapped[bool | None]
    placement_agency: Mapped[str | None] = mapped_column(sa.String(120))
    family_abroad: Mapped[int] = mapped_column(default=0)
    business: Mapped[str | None] = mapped_column(sa.String(255))
    products: Mapped[str | None] = mapped_column(sa.String(255))
    version: Mapped[int] = mapped_column(default=1)

    member: Mapped[Member] = relationship(back_populates="profile")
    consent_recorded_by: Mapped[User | None] = relationship()
    placements: Mapped[list["Placement"]] = relationship(
        order_by="Placement.start_date", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Placement(db.Model):
    """One period of work abroad."""

    __tablename__ = "placement"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("migrant_profile.member_id"), index=True)
    #: English country name, e.g. "Hong Kong", "Taiwan", "Malaysia".
    country: Mapped[str] = mapped_column(sa.String(60))
    sector: Mapped[str] = mapped_column(sa.String(80))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
