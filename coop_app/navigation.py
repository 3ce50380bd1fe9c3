"""The menu (each page shown only to the roles its view allows) and display names of codes."""

from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from coop_app.auth.access import can_access
from coop_app.auth.roles import ROLE_LABELS, Role
from coop_app.members.forms import STATUS_LABELS
from coop_app.members.places import COUNTRY_LABELS, SECTOR_LABELS


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: str


#: Later features add their pages here; visibility comes from each view's declared roles.
MENU = (
    MenuItem("dashboard.index", _l("Home")),
    MenuItem("members.me", _l("My record")),
    MenuItem("members.index", _l("Members")),
    MenuItem("villages.index", _l("Villages")),
    MenuItem("savings.index", _l("Savings")),
    MenuItem("loans.index", _l("Loans")),
    MenuItem("books.trial_balance", _l("Books")),
    MenuItem("reports.funder_members", _l("Reports")),
    MenuItem("users.index", _l("Users")),
    MenuItem("audit.index", _l("Activity log")),
)

#: Buttons above the member list, each shown only to the roles its view allows.
MEMBER_LIST_ACTIONS = (
    MenuItem("member_transfer.start_import", _l("Import")),
    MenuItem("member_transfer.export", _l("Export to Excel")),
)


def _allowed(items) -> list[MenuItem]:
    return [item for item in items if can_access(item.endpoint)]


def menu_for_current_user() -> list[MenuItem]:
    """The menu of the current user's role, worked out once per role and app.

    Every page draws the menu and the views' policies never change while the app runs,
    so the answer per role is kept in the app (a cost of every request otherwise).
    """
    if not current_user.is_authenticated:
        return _allowed(MENU)
    menus = current_app.extensions.setdefault("coop_menus", {})
    role = current_user.role
    if role not in menus:
        menus[role] = _allowed(MENU)
    return menus[role]


def member_list_actions() -> list[tuple[str, str]]:
    return [(item.endpoint, item.label) for item in _allowed(MEMBER_LIST_ACTIONS)]


def status_badge(status: str) -> Markup:
    """A member's status as a coloured badge."""
    colour = {"active": "success", "candidate": "info", "resigned": "secondary"}.get(status, "dark")
    label = STATUS_LABELS.get(status, status)
    return Markup('<span class="badge text-bg-{}">{}</span>').format(colour, label)


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
        member_list_actions=member_list_actions,
        status_badge=status_badge,
        country_label=lambda country: COUNTRY_LABELS.get(country, country),
        sector_label=lambda sector: SECTOR_LABELS.get(sector, sector),
        role_label=lambda role: ROLE_LABELS[Role(role)],
        role_labels=lambda: [(role.value, label) for role, label in ROLE_LABELS.items()],
        outcome_label=lambda outcome: OUTCOME_LABELS.get(outcome, outcome),
        session_end_label=lambda reason: SESSION_END_LABELS.get(reason, reason),
    )
