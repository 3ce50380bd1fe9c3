"""Writes for users: login attempts, throttling, creation, roles, passwords, deactivation.

Functions change the session and flush; the caller (view or CLI command) commits.
"""

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from coop_app.auth import audit
from coop_app.auth.models import LoginThrottle, User
from coop_app.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    temporary_password,
    verify_password,
)
from coop_app.auth.roles import Role
from coop_app.auth.sessions import revoke_all_sessions
from coop_app.db import dialect_insert, utcnow
from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db

#: Failed logins allowed before each further attempt must wait.
FREE_ATTEMPTS = 5
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
#: A failure older than this no longer counts towards a lock.
FORGET_AFTER = timedelta(hours=24)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class LoginRefused(DomainError):
    """A password check failed; the failure count was updated and must be committed."""


def normalise_username(username: str) -> str:
    return username.strip().lower()


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash with the current cost parameters, verified when the username is unknown."""
    key = repr(sorted(current_app.config["PASSWORD_HASH_PARAMS"].items()))
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hash_password("not-a-real-password")
    return _dummy_hashes[key]


def _lock_seconds(failures: int) -> int:
    """Backoff after the free attempts: 30 s, 60 s, 120 s, ... capped at 15 minutes."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (failures - FREE_ATTEMPTS))


def throttle_key(username: str) -> str:
    """The counter's key: a hash, so that a password typed as a username is never stored."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()


def _count_failure(key: str) -> None:
    """Count a failure atomically, on SQLite and PostgreSQL alike, across workers.

    A count whose last failure is older than FORGET_AFTER starts again at one, and such
    stale rows of other names are removed, so that old typos never add up to a lock.
    """
    now = utcnow()
    stale = now - FORGET_AFTER
    insert = dialect_insert(db.session)
    statement = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now)
    restart = sa.case((LoginThrottle.last_failure_at < stale, 0), else_=LoginThrottle.failures)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": restart + 1, "last_failure_at": now},
        )
    )
    db.session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.key != key, LoginThrottle.last_failure_at < stale
        )
    )
    throttle = db.session.get(LoginThrottle, key, populate_existing=True)
    seconds = _lock_seconds(throttle.failures)
    throttle.locked_until = now + timedelta(seconds=seconds) if seconds else None


def _check_not_locked(key: str) -> None:
    throttle = db.session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > utcnow():
        wait = max(1, int((throttle.locked_until - utcnow()).total_seconds()) + 1)
        raise LoginRefused(
            _(
                "Too many failed attempts. Try again in %(seconds)d seconds.",
                seconds=wait,
            )
        )


def _clear_failures(key: str) -> None:
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == key))


def attempt_login(username: str, password: str) -> User:
    """Return the user if the credentials are right; otherwise count the failure and raise.

    An unknown username and a wrong password get the same message and take the same
    time (a dummy hash is verified), so that usernames cannot be discovered. The typed
    name is audited only when it is a real username.
    """
    name = normalise_username(username)[:64]
    key = throttle_key(name)
    audit.note(action="auth.login")
    _check_not_locked(key)
    user = db.session.execute(sa.select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        audit.note(detail="unknown username")
    else:
        audit.note(actor=user, entity=f"user:{user.id}")
    stored = user.password_hash if user else _dummy_hash()
    if not verify_password(stored, password) or user is None:
        _count_failure(key)
        raise LoginRefused(_("The username or password is wrong."))
    if not user.active:
        raise LoginRefused(_("This account has been deactivated. Contact the board."))
    _clear_failures(key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username=username)
    if problem:
        raise DomainError(problem)


def _check_version(user: User, expected_version: int | None) -> None:
    """Refuse an edit made on a form loaded before the last change (or with no version)."""
    if user.version != expected_version:
        raise StaleEditError()


def _flush_user_change() -> None:
    """Write the change now, so that a concurrent edit (the version column) is a StaleEditError."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEditError() from None


def create_user(
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str | None = None,
) -> tuple[User, str | None]:
    """Create a user. Without a password a temporary one is made and must be changed.

    Returns the user and the temporary password (None when `password` was given).
    """
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise DomainError(
            _(
                "The username must be 3 to 64 characters: lower-case letters, digits, "
                "dot, dash or underscore."
            )
        )
    exists = db.session.execute(sa.select(User.id).where(User.username == name)).first()
    if exists:
        raise DomainError(_("The username %(name)s is already taken.", name=name))
    temporary = None if password else temporary_password()
    if password:
        _check_password(password, name)
    user = User(
        username=name,
        full_name=full_name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password or temporary),
        must_change_password=password is None,
    )
    db.session.add(user)
    db.session.flush()
    audit.note(entity=f"user:{user.id}", detail=f"role {user.role}")
    return user, temporary


def update_user(user: User, *, full_name: str, role: Role, expected_version: int | None) -> None:
    """Change a user's name and role; the last active administrator cannot be demoted."""
    _check_version(user, expected_version)
    new_role = Role(role).value
    if user.role == Role.ADMIN and new_role != Role.ADMIN:
        _check_other_admin_remains(user)
    detail = f"role {user.role} -> {new_role}" if new_role != user.role else "name"
    user.full_name = full_name.strip()
    user.role = new_role
    _flush_user_change()
    audit.note(entity=f"user:{user.id}", detail=detail)


def _check_other_admin_remains(user: User) -> None:
    """Refuse to leave the cooperative without an active administrator.

    The active administrators' rows are locked first, so that two board members acting
    at once on PostgreSQL cannot each remove the other (SQLite serialises writes anyway).
    """
    admins = db.session.execute(
        sa.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    ).scalars()
    if not set(admins) - {user.id}:
        raise DomainError(_("The cooperative must keep at least one active administrator."))


def set_active(user: User, *, active: bool, by: User, expected_version: int | None) -> None:
    """Deactivate (ending every session at once) or reactivate a user."""
    _check_version(user, expected_version)
    if not active and user.id == by.id:
        raise DomainError(_("You cannot deactivate your own account."))
    if not active and user.role == Role.ADMIN:
        _check_other_admin_remains(user)
    user.active = active
    _flush_user_change()
    if not active:
        revoke_all_sessions(user, reason="deactivated")
    audit.note(entity=f"user:{user.id}", detail="activated" if active else "deactivated")


def reset_password(user: User, *, expected_version: int | None) -> str:
    """Give `user` a temporary password they must change; ends their sessions."""
    _check_version(user, expected_version)
    temporary = temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    _flush_user_change()
    revoke_all_sessions(user, reason="password_reset")
    audit.note(entity=f"user:{user.id}", detail="password reset")
    return temporary


def change_own_password(user: User, *, current: str, new: str) -> None:
    """Change one's own password; every session of the user ends (the caller starts a new one)."""
    key = throttle_key(user.username)
    _check_not_locked(key)
    if not verify_password(user.password_hash, current):
        _count_failure(key)
        raise LoginRefused(_("The current password is wrong."))
    _clear_failures(key)
    if current == new:
        raise DomainError(_("The new password must differ from the current one."))
    _check_password(new, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    _flush_user_change()
    revoke_all_sessions(user, reason="password_change")
    audit.note(entity=f"user:{user.id}", detail="password changed")
