"""Access control: deny by default; every view declares the roles it allows.

A view is declared with `@allow(Role.ADMIN, ...)` or `@public`. A `before_request` hook
checks the declaration of the endpoint being called, so a view without one is refused
to everybody (and a test fails until it gets one).
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.auth import audit
from coop_app.auth.roles import Role
from coop_app.db import SAFE_METHODS

#: The declaration of a view anybody may use, logged in or not.
PUBLIC = "public"

#: Endpoints served by Flask and Bootstrap-Flask themselves.
_BUILTIN_PUBLIC = frozenset({"static", "bootstrap.static"})

#: Endpoints a user who must change their password may still use.
_ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset(
    {"auth.change_password", "auth.logout", "i18n.set_language"}
)


def allow(*roles: Role) -> Callable:
    """Declare the roles that may use a view."""
    if not roles:
        raise ValueError("allow() needs at least one role; use @public for open views")

    def declare(view: Callable) -> Callable:
        view.access_policy = frozenset(roles)
        return view

    return declare


def public(view: Callable) -> Callable:
    """Declare a view that anybody may use (the login page, the language switch)."""
    view.access_policy = PUBLIC
    return view


def policy_of(endpoint: str):
    """The declared policy of an endpoint: PUBLIC, a set of roles, or None (undeclared)."""
    if endpoint in _BUILTIN_PUBLIC:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def can_access(endpoint: str) -> bool:
    """Whether the current user may use `endpoint` (used to build the menu)."""
    policy = policy_of(endpoint)
    if policy == PUBLIC:
        return True
    return bool(policy) and current_user.is_authenticated and current_user.role in policy


def safe_next_url(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, otherwise None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def enforce_access():
    """before_request hook: refuse every request the endpoint's policy does not allow."""
    if request.endpoint is None:
        return None  # routing failed: Flask answers 404 or 405 itself
    policy = policy_of(request.endpoint)
    if policy == PUBLIC:
        return None
    if not current_user.is_authenticated:
        audit.mark_denied()
        flash(_("Please log in to open this page."), "warning")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    audit.remember_current_user()
    if policy is None:
        current_app.logger.error("endpoint %s has no access policy", request.endpoint)
    if policy is None or current_user.role not in policy:
        audit.mark_denied()
        abort(403)
    if current_user.must_change_password and request.endpoint not in (
        _ALLOWED_BEFORE_PASSWORD_CHANGE
    ):
        if request.method not in SAFE_METHODS:
            audit.mark_denied("password change required")
        flash(_("Choose your own password before you continue."), "warning")
        return redirect(url_for("auth.change_password"))
    return None


def init_app(app: Flask) -> None:
    """Check every request against its endpoint's declared policy."""
    app.before_request(enforce_access)
