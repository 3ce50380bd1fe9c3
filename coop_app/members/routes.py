"""Screens of the member registry: list, register, edit, status, profile, login, own record."""

from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import choice_list, id_arg
from coop_app.i18n import local_today
from coop_app.members import services
from coop_app.members.forms import (
    STATUS_LABELS,
    ButtonForm,
    ConsentForm,
    MemberForm,
    PlacementForm,
    ProfileForm,
    StatusForm,
)
from coop_app.members.models import Member, MemberStatus, MigrantProfile
from coop_app.members.queries import active_villages, member_list_query, member_of_user
from coop_app.members.sections import sections_for
from coop_app.members.validation import FieldError, MemberData

bp = Blueprint("members", __name__)

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER
PAGE_SIZE = 25


#: What the member page shows besides the member row, loaded with it in one query
#: instead of one lazy load per section. Both collections are joined too: a member has a
#: handful of placements and status changes, so their product is a few rows, and one
#: query cost half of three (each query's own cost is most of it at this size).
_PAGE_OPTIONS = (
    joinedload(Member.village),
    joinedload(Member.group),
    joinedload(Member.user),
    joinedload(Member.profile).joinedload(MigrantProfile.placements),
    joinedload(Member.status_changes),
)


def _member_or_404(member_id: int, *, options=()) -> Member:
    member = db.get_or_404(Member, member_id, options=options)
    if current_user.role == Role.MEMBER and member.user_id != current_user.id:
        abort(404)  # a member never learns whether another member's record exists
    return member


