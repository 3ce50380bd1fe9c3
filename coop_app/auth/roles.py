"""The five roles of the cooperative and their display names."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    """A user's role; each view declares which of these may use it."""

    ADMIN = "admin"
    TREASURER = "treasurer"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    MEMBER = "member"


ROLE_LABELS = {
    Role.ADMIN: _l("Board (administrator)"),
    Role.TREASURER: _l("Treasurer"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.TRAINER: _l("Trainer"),
    Role.MEMBER: _l("Member"),
}

ROLE_DUTIES = {
    Role.ADMIN: _l("You run the cooperative: manage users, approve and set the rules."),
    Role.TREASURER: _l("You record the cooperative's money: deposits, withdrawals and payments."),
    Role.SUPERVISOR: _l("You oversee everything, read-only, including the activity log."),
    Role.TRAINER: _l("You run training sessions and record attendance."),
    Role.MEMBER: _l("You can check your own savings, loans and activity."),
}

STAFF_ROLES = frozenset({Role.ADMIN, Role.TREASURER, Role.SUPERVISOR})
ALL_ROLES = frozenset(Role)
