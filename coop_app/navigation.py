"""The menu (each page shown only to the roles its view allows) and display names of codes."""

from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext as _l

from coop_app.auth.access import can_access
from coop_app.auth.roles import ROLE_LABELS, Role


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: str


#: Later features add their pages here; visibility comes from each view's declared roles.
MENU = (
    MenuItem("dashboard.index", _l("Home")),
    MenuItem("users.index", _l("Users")),
    MenuItem("audit.index", _l("Activity log")),
)


def menu_for_current_user() -> list[MenuItem]:
    return [item for item in MENU if can_access(item.endpoint)]


OUTCOME_LABELS = {
    "success": _l("Succeeded"),
    "failure": _l("Refused"),
    "denied": _l("Access denied"),
    "error": _l("Error"),
}

SESSION_END_LABELS = {
    "logout": _l("logged out"),
    "idle": _l("ended after inactivity"),
    "password_change": _l("ended by a password change"),
    "password_reset": _l("ended by a password reset"),
    "deactivated": _l("ended by deactivation"),
}


def init_app(app: Flask) -> None:
    """Make the menu and the display names of codes available to every template."""
    app.jinja_env.globals.update(
        menu_for_current_user=menu_for_current_user,
        role_label=lambda role: ROLE_LABELS[Role(role)],
        role_labels=lambda: [(role.value, label) for role, label in ROLE_LABELS.items()],
        outcome_label=lambda outcome: OUTCOME_LABELS.get(outcome, outcome),
        session_end_label=lambda reason: SESSION_END_LABELS.get(reason, reason),
    )
