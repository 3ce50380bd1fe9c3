"""Forms of the books: reverse an entry, close a month, add an account."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from coop_app.forms import BaseForm, DayField, choice_list
from coop_app.ledger.models import AccountKind, Unit

UNIT_LABELS = {
    Unit.SAVINGS_LOANS: _l("Savings and loans"),
    Unit.PROCUREMENT: _l("Procurement"),
    Unit.MARKETING: _l("Marketing"),
    Unit.GENERAL: _l("General"),
}

KIND_LABELS = {
    AccountKind.ASSET: _l("Asset"),
    AccountKind.LIABILITY: _l("Liability"),
    AccountKind.EQUITY: _l("Equity"),
    AccountKind.INCOME: _l("Income"),
    AccountKind.EXPENSE: _l("Expense"),
}


class ReverseForm(BaseForm):
    on = DayField(_l("Date of the reversal"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=255)])


class LockForm(BaseForm):
    month = SelectField(_l("Month"), validators=[InputRequired()])


class AccountForm(BaseForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=10)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(
        _l("Kind"), choices=choice_list((k.value, label) for k, label in KIND_LABELS.items())
    )
    unit = SelectField(
        _l("Business unit"),
        choices=choice_list(
            [("", _l("All units"))] + [(u.value, label) for u, label in UNIT_LABELS.items()]
        ),
    )
