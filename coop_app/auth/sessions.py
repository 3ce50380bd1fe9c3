"""Login sessions stored in the database, so that a copied cookie can be made useless.

The cookie carries a random token; the database keeps only its hash. Logging out,
changing the password or being deactivated revokes the row, after which the token
loads nobody. Sessions also end after an idle period and an absolute lifetime.
"""

import hashlib
import secrets
import time
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from coop_app.auth import audit
from coop_app.auth.models import LoginSession, User
from coop_app.db import UTCDateTime, utcnow
from coop_app.extensions import db, login_manager

_LAST_ACTIVE = "last_active"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fresh_cookie_session() -> None:
    """Empty the cookie session (no fixation, a new CSRF token) but keep the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(user: User) -> None:
    """Log `user` in on this device with a fresh token (the old session cookie is discarded)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_hash(token),
            ip=(request.remote_addr or "")[:45] or None,
            user_agent=(request.user_agent.string or "")[:200] or None,
        )
    )
    user.current_token = token
    _fresh_cookie_session()
    login_user(user)
    session[_LAST_ACTIVE] = int(time.time())


def revoke_token(token: str | None, *, reason: str) -> None:
    """Revoke the login session of `token`, if it is still live."""
    if not token:
        return
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == _hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_all_sessions(user: User, *, reason: str) -> None:
    """Revoke every live login session of `user` (password change, reset, deactivation)."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def end_session(*, reason: str) -> None:
    """Revoke this device's session and forget the cookie."""
    revoke_token(session.get("_user_id"), reason=reason)
    logout_user()
    _fresh_cookie_session()


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Return the active user of a live, unexpired session token, or None.

    One query, built once: it runs on every request before any page.
    """
    oldest_allowed = utcnow() - timedelta(hours=current_app.config["ABSOLUTE_TIMEOUT_HOURS"])
    user = db.session.execute(
        _live_user_statement(), {"token_hash": _hash(token), "oldest": oldest_allowed}
    ).scalar_one_or_none()
    if user is not None:
        user.current_token = token
    return user


@cache
def _live_user_statement() -> sa.Select:
    return (
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == sa.bindparam("token_hash"),
            LoginSession.revoked_at.is_(None),
            LoginSession.created_at > sa.bindparam("oldest", type_=UTCDateTime),
            User.active.is_(True),
        )
    )


def expire_idle_session():
    """before_request hook: end a session that has been idle too long; refresh the clock."""
    if "_user_id" not in session:
        return None
    now = int(time.time())
    idle_limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    last_active = session.get(_LAST_ACTIVE, 0)
    if now - last_active > idle_limit:
        db.session.rollback()  # the user's look-up began a transaction that only reads
        g.write_intent = True
        audit.mark_denied("session expired")
        end_session(reason="idle")
        db.session.commit()
        flash(_("You were logged out after a period of inactivity. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    if now - last_active >= 30:  # fewer cookie rewrites; the limit is in minutes anyway
        session[_LAST_ACTIVE] = now
    return None


def init_app(app: Flask) -> None:
    """Bind Flask-Login and the idle-timeout check (which must run before access checks)."""
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.before_request(expire_idle_session)
