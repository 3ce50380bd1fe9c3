"""Forms of loans: products, applications, decisions, disbursement, repayments, measures."""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from coop_app.forms import BaseForm, DayField, RupiahField, VersionedForm, choice_list
from coop_app.loans.models import PPM, EarlyPayoff, LoanMethod, Overpayment, PenaltyKind

METHOD_LABELS = {
    LoanMethod.FLAT: _l("Flat"),
    LoanMethod.DECLINING: _l("Declining balance"),
    LoanMethod.ANNUITY: _l("Annuity"),
}
STATUS_LABELS = {
    "applied": _l("Applied"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "active": _l("Running"),
    "closed": _l("Paid off"),
    "written_off": _l("Written off"),
}
PENALTY_LABELS = {
    PenaltyKind.PERCENT: _l("Percent of the overdue amount per day"),
    PenaltyKind.FIXED: _l("Fixed amount per day"),
}
PAYOFF_LABELS = {
    EarlyPayoff.PRINCIPAL: _l("Remaining principal only"),
    EarlyPayoff.CURRENT_INTEREST: _l("Remaining principal and this month's interest"),
    EarlyPayoff.ALL_INTEREST: _l("All remaining installments"),
}
OVERPAYMENT_LABELS = {
    Overpayment.REFUSE: _l("Refuse it"),
    Overpayment.SAVINGS: _l("Put it into voluntary savings"),
}
ORDER_LABELS = {
    "penalty,interest,principal": _l("Penalty, interest, principal"),
    "interest,principal,penalty": _l("Interest, principal, penalty"),
    "interest,penalty,principal": _l("Interest, penalty, principal"),
}


def labels() -> dict:
    """The labels the loan screens show for a loan's status, method and early payoff."""
    return {
        "status_labels": STATUS_LABELS,
        "method_labels": METHOD_LABELS,
        "payoff_labels": PAYOFF_LABELS,
    }


class PercentField(StringField):
    """A percentage typed as `1,5` or `1.5`; `data` is parts per million (15000)."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        text = self.raw_text.strip().replace("%", "").replace(",", ".")
        if not text:
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Write a percentage such as 1,5.")) from None
        if not value.is_finite() or value < 0 or value >= 100:
            raise ValueError(_("Write a percentage from 0 to below 100."))
        ppm = value * PPM / 100
        if ppm != ppm.to_integral_value():
            raise ValueError(_("At most four decimals, please."))
        self.data = int(ppm)

    def _value(self):
        if self.data is not None:
            return f"{Decimal(self.data) * 100 / PPM:f}".rstrip("0").rstrip(".").replace(".", ",")
        return getattr(self, "raw_text", "")


def _choices(labels: dict):
    return choice_list((str(key), label) for key, label in labels.items())


class ProductForm(BaseForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    method = SelectField(_l("Method"), choices=_choices(METHOD_LABELS))
    rate = PercentField(_l("Interest per month (%)"), validators=[InputRequired()])
    min_months = IntegerField(
        _l("Shortest tenor (months)"), validators=[InputRequired(), NumberRange(1, 360)]
    )
    max_months = IntegerField(
        _l("Longest tenor (months)"), validators=[InputRequired(), NumberRange(1, 360)]
    )
    ceiling = RupiahField(_l("Largest loan (Rp)"), validators=[InputRequired()], min_value=1)
    admin_fee = PercentField(_l("Admin fee (percent of the loan)"), validators=[Optional()])
    savings = PercentField(_l("Savings deducted (percent of the loan)"), validators=[Optional()])
    rounding = IntegerField(
        _l("Round installments up to (Rp)"),
        default=100,
        validators=[InputRequired(), NumberRange(1, 100_000)],
    )
    penalty_kind = SelectField(_l("Late penalty"), choices=_choices(PENALTY_LABELS))
    penalty_rate = PercentField(_l("Penalty per day (%)"), validators=[Optional()])
    penalty_per_day = RupiahField(_l("Penalty per day (Rp)"), validators=[Optional()])
    grace_days = IntegerField(
        _l("Grace days"), default=0, validators=[Optional(), NumberRange(0, 90)]
    )
    penalty_cap = RupiahField(
        _l("Most penalty per installment (Rp)"), validators=[Optional()], min_value=1
    )
    early_payoff = SelectField(_l("Early payoff costs"), choices=_choices(PAYOFF_LABELS))
    allocation_order = SelectField(_l("A payment pays"), choices=_choices(ORDER_LABELS))
    overpayment = SelectField(_l("Paying more than owed"), choices=_choices(OVERPAYMENT_LABELS))
    max_arrears_months = IntegerField(
        _l("Most months of mandatory-savings arrears"),
        default=3,
        validators=[InputRequired(), NumberRange(0, 120)],
    )
    max_open_loans = IntegerField(
        _l("Open loans a member may have"),
        default=1,
        validators=[InputRequired(), NumberRange(1, 10)],
    )


class ApplicationForm(BaseForm):
    product_id = SelectField(_l("Loan product"), coerce=int)
    amount = RupiahField(_l("Amount (Rp)"), validators=[InputRequired()], min_value=1)
    months = IntegerField(_l("Tenor (months)"), validators=[InputRequired(), NumberRange(1, 360)])
    purpose = StringField(_l("Purpose"), validators=[InputRequired(), Length(max=255)])
    on = DayField(_l("Date of application"), validators=[InputRequired()])


class DecisionForm(VersionedForm):
    on = DayField(_l("Date"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Length(max=255)])


class MoneyActionForm(VersionedForm):
    """Disbursement or payoff: a date and a one-time key."""

    on = DayField(_l("Date"), validators=[InputRequired()])
    form_key = HiddenField()


class RepaymentForm(MoneyActionForm):
    amount = RupiahField(
        _l("Amount paid (Rp)"), validators=[InputRequired()], min_value=1, max_value=1_000_000_000
    )


class RescheduleForm(VersionedForm):
    on = DayField(_l("New schedule starts"), validators=[InputRequired()])
    months = IntegerField(
        _l("New tenor (months)"), validators=[InputRequired(), NumberRange(1, 360)]
    )
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=255)])


class WriteOffForm(MoneyActionForm):
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=255)])
