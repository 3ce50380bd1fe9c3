"""The dashboard: a greeting, the role's duties, the last login, and the role's cards."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from coop_app.auth.access import allow
from coop_app.auth.models import AuditEvent, LoginSession, User
from coop_app.auth.roles import ALL_ROLES, ROLE_DUTIES, Role
from coop_app.extensions import db

bp = Blueprint("dashboard", __name__)


def _previous_login(user: User) -> LoginSession | None:
    """The login before the current one, so users can spot one that was not theirs."""
    return db.session.execute(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.created_at.desc())
        .offset(1)
        .limit(1)
    ).scalar_one_or_none()


def _oversight_cards() -> dict:
    """For the board and the supervisor: users per role and the latest refused actions."""
    per_role = db.session.execute(
        sa.select(User.role, sa.func.count()).where(User.active.is_(True)).group_by(User.role)
    ).all()
    problems = db.session.execute(
        sa.select(AuditEvent)
        .where(AuditEvent.outcome.in_(("denied", "failure", "error")))
        .order_by(AuditEvent.id.desc())
        .limit(8)
    ).scalars()
    return {"users_per_role": dict(per_role), "recent_problems": problems.all()}


@bp.get("/")
@allow(*ALL_ROLES)
def index():
    user = current_user._get_current_object()
    cards = _oversight_cards() if user.role in (Role.ADMIN, Role.SUPERVISOR) else {}
    return render_template(
        "dashboard/index.html",
        duties=ROLE_DUTIES[Role(user.role)],
        previous_login=_previous_login(user),
        **cards,
    )
