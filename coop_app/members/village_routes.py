"""The board's list of villages and their groups (choice lists of the registry)."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import BaseForm, choice_list
from coop_app.members import services
from coop_app.members.models import Member, Village

bp = Blueprint("villages", __name__)


class VillageForm(BaseForm):
    name = StringField(_l("Village"), validators=[DataRequired(), Length(max=80)])
    subdistrict = StringField(_l("Sub-district"), validators=[Optional(), Length(max=80)])


class GroupForm(BaseForm):
    village_id = SelectField(_l("Village"), coerce=int)
    group_name = StringField(_l("Group"), validators=[DataRequired(), Length(max=80)])


def _page(village_form=None, group_form=None):
    villages = db.session.execute(sa.select(Village).order_by(Village.name)).scalars().all()
    counts = dict(
        db.session.execute(
            sa.select(Member.village_id, sa.func.count()).group_by(Member.village_id)
        ).all()
    )
    group_form = group_form or GroupForm()
    group_form.village_id.choices = choice_list((v.id, v.name) for v in villages if v.active)
    return render_template(
        "villages/index.html",
        villages=villages,
        counts=counts,
        village_form=village_form or VillageForm(),
        group_form=group_form,
        button=BaseForm(),
    )


@bp.get("/")
@allow(Role.ADMIN, Role.TREASURER, Role.SUPERVISOR)
def index():
    return _page()


def _save(action, **page_forms):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _page(**page_forms), REFUSED
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("villages.index"))


@bp.post("/")
@allow(Role.ADMIN)
def add_village():
    form = VillageForm()
    if not form.validate_on_submit():
        return _page(village_form=form), REFUSED

    def add():
        services.add_village(name=form.name.data, subdistrict=form.subdistrict.data or "")

    return _save(add, village_form=form)


@bp.post("/groups")
@allow(Role.ADMIN)
def add_group():
    form = GroupForm()
    form.village_id.choices = choice_list(
        (v.id, v.name) for v in db.session.scalars(sa.select(Village))
    )
    if not form.validate_on_submit():
        return _page(group_form=form), REFUSED
    village = db.get_or_404(Village, form.village_id.data)
    return _save(lambda: services.add_group(village, name=form.group_name.data), group_form=form)


@bp.post("/<int:village_id>/active")
@allow(Role.ADMIN)
def toggle_active(village_id: int):
    village = db.get_or_404(Village, village_id)
    if not BaseForm().validate_on_submit():
        return _page(), REFUSED
    return _save(lambda: services.set_village_active(village, active=not village.active))
