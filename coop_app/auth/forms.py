"""Forms for logging in, changing one's password and managing users."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from coop_app.auth.passwords import MAX_LENGTH
from coop_app.auth.roles import ROLE_LABELS
from coop_app.forms import BaseForm, VersionedForm, choice_list


def _role_choices():
    return choice_list((role.value, label) for role, label in ROLE_LABELS.items())


class LoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    # The username is not checked for shape here: a wrong one gets the same answer as a
    # wrong password (no hint about which usernames exist).
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])


class ChangePasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters. A sentence of a few words is easy to remember."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class UserCreateForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=64)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=_role_choices)


class UserEditForm(VersionedForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=_role_choices)


class UserActionForm(VersionedForm):
    """A button that acts on a user (reset password, deactivate, activate)."""
