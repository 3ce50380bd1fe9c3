"""The audit log: one row per state-changing request, login attempt and denied access.

Views and services describe what they did with `note(...)`; the row itself is written
after the response is built, in its own transaction, so that refused and failed actions
(whose own transaction was rolled back) are recorded too. Form data is never logged,
so neither passwords nor tokens can reach the log.
"""

import logging
import re

from flask import Flask, Response, g, request
from flask_login import current_user

from coop_app.auth.models import AuditEvent
from coop_app.db import SAFE_METHODS
from coop_app.extensions import db

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Endpoints whose requests are never worth a row (static files).
_SILENT_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def note(
    *,
    action: str | None = None,
    entity: str | None = None,
    outcome: str | None = None,
    detail: str | None = None,
    actor=None,
) -> None:
    """Describe the current request for its audit row.

    `actor` is a User (for a logout, or a login that succeeded) or a plain label (for a
    login attempt). It is resolved to an id and a name at once, so that writing the row
    later needs no database read.
    """
    audit = g.setdefault("audit", {})
    for key, value in (("action", action), ("entity", entity), ("outcome", outcome)):
        if value is not None:
            audit[key] = value
    if detail is not None:
        audit["detail"] = detail
    if actor is not None:
        audit["actor"] = (None, actor) if isinstance(actor, str) else (actor.id, actor.username)


def remember_current_user() -> None:
    """Keep who is asking, for the audit row (called once the user is loaded)."""
    if current_user.is_authenticated:
        g.audit_user = (current_user.id, current_user.username)


def mark_denied(detail: str | None = None) -> None:
    """Make the current request write an audit row, as a denied access (even for a GET)."""
    note(outcome="denied", detail=detail)


def record_cli(*, action: str, entity: str | None = None, detail: str | None = None) -> None:
    """Add an audit row for a CLI command to the current transaction (committed with it)."""
    db.session.add(
        AuditEvent(
            action=action,
            entity=entity,
            detail=detail,
            outcome="success",
            status_code=0,
            method="CLI",
            path=action,
            actor="cli",
        )
    )


def _outcome_for(status: int) -> str:
    if status in (401, 403):
        return "denied"
    if status >= 500:
        return "error"
    if status >= 400:
        return "failure"
    return "success"


def _clean(text: str | None, limit: int) -> str | None:
    """Drop control characters (PostgreSQL refuses NUL) and cut to the column's size."""
    if text is None:
        return None
    return _CONTROL.sub("", text)[:limit] or None


def _should_record() -> bool:
    if request.endpoint is None and "audit" not in g:
        return False  # no such page: nothing was changed or refused by a rule
    if request.endpoint in _SILENT_ENDPOINTS:
        return False
    return request.method not in SAFE_METHODS or "audit" in g


def _event_for(response: Response) -> AuditEvent:
    audit = g.get("audit", {})
    user_id, actor = audit.get("actor") or g.get("audit_user") or (None, None)
    return AuditEvent(
        user_id=user_id,
        actor=_clean(actor, 64),
        action=_clean(audit.get("action") or request.endpoint or "unknown", 64),
        entity=_clean(audit.get("entity"), 120),
        outcome=audit.get("outcome") or _outcome_for(response.status_code),
        status_code=response.status_code,
        method=request.method[:8],
        path=_clean(request.path, 255) or "/",
        ip=_clean(request.remote_addr, 45),
        detail=_clean(audit.get("detail"), 255),
    )


def write_request_audit(response: Response) -> Response:
    """after_request hook: write the request's audit row in its own transaction.

    The view has committed (or rolled back) already; the row goes in a second, short
    transaction so that refused and failed requests are recorded too. Should that write
    fail, the response still reaches the user and the failure is logged.
    """
    if not _should_record():
        return response
    try:
        event = _event_for(response)
        db.session.rollback()
        g.write_intent = True
        db.session.add(event)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not write the audit row for %s %s", request.method, request.path)
    return response


def init_app(app: Flask) -> None:
    """Write an audit row after every state-changing or denied request."""
    app.after_request(write_request_audit)
