"""Screens of loans: the list, an application, one loan with its schedule and actions
(the products are `product_routes`)."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import choice_list
from coop_app.i18n import local_today
from coop_app.ledger import idempotency
from coop_app.ledger.models import JournalEntry, JournalLine
from coop_app.loans import (
    applications,
    collection,  # noqa: F401  (adds the loans' columns to the savings collection sheet)
    forms,
    measures,
    sections,  # noqa: F401  (adds the member page's loans section)
    services,
)
from coop_app.loans.models import Loan, LoanEvent, LoanProduct, LoanStatus
from coop_app.loans.queries import position_of, schedule_of
from coop_app.members.models import Member
from coop_app.once import post_once

bp = Blueprint("loans", __name__)

A, T, S, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER
PAGE_SIZE = 25


def _loan_or_404(loan_id: int) -> Loan:
    loan = db.get_or_404(Loan, loan_id)
    if current_user.role == M and loan.member.user_id != current_user.id:
        abort(404)
    return loan


def _user():
    return current_user._get_current_object()


@bp.get("/")
@allow(A, T, S)
def index():
    """Loans, newest first, by status."""
    status = request.args.get("status", "")
    query = sa.select(Loan).order_by(Loan.id.desc())
    if status in forms.STATUS_LABELS:
        query = query.where(Loan.status == status)
    page = db.paginate(query, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE)
    return render_template("loans/index.html", page=page, status=status, **forms.labels())


# --- applications ---------------------------------------------------------------------------


def _application_form(member: Member) -> forms.ApplicationForm:
    form = forms.ApplicationForm(on=local_today())
    products = db.session.execute(
        sa.select(LoanProduct).where(LoanProduct.active.is_(True)).order_by(LoanProduct.name)
    ).scalars()
    form.product_id.choices = choice_list(
        (p.id, f"{p.name} ({forms.METHOD_LABELS[p.method]})") for p in products
    )
    return form


@bp.route("/apply/<int:member_id>", methods=["GET", "POST"])
@allow(A, T)
def apply(member_id: int):
    """The treasurer records a member's application; a board member decides on it."""
    member = db.get_or_404(Member, member_id)
    form = _application_form(member)
    if form.validate_on_submit():
        try:
            loan = applications.apply_for_loan(
                member,
                db.session.get(LoanProduct, form.product_id.data),
                amount=form.amount.data,
                months=form.months.data,
                purpose=form.purpose.data,
                on=form.on.data,
                today=local_today(),
                by=_user(),
            )
        except DomainError as error:
            db.session.rollback()
            form.amount.errors = [*form.amount.errors, error.message]
        else:
            db.session.commit()
            flash(_("The application %(number)s has been recorded.", number=loan.number), "success")
            return redirect(url_for("loans.show", loan_id=loan.id))
    status = REFUSED if form.is_submitted() else 200
    return render_template("loans/apply.html", form=form, member=member), status


# --- one loan -------------------------------------------------------------------------------


def _action_forms(loan: Loan, today: date) -> dict:
    version = loan.version
    key = idempotency.new_key()
    return {
        "decision": forms.DecisionForm(version=version, on=today),
        "disburse": forms.MoneyActionForm(version=version, on=today, form_key=key),
        "repay": forms.RepaymentForm(version=version, on=today, form_key=key),
        "payoff": forms.MoneyActionForm(version=version, on=today, form_key=key),
        "reschedule": forms.RescheduleForm(version=version, on=today),
        "write_off": forms.WriteOffForm(version=version, on=today, form_key=key),
    }


def _names_loan(loan: Loan):
    """Entries with a line naming the loan: its own screens' and the collection sheets'."""
    return (
        sa.select(JournalLine.id)
        .where(JournalLine.entry_id == JournalEntry.id, JournalLine.subaccount == loan.subaccount)
        .exists()
    )


def _loan_page(loan: Loan, status: int = 200, **overrides):
    today = local_today()
    position = position_of(loan, today) if loan.status == LoanStatus.ACTIVE else None
    entries = db.session.execute(
        sa.select(JournalEntry).where(_names_loan(loan)).order_by(JournalEntry.id)
    ).scalars()
    events = db.session.execute(
        sa.select(LoanEvent).where(LoanEvent.loan_id == loan.id).order_by(LoanEvent.id)
    ).scalars()
    page = render_template(
        "loans/show.html",
        loan=loan,
        position=position,
        schedule=position.installments if position else [],
        planned=schedule_of(loan, loan.schedule_version) if not position else [],
        payoff=services.payoff_quote(loan, today) if position else None,
        entries=list(entries),
        events=list(events),
        forms=_action_forms(loan, today) | overrides,
        today=today,
        **forms.labels(),
    )
    return page, status


@bp.get("/<int:loan_id>")
@allow(A, T, S, M)
def show(loan_id: int):
    """A loan: terms, schedule with what is paid, arrears and penalties today, history."""
    return _loan_page(_loan_or_404(loan_id))


