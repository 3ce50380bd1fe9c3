"""Shared form pieces: a base form with Indonesian WTForms messages, RupiahField, DayField."""

import re
from datetime import date, datetime
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from flask import request
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from coop_app.i18n import format_rupiah

#: Rp 10 trillion: above any amount a cooperative records; larger input is a typing slip.
MAX_RUPIAH = 10**13


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it here."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for the catalogue without translating it here."""
    return singular, plural


#: WTForms' own messages (it ships no Indonesian), listed so that extraction finds them.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Not a valid integer value."),
    N_("Invalid input."),
    N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_plural(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    N_plural(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
)


#: The largest id a database key holds on both SQLite and PostgreSQL (a 32-bit INTEGER).
MAX_ID = 2**31 - 1


def id_arg(name: str) -> int | None:
    """A record id from the query string, or None when absent, malformed or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def choice_list(pairs) -> list[SelectChoice]:
    """Options of a SelectField from (value, label) pairs (WTForms drops tuples in 3.4)."""
    return [SelectChoice(value, label) for value, label in pairs]


class _CatalogueTranslations:
    """Translate WTForms' messages through the app's catalogue (WTForms formats them)."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class BaseForm(FlaskForm):
    """Every form of the app: CSRF protected, with messages in the user's language."""

    class Meta:
        def get_translations(self, form):
            return _CatalogueTranslations()


class VersionedForm(BaseForm):
    """A form that edits a record with a version column (stale edits are refused)."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class RupiahError(ValueError):
    """Text that is not an unambiguous whole, non-negative number of rupiah."""


_RUPIAH_PREFIX = re.compile(r"^\s*rp\.?\s*", re.IGNORECASE)
_RUPIAH_CHARS = re.compile(r"^[0-9.,]+$")


def parse_rupiah(text: str) -> int:
    """Parse what people type: `1.250.000`, `Rp 1.250.000`, `Rp1.250.000,00` or `1250000`.

    Dots group thousands and a comma starts decimals (Indonesian style). Fractions,
    negatives and ambiguous groupings such as `1.25` or `1,250,000` are refused.
    """
    cleaned = _RUPIAH_PREFIX.sub("", text.strip()).replace(" ", "")
    if not cleaned:
        raise RupiahError(_("Enter an amount."))
    if cleaned[0] in "-−(":
        raise RupiahError(_("The amount cannot be negative."))
    if not _RUPIAH_CHARS.match(cleaned):
        raise RupiahError(_("Write the amount with digits only, for example 1.250.000."))
    try:
        value = parse_decimal(cleaned, locale="id", strict=True)
    except NumberFormatError:
        raise RupiahError(_("The amount is ambiguous. Write it as 1.250.000 or 1250000.")) from None
    if value != value.to_integral_value():
        raise RupiahError(_("Rupiah amounts must be whole numbers, without cents."))
    return int(Decimal(value))


class RupiahField(StringField):
    """A whole-rupiah amount typed the Indonesian way; `data` is an int or None."""

    def __init__(self, label=None, validators=None, *, min_value=0, max_value=MAX_RUPIAH, **kw):
        super().__init__(label, validators, **kw)
        self.min_value = min_value
        self.max_value = max_value
        self.raw_text = ""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_rupiah(valuelist[0])
        except RupiahError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data < self.min_value:
            minimum = format_rupiah(self.min_value)
            raise ValidationError(_("The amount must be at least %(min)s.", min=minimum))
        if self.data > self.max_value:
            maximum = format_rupiah(self.max_value)
            raise ValidationError(_("The amount is too large (at most %(max)s).", max=maximum))

    def _value(self):
        if self.data is not None:
            return format_rupiah(self.data, symbol=False)
        return getattr(self, "raw_text", "")


def parse_day(text: str) -> date:
    """Parse `17/03/2025` (also `17-03-2025` and the ISO `2025-03-17` of date pickers)."""
    cleaned = text.strip()
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("Not a valid date. Write it like 17/03/2025."))


class DayField(StringField):
    """A date typed as dd/mm/yyyy; impossible dates such as 31/02 are refused.

    Require it with InputRequired, not DataRequired: the latter would replace the
    "not a valid date" message with "required".
    """

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw_text.strip():
            self.data = parse_day(self.raw_text)

    def _value(self):
        if self.data is not None:
            return self.data.strftime("%d/%m/%Y")
        return getattr(self, "raw_text", "")
