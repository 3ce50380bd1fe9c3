"""The activity log for the board and the supervisor: who did what, when, from where."""

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from coop_app.auth.access import allow
from coop_app.auth.models import AuditEvent
from coop_app.auth.roles import Role
from coop_app.extensions import db

bp = Blueprint("audit", __name__)

OUTCOMES = ("success", "failure", "denied", "error")
PAGE_SIZE = 50


def _filtered(actor: str, outcome: str) -> sa.Select:
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if actor:
        query = query.where(AuditEvent.actor == actor.strip().lower())
    if outcome in OUTCOMES:
        query = query.where(AuditEvent.outcome == outcome)
    return query


@bp.get("/")
@allow(Role.ADMIN, Role.SUPERVISOR)
def index():
    """Newest first, filtered by user and outcome, 50 rows a page."""
    actor = request.args.get("actor", "")[:64]
    outcome = request.args.get("outcome", "")
    page = db.paginate(_filtered(actor, outcome), per_page=PAGE_SIZE, max_per_page=PAGE_SIZE)
    return render_template(
        "audit/index.html", page=page, actor=actor, outcome=outcome, outcomes=OUTCOMES
    )
