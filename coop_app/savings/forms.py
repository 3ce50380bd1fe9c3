"""Forms of savings: deposit or withdraw, the exit settlement, variant products, accounts."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from coop_app.forms import BaseForm, DayField, RupiahField

#: One billion rupiah: more than any single savings movement of a village cooperative;
#: a larger figure is a typing slip (an extra zero or two), refused with a message.
MAX_TRANSACTION = 1_000_000_000

KIND_LABELS = {
    "principal": _l("Principal savings"),
    "mandatory": _l("Mandatory savings"),
    "voluntary": _l("Voluntary savings"),
}


class MoneyForm(BaseForm):
    """A deposit or a withdrawal; `form_key` makes a second sending harmless."""

    amount = RupiahField(
        _l("Amount (Rp)"), validators=[InputRequired()], min_value=1, max_value=MAX_TRANSACTION
    )
    on = DayField(_l("Date"), validators=[InputRequired()])
    form_key = HiddenField()


class ExitForm(BaseForm):
    on = DayField(_l("Date of payment"), validators=[InputRequired()])
    form_key = HiddenField()


class ProductForm(BaseForm):
    """An admin-defined voluntary savings product, e.g. remittance savings with a target."""

    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    account_id = SelectField(_l("Ledger account"), coerce=int)
    target = RupiahField(_l("Savings target (Rp)"), validators=[Optional()], min_value=1)
    lock_months = IntegerField(
        _l("Locked for (months)"), default=0, validators=[Optional(), NumberRange(0, 120)]
    )


class OpenAccountForm(BaseForm):
    product_id = SelectField(_l("Savings product"), coerce=int)
