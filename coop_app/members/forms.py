"""Forms of the member registry (shape only; the rules live in validation.py and services)."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from coop_app.forms import BaseForm, DayField, VersionedForm, choice_list
from coop_app.members.models import MemberStatus
from coop_app.members.places import COUNTRY_LABELS, SECTOR_LABELS

SEX_CHOICES = [("P", _l("Female (P)")), ("L", _l("Male (L)"))]
STATUS_LABELS = {
    MemberStatus.CANDIDATE: _l("Candidate"),
    MemberStatus.ACTIVE: _l("Active"),
    MemberStatus.RESIGNED: _l("Resigned"),
    MemberStatus.DECEASED: _l("Deceased"),
}


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class MemberForm(VersionedForm):
    number = StringField(
        _l("Member number"),
        validators=[Optional(), Length(max=20)],
        description=_l("Leave empty for the next number."),
    )
    nik = StringField(_l("NIK"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    sex = SelectField(_l("Sex"), choices=choice_list(SEX_CHOICES))
    birth_date = DayField(_l("Birth date"), validators=[InputRequired()])
    village_id = SelectField(_l("Village"), coerce=_optional_int, validators=[DataRequired()])
    group_id = SelectField(_l("Group"), coerce=_optional_int)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=25)])
    join_date = DayField(_l("Join date"), validators=[InputRequired()])
    heir = StringField(_l("Heir"), validators=[Optional(), Length(max=200)])


class StatusForm(VersionedForm):
    status = SelectField(_l("New status"))
    on = DayField(_l("Date"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=255)])


class ConsentForm(BaseForm):
    on = DayField(_l("Date of consent"), validators=[InputRequired()])


class ProfileForm(VersionedForm):
    return_date = DayField(_l("Return date"), validators=[Optional()])
    procedural = SelectField(
        _l("Left through official channels"),
        choices=choice_list([("", _l("Unknown")), ("yes", _l("Yes")), ("no", _l("No"))]),
    )
    placement_agency = StringField(_l("Placement agency"), validators=[Length(max=120)])
    family_abroad = IntegerField(
        _l("Family members still abroad"), validators=[Optional(), NumberRange(0, 50)]
    )
    business = StringField(_l("Business"), validators=[Length(max=255)])
    products = TextAreaField(_l("Products"), validators=[Length(max=255)])


class PlacementForm(BaseForm):
    country = SelectField(_l("Country"), choices=choice_list(COUNTRY_LABELS.items()))
    sector = SelectField(_l("Sector or job"), choices=choice_list(SECTOR_LABELS.items()))
    start_date = DayField(_l("From"), validators=[InputRequired()])
    end_date = DayField(_l("Until"), validators=[Optional()])


class ButtonForm(VersionedForm):
    """A one-button form on a versioned record (create a login, remove a placement)."""