def _act(loan: Loan, form, name: str, action, done: str):
    """Validate `form`, run `action()` (returns nothing) and commit; or show why not."""
    if not form.validate_on_submit():
        flash(_("Check the form: %(errors)s", errors=_first_error(form)), "danger")
        return _loan_page(loan, REFUSED, **{name: form})
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _loan_page(db.session.get(Loan, loan.id), REFUSED, **{name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("loans.show", loan_id=loan.id))


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            return f"{field.label.text}: {field.errors[0]}"
    return ""


@bp.post("/<int:loan_id>/approve")
@allow(A)
def approve(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.DecisionForm()
    return _act(
        loan,
        form,
        "decision",
        lambda: applications.approve_loan(
            loan,
            by=_user(),
            on=form.on.data,
            today=local_today(),
            note=form.note.data,
            expected_version=form.expected_version(),
        ),
        _("The loan has been approved."),
    )


@bp.post("/<int:loan_id>/reject")
@allow(A)
def reject(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.DecisionForm()
    return _act(
        loan,
        form,
        "decision",
        lambda: applications.reject_loan(
            loan,
            by=_user(),
            on=form.on.data,
            today=local_today(),
            note=form.note.data,
            expected_version=form.expected_version(),
        ),
        _("The application has been rejected."),
    )


@bp.post("/<int:loan_id>/reschedule")
@allow(A)
def reschedule(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.RescheduleForm()
    return _act(
        loan,
        form,
        "reschedule",
        lambda: measures.reschedule_loan(
            loan,
            on=form.on.data,
            months=form.months.data,
            reason=form.reason.data,
            today=local_today(),
            by=_user(),
            expected_version=form.expected_version(),
        ),
        _("The loan has a new schedule; the old one is kept."),
    )


def _money_act(loan: Loan, form, name: str, post):
    """A money action on a loan: posted once per form key, answered with its receipt."""
    if not form.validate_on_submit():
        flash(_("Check the form: %(errors)s", errors=_first_error(form)), "danger")
        return _loan_page(loan, REFUSED, **{name: form})

    def act() -> str:
        entry = post(f"form:{form.form_key.data}")
        return url_for("loans.receipt", loan_id=loan.id, entry_id=entry.id)

    try:
        return redirect(post_once(form.form_key.data, act))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _loan_page(db.session.get(Loan, loan.id), REFUSED, **{name: form})


@bp.post("/<int:loan_id>/disburse")
@allow(A, T)
def disburse(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.MoneyActionForm()
    return _money_act(
        loan,
        form,
        "disburse",
        lambda key: services.disburse_loan(
            loan,
            on=form.on.data,
            today=local_today(),
            by=_user(),
            key=key,
            expected_version=form.expected_version(),
        ),
    )


@bp.post("/<int:loan_id>/repay")
@allow(A, T)
def repay(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.RepaymentForm()
    return _money_act(
        loan,
        form,
        "repay",
        lambda key: services.repay_loan(
            loan,
            amount=form.amount.data,
            on=form.on.data,
            today=local_today(),
            by=_user(),
            key=key,
            expected_version=form.expected_version(),
        ),
    )


@bp.post("/<int:loan_id>/payoff")
@allow(A, T)
def pay_off(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.MoneyActionForm()
    return _money_act(
        loan,
        form,
        "payoff",
        lambda key: services.pay_off_loan(
            loan,
            on=form.on.data,
            today=local_today(),
            by=_user(),
            key=key,
            expected_version=form.expected_version(),
        ),
    )


@bp.post("/<int:loan_id>/write-off")
@allow(A)
def write_off(loan_id: int):
    loan = _loan_or_404(loan_id)
    form = forms.WriteOffForm()
    return _money_act(
        loan,
        form,
        "write_off",
        lambda key: measures.write_off_loan(
            loan,
            on=form.on.data,
            reason=form.reason.data,
            today=local_today(),
            by=_user(),
            key=key,
            expected_version=form.expected_version(),
        ),
    )


@bp.get("/<int:loan_id>/receipts/<int:entry_id>")
@allow(A, T, S, M)
def receipt(loan_id: int, entry_id: int):
    """A printable receipt of a disbursement or a repayment."""
    loan = _loan_or_404(loan_id)
    entry = db.get_or_404(JournalEntry, entry_id)
    named = sa.select(JournalEntry.id).where(JournalEntry.id == entry.id, _names_loan(loan))
    if db.session.execute(named).first() is None:
        abort(404)
    parts = {}
    for line in entry.lines:
        # The cash received is the total; cash paid out (a disbursement) is shown.
        if line.account.purpose and not (line.account.purpose == "cash" and line.side == "D"):
            parts[line.account.purpose] = parts.get(line.account.purpose, 0) + line.amount
    return render_template(
        "loans/receipt.html",
        loan=loan,
        entry=entry,
        parts=parts,
        position=position_of(loan, entry.entry_date),
    )
