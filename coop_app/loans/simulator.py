"""The loan simulator: try a loan's terms, see the schedule of each method (writes nothing)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED
from coop_app.forms import BaseForm, DayField, RupiahField, choice_list
from coop_app.i18n import local_today
from coop_app.loans.forms import METHOD_LABELS, PercentField
from coop_app.loans.models import rate
from coop_app.loans.schedule import MAX_MONTHS, Installment, Method, build_schedule
from coop_app.loans.schedule import flat_effective_rate as effective_rate

bp = Blueprint("loan_simulator", __name__)

#: The largest loan the simulator computes (Rp 100 billion): beyond any member's loan.
MAX_PRINCIPAL = 100_000_000_000


class SimulatorForm(BaseForm):
    """The terms to try; sent by GET so that a result can be bookmarked or shared."""

    principal = RupiahField(
        _l("Loan amount (Rp)"), validators=[InputRequired()], min_value=1, max_value=MAX_PRINCIPAL
    )
    months = IntegerField(
        _l("Tenor (months)"), default=12, validators=[InputRequired(), NumberRange(1, MAX_MONTHS)]
    )
    rate = PercentField(_l("Interest per month (%)"), validators=[InputRequired()])
    method = SelectField(
        _l("Method"),
        default=Method.FLAT.value,
        choices=choice_list((method.value, METHOD_LABELS[method]) for method in Method),
    )
    rounding = IntegerField(
        _l("Round installments up to (Rp)"),
        default=100,
        validators=[InputRequired(), NumberRange(1, 100_000)],
    )
    start = DayField(_l("Disbursement date"), validators=[Optional()])


@dataclass(frozen=True)
class Outcome:
    """One method's schedule and its totals."""

    method: Method
    schedule: list[Installment]

    @property
    def interest(self) -> int:
        return sum(item.interest for item in self.schedule)

    @property
    def total(self) -> int:
        return sum(item.installment for item in self.schedule)


def percent(fraction: Decimal) -> str:
    """A rate as a percentage with two decimals in the user's language: `2,64 %`."""
    return format_decimal(fraction * 100, format="#,##0.00", locale=str(get_locale())) + " %"


def simulate(form: SimulatorForm, *, today: date) -> dict:
    """The three methods' schedules for the terms of a valid form, and a flat loan's cost."""
    terms = {
        "principal": form.principal.data,
        "months": form.months.data,
        "monthly_rate": rate(form.rate.data),
        "rounding": form.rounding.data,
    }
    start = form.start.data or today
    nominal = terms["monthly_rate"]
    outcomes = {m: Outcome(m, build_schedule(**terms, method=m, start=start)) for m in Method}
    monthly, yearly = effective_rate(**terms)
    return {
        "chosen": outcomes[Method(form.method.data)],
        "outcomes": list(outcomes.values()),
        "start": start,
        "flat_rate": {"monthly": percent(nominal), "yearly": percent(12 * nominal)},
        "effective": {"monthly": percent(monthly), "yearly": percent(yearly)},
    }


@bp.route("/", methods=["GET"])
@allow(Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER)
def index():
    """Try a loan: the schedule of the chosen method, totals, the three methods side by side
    and, for a flat loan, its effective rate. Nothing is written, so no CSRF token."""
    form = SimulatorForm(formdata=request.args or None, meta={"csrf": False})
    result, status = None, 200
    if request.args:
        if form.validate():
            try:
                result = simulate(form, today=local_today())
            except ValueError:  # the form's ranges are the schedule's, so only a backstop
                form.principal.errors.append(_("These terms cannot be calculated."))
        if result is None:
            status = REFUSED
    page = render_template(
        "loans/simulator.html", form=form, result=result, method_labels=METHOD_LABELS
    )
    return page, status
