"""The board's screen for users: create, change role, reset password, deactivate."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.auth import services
from coop_app.auth.access import allow
from coop_app.auth.forms import UserActionForm, UserCreateForm, UserEditForm
from coop_app.auth.models import LoginSession, User
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError, StaleEditError
from coop_app.extensions import db

bp = Blueprint("users", __name__)


def _user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def _slip(user: User, temporary: str, *, reason: str):
    """The one page that shows a temporary password; it is never stored in clear."""
    return render_template(
        "users/password_slip.html", user=user, temporary=temporary, reason=reason
    )


@bp.get("/")
@allow(Role.ADMIN, Role.SUPERVISOR)
def index():
    users = db.session.execute(sa.select(User).order_by(User.active.desc(), User.username))
    return render_template("users/index.html", users=users.scalars().all())


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user, temporary = services.create_user(
                username=form.username.data, full_name=form.full_name.data, role=form.role.data
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return render_template("users/form.html", form=form, user=None), REFUSED
        db.session.commit()
        return _slip(user, temporary, reason="new")
    status = REFUSED if form.is_submitted() else 200
    return render_template("users/form.html", form=form, user=None), status


@bp.get("/<int:user_id>")
@allow(Role.ADMIN, Role.SUPERVISOR)
def show(user_id: int):
    """A user's details and recent logins; the board also gets the edit form."""
    user = _user_or_404(user_id)
    return _edit_page(user, UserEditForm(obj=user))


@bp.post("/<int:user_id>")
@allow(Role.ADMIN)
def update(user_id: int):
    """Change a user's name and role."""
    user = _user_or_404(user_id)
    form = UserEditForm()
    if not form.validate_on_submit():
        return _edit_page(user, form), REFUSED
    try:
        services.update_user(
            user,
            full_name=form.full_name.data,
            role=form.role.data,
            expected_version=form.expected_version(),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _edit_page(user, form), REFUSED
    db.session.commit()
    flash(_("The user %(name)s has been saved.", name=user.username), "success")
    return redirect(url_for("users.show", user_id=user.id))


def _edit_page(user: User, form: UserEditForm):
    recent = db.session.execute(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.created_at.desc())
        .limit(5)
    )
    return render_template(
        "users/form.html",
        form=form,
        user=user,
        action_form=UserActionForm(version=user.version),
        recent_logins=recent.scalars().all(),
    )


def _act_on_user(user_id: int, action):
    """Run `action(user, expected_version)` from a one-button form; commit or re-show."""
    user = _user_or_404(user_id)
    form = UserActionForm()
    try:
        if not form.validate_on_submit():
            raise StaleEditError()
        result = action(user, form.expected_version())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _edit_page(user, UserEditForm(obj=user)), REFUSED
    db.session.commit()
    return result


@bp.post("/<int:user_id>/reset-password")
@allow(Role.ADMIN)
def reset_password(user_id: int):
    """Give the user a temporary password, shown once on a slip; their sessions end."""

    def reset(user: User, version: int | None):
        temporary = services.reset_password(user, expected_version=version)
        return _slip(user, temporary, reason="reset")

    return _act_on_user(user_id, reset)


@bp.post("/<int:user_id>/active")
@allow(Role.ADMIN)
def set_active(user_id: int):
    """Deactivate (or reactivate) a user; deactivation ends their sessions at once."""

    def toggle(user: User, version: int | None):
        activate = not user.active
        by = current_user._get_current_object()
        services.set_active(user, active=activate, by=by, expected_version=version)
        flash(
            _("The account is active again.") if activate else _("The account is deactivated."),
            "success",
        )
        return redirect(url_for("users.show", user_id=user.id))

    return _act_on_user(user_id, toggle)
