"""Login, logout and changing one's own password."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.auth import audit, services
from coop_app.auth.access import allow, public, safe_next_url
from coop_app.auth.forms import ChangePasswordForm, LoginForm
from coop_app.auth.roles import ALL_ROLES
from coop_app.auth.sessions import end_session, start_session
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in; a failure is counted in the database so that it holds across workers."""
    if current_user.is_authenticated:
        if request.method == "POST":
            audit.note(action="auth.login", outcome="failure", detail="already logged in")
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.attempt_login(form.username.data, form.password.data)
        except services.LoginRefused as refused:
            db.session.commit()  # keeps the failure count; nothing else was changed
            flash(refused.message, "danger")
            return render_template("auth/login.html", form=form), REFUSED
        start_session(user)
        db.session.commit()
        return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.index"))
    if form.is_submitted():
        audit.note(action="auth.login", detail="incomplete form")
        return render_template("auth/login.html", form=form), REFUSED
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@allow(*ALL_ROLES)
def logout():
    """Log out: the session is revoked in the database, so a copied cookie stops working."""
    user = current_user._get_current_object()
    audit.note(actor=user, entity=f"user:{user.id}")
    end_session(reason="logout")
    db.session.commit()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@allow(*ALL_ROLES)
@limiter.limit(_login_limit, methods=["POST"])
def change_password():
    """Change one's own password; every other session of the user ends."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            services.change_own_password(user, current=form.current.data, new=form.new.data)
        except services.LoginRefused as refused:
            db.session.commit()  # keeps the failure count, as at login
            flash(refused.message, "danger")
            return render_template("auth/change_password.html", form=form), REFUSED
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return render_template("auth/change_password.html", form=form), REFUSED
        start_session(user)
        db.session.commit()
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("dashboard.index"))
    status = REFUSED if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status