def _refuse(form, error: DomainError, template: str, **context):
    """Roll back and show the form again with the error at its field (status 422)."""
    db.session.rollback()
    field = getattr(form, getattr(error, "field", ""), None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")
    return render_template(template, form=form, **context), REFUSED


def _choose_villages(form: MemberForm, member: Member | None = None) -> None:
    """Active villages and groups, plus the member's own even if since retired."""
    villages = active_villages()
    if member is not None and member.village not in villages:
        villages = [*villages, member.village]
    form.village_id.choices = choice_list(
        [("", _("Choose a village"))] + [(v.id, v.name) for v in villages]
    )
    groups = [("", _("No group"))]
    for village in villages:
        groups += [
            (g.id, f"{village.name} · {g.name}")
            for g in village.groups
            if g.active or (member is not None and g.id == member.group_id)
        ]
    form.group_id.choices = choice_list(groups)


def _data(form: MemberForm) -> MemberData:
    return MemberData(
        nik=form.nik.data,
        name=form.name.data,
        sex=form.sex.data,
        birth_date=form.birth_date.data,
        village_id=form.village_id.data,
        group_id=form.group_id.data,
        join_date=form.join_date.data,
        address=form.address.data or "",
        phone=form.phone.data or "",
        heir=form.heir.data or "",
        number=form.number.data or "",
    )


@bp.get("/")
@allow(A, T, S, TR)
def index():
    """The member list, searched and filtered, 25 a page."""
    text = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    village_id = id_arg("village")
    by_nik = current_user.role in (A, T, S)
    query = member_list_query(text=text, status=status, village_id=village_id, by_nik=by_nik)
    page = db.paginate(query, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE)
    return render_template(
        "members/index.html",
        page=page,
        filters={"q": text, "status": status, "village": village_id or ""},
        villages=active_villages(),
        status_labels=STATUS_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(A, T)
def create():
    form = MemberForm()
    _choose_villages(form)
    if form.validate_on_submit():
        try:
            member = services.register_member(
                _data(form), today=local_today(), by=current_user._get_current_object()
            )
        except DomainError as error:
            return _refuse(form, error, "members/form.html", member=None)
        db.session.commit()
        flash(_("Member %(number)s has been registered.", number=member.number), "success")
        return redirect(url_for("members.show", member_id=member.id))
    status = REFUSED if form.is_submitted() else 200
    return render_template("members/form.html", form=form, member=None), status


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@allow(A, T)
def edit(member_id: int):
    member = _member_or_404(member_id)
    form = MemberForm(obj=member)
    _choose_villages(form, member)
    if form.validate_on_submit():
        try:
            services.update_member(
                member, _data(form), today=local_today(), expected_version=form.expected_version()
            )
        except DomainError as error:
            return _refuse(form, error, "members/form.html", member=member)
        db.session.commit()
        flash(_("The member's details have been saved."), "success")
        return redirect(url_for("members.show", member_id=member.id))
    status = REFUSED if form.is_submitted() else 200
    return render_template("members/form.html", form=form, member=member), status


@bp.get("/<int:member_id>")
@allow(A, T, S, TR, M)
def show(member_id: int):
    """One member across every unit of the cooperative, section by section."""
    member = _member_or_404(member_id, options=_PAGE_OPTIONS)
    return _member_page(member)


@bp.get("/me")
@allow(M)
def me():
    """A member's own record."""
    member = member_of_user(current_user)
    if member is None:
        flash(_("Your login is not linked to a member record yet. Ask the treasurer."), "warning")
        return redirect(url_for("dashboard.index"))
    return _member_page(member)


def _member_page(member: Member):
    return render_template(
        "members/show.html",
        member=member,
        sections=sections_for(member, current_user.role),
        status_labels=STATUS_LABELS,
        button=ButtonForm(version=member.version),
        consent_form=ConsentForm(on=local_today()),
    )


@bp.route("/<int:member_id>/status", methods=["GET", "POST"])
@allow(A, T)
def change_status(member_id: int):
    member = _member_or_404(member_id)
    form = StatusForm(version=member.version)
    allowed = services.TRANSITIONS[MemberStatus(member.status)]
    form.status.choices = choice_list(
        (s.value, STATUS_LABELS[s]) for s in MemberStatus if s in allowed
    )
    if form.validate_on_submit():
        try:
            services.change_status(
                member,
                to=MemberStatus(form.status.data),
                on=form.on.data,
                reason=form.reason.data,
                today=local_today(),
                by=current_user._get_current_object(),
                expected_version=form.expected_version(),
            )
        except DomainError as error:
            return _refuse(form, error, "members/status.html", member=member)
        db.session.commit()
        flash(_("The status has been changed."), "success")
        return redirect(url_for("members.show", member_id=member.id))
    status = REFUSED if form.is_submitted() else 200
    return render_template("members/status.html", form=form, member=member), status


@bp.post("/<int:member_id>/consent")
@allow(A, T)
def record_consent(member_id: int):
    member = _member_or_404(member_id)
    form = ConsentForm()
    try:
        if not form.validate_on_submit():
            raise FieldError("on", form.on.errors[0] if form.on.errors else _("Give a date."))
        services.record_consent(
            member, on=form.on.data, today=local_today(), by=current_user._get_current_object()
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _member_page(member), REFUSED
    db.session.commit()
    flash(_("Consent recorded. The migrant profile can now be filled."), "success")
    return redirect(url_for("members.edit_profile", member_id=member.id))


@bp.route("/<int:member_id>/profile", methods=["GET", "POST"])
@allow(A, T)
def edit_profile(member_id: int):
    """The migrant profile and placements (only after consent)."""
    member = _member_or_404(member_id)
    if member.profile is None:
        flash(_("Record the member's consent before filling the migrant profile."), "warning")
        return redirect(url_for("members.show", member_id=member.id))
    form = ProfileForm(obj=member.profile)
    if request.method == "GET":
        form.procedural.data = {True: "yes", False: "no"}.get(member.profile.procedural, "")
    if form.validate_on_submit():
        try:
            services.update_profile(
                member,
                expected_version=form.expected_version(),
                return_date=form.return_date.data,
                procedural={"yes": True, "no": False}.get(form.procedural.data),
                placement_agency=form.placement_agency.data,
                family_abroad=form.family_abroad.data or 0,
                business=form.business.data,
                products=form.products.data,
            )
        except DomainError as error:
            return _refuse(form, error, "members/profile.html", member=member, **_placements())
        db.session.commit()
        flash(_("The migrant profile has been saved."), "success")
        return redirect(url_for("members.edit_profile", member_id=member.id))
    status = REFUSED if form.is_submitted() else 200
    page = render_template("members/profile.html", form=form, member=member, **_placements())
    return page, status


def _placements() -> dict:
    return {"placement_form": PlacementForm(), "button": ButtonForm()}


def _change_placements(member: Member, change, done: str):
    """Run `change()`, commit and say `done`, or roll back and say why; back to the profile."""
    try:
        change()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("members.edit_profile", member_id=member.id))


@bp.post("/<int:member_id>/placements")
@allow(A, T)
def add_placement(member_id: int):
    member = _member_or_404(member_id)
    form = PlacementForm()

    def add():
        if not form.validate_on_submit():
            raise DomainError(_("Fill in the country, the job and the start date."))
        services.add_placement(
            member,
            country=form.country.data,
            sector=form.sector.data,
            start=form.start_date.data,
            end=form.end_date.data,
            today=local_today(),
        )

    return _change_placements(member, add, _("The placement has been added."))


@bp.post("/<int:member_id>/placements/<int:placement_id>/remove")
@allow(A, T)
def remove_placement(member_id: int, placement_id: int):
    member = _member_or_404(member_id)
    remove = partial(services.remove_placement, member, placement_id)
    return _change_placements(member, remove, _("The placement has been removed."))


@bp.post("/<int:member_id>/login")
@allow(A, T)
def create_login(member_id: int):
    """Give the member a login and show the initial-password slip once."""
    member = _member_or_404(member_id)
    try:
        user, temporary = services.create_member_login(member)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("members.show", member_id=member.id))
    db.session.commit()
    return render_template(
        "users/password_slip.html",
        user=user,
        temporary=temporary,
        reason="new",
        done_url=url_for("members.show", member_id=member.id),
    )
