"""Tables of users, their login sessions, failed-login counters and the audit log."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop_app.auth.roles import Role
from coop_app.db import AppendOnly, UTCDateTime, utcnow
from coop_app.extensions import db

#: An autoincrementing 64-bit key (SQLite only autoincrements an INTEGER primary key).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)


class User(UserMixin, db.Model):
    """A person who logs in. Never deleted: deactivated, so the audit log keeps its meaning."""

    __tablename__ = "user_account"
    __table_args__ = (sa.CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; login is case-insensitive.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(16))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Set when an administrator created or reset the password: the user must choose their own.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Optimistic lock: an edit made on a stale form is refused instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    sessions: Mapped[list["LoginSession"]] = relationship(back_populates="user")

    __mapper_args__ = {"version_id_col": version}

    #: The raw token of the login session this object was loaded for (never stored).
    current_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        """Flask-Login keeps the session token, not the user id, in the cookie."""
        return self.current_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class LoginSession(db.Model):
    """One login on one device; revoking it makes a copied cookie useless."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the token in the cookie, so that a database leak does not leak sessions.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginThrottle(db.Model):
    """Consecutive failed password checks per username, shared by every worker."""

    __tablename__ = "login_throttle"

    #: SHA-256 of the lower-cased username as typed, whether or not such a user exists.
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(AppendOnly, db.Model):
    """One row per state-changing request, login attempt or denied access. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: Who, as a name: the logged-in user, or the username typed at a login attempt.
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    #: What was done, e.g. "auth.login" or "users.create".
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: What it was done to, e.g. "user:12".
    entity: Mapped[str | None] = mapped_column(sa.String(120))
    #: success, failure (refused by a rule), denied (no access) or error.
    outcome: Mapped[str] = mapped_column(sa.String(16))
    status_code: Mapped[int] = mapped_column(sa.SmallInteger)
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(255))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: A short, non-secret description, e.g. "role treasurer -> admin".
    detail: Mapped[str | None] = mapped_column(sa.String(255))

    user: Mapped[User | None] = relationship()
