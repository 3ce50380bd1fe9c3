"""One import point for every feature's models (used by migrations and the CLI)."""

from coop_app.auth.models import AuditEvent, LoginSession, LoginThrottle, User
from coop_app.members.import_models import MemberImport
from coop_app.members.models import (
    Member,
    MemberNumberCounter,
    MemberStatusChange,
    MigrantProfile,
    Placement,
    Village,
    VillageGroup,
)

__all__ = [
    "AuditEvent",
    "LoginSession",
    "LoginThrottle",
    "Member",
    "MemberImport",
    "MemberNumberCounter",
    "MemberStatusChange",
    "MigrantProfile",
    "Placement",
    "User",
    "Village",
    "VillageGroup",
]
