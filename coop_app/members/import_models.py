"""The table of member imports: an uploaded file waiting for confirmation, then its result."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.models import User
from coop_app.db import UTCDateTime, utcnow
from coop_app.extensions import db


class ImportStatus(StrEnum):
    """A pending import becomes imported exactly once (a conditional UPDATE claims it)."""

    PENDING = "pending"
    IMPORTED = "imported"


class MemberImport(db.Model):
    """An uploaded member list: checked, previewed, and imported all at once or not at all."""

    __tablename__ = "member_import"
    __table_args__ = (
        sa.CheckConstraint(
            f"status IN ({', '.join(repr(s.value) for s in ImportStatus)})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable; the preview and confirm addresses carry it instead of the id.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=ImportStatus.PENDING.value)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    #: The file's data rows as text: [{"row": 2, "cells": {"nik": "...", ...},
    #: "numeric": ["nik"]}]; emptied once imported (the members hold the data then).
    rows: Mapped[list] = mapped_column(sa.JSON)
    row_count: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    imported_count: Mapped[int | None]

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    imported_by: Mapped[User | None] = relationship(foreign_keys=[imported_by_id])
