"""The audit log: one row per state-changing request, login attempt and denied access.

Views and services describe what they did with `note(...)`; the row itself is written
after the response is built, in its own transaction, so that refused and failed actions
(whose own transaction was rolled back) are recorded too. Form data is never logged,
so neither passwords nor tokens can reach the log.
"""

import logging

from flask import Flask, Response, g, request
from flask_login import current_user

from coop_app.auth.models import AuditEvent
from coop_app.db import SAFE_METHODS
from coop_app.extensions import db

log = logging.getLogger(__name__)

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
    """Describe the current request for its audit row (no-op outside a request).

    `actor` is a User or a username string, for requests where nobody is logged in
    (a login attempt) or somebody is no longer (a logout).
    """
    audit = g.setdefault("audit", {})
    for key, value in (("action", action), ("entity", entity), ("outcome", outcome)):
        if value is not None:
            audit[key] = value
    if detail is not None:
        audit["detail"] = detail[:255]
    if actor is not None:
        audit["actor"] = actor


def mark_denied() -> None:
    """Make the current request write an audit row even if it is a GET."""
    note(outcome="denied")


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


def _actor_fields(actor) -> tuple[int | None, str | None]:
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    if actor is None:
        return None, None
    if isinstance(actor, str):
        return None, actor[:64]
    return actor.id, actor.username


def _should_record() -> bool:
    if request.endpoint in _SILENT_ENDPOINTS:
        return False
    return request.method not in SAFE_METHODS or "audit" in g


def write_request_audit(response: Response) -> Response:
    """after_request hook: write the request's audit row in its own transaction."""
    if not _should_record():
        return response
    audit = g.get("audit", {})
    user_id, actor = _actor_fields(audit.get("actor"))
    event = AuditEvent(
        user_id=user_id,
        actor=actor,
        action=audit.get("action") or (request.endpoint or "unknown")[:64],
        entity=audit.get("entity"),
        outcome=audit.get("outcome") or _outcome_for(response.status_code),
        status_code=response.status_code,
        method=request.method[:8],
        path=request.path[:255],
        ip=(request.remote_addr or "")[:45] or None,
        detail=audit.get("detail"),
    )
    try:
        db.session.rollback()
        g.write_intent = True
        db.session.add(event)
        db.session.commit()
    except Exception:  # the response must still reach the user; the failure is logged
        db.session.rollback()
        log.exception("could not write the audit row for %s %s", request.method, request.path)
    return response


def init_app(app: Flask) -> None:
    """Write an audit row after every state-changing or denied request."""
    app.after_request(write_request_audit)
