"""The one-member page is built from sections that each feature registers.

The registry itself registers the member's details, status history, migrant profile and
login; savings, loans, purchases, products, training and SHU add theirs, so the
cooperative has one view of a member across all its units. A section is shown only to
the roles it names, so sensitive data never reach a page by accident.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from coop_app.auth.roles import Role
from coop_app.members.models import Member

STAFF = frozenset({Role.ADMIN, Role.TREASURER, Role.SUPERVISOR})


@dataclass(frozen=True)
class MemberSection:
    key: str
    title: object
    #: Template of the section's body, given `member` and what `context` returns.
    template: str
    roles: frozenset
    context: Callable[[Member], dict] = field(default=lambda member: {})


SECTIONS: list[MemberSection] = []


def register_section(section: MemberSection) -> None:
    if any(existing.key == section.key for existing in SECTIONS):
        raise ValueError(f"member section {section.key} registered twice")
    SECTIONS.append(section)


def sections_for(member: Member, role: str) -> list[tuple[MemberSection, dict]]:
    """The sections `role` may see, each with its template context."""
    return [(s, s.context(member)) for s in SECTIONS if role in s.roles]


register_section(
    MemberSection(
        "details",
        _l("Member details"),
        "members/sections/details.html",
        frozenset(Role),
    )
)
register_section(
    MemberSection("status", _l("Status history"), "members/sections/status.html", STAFF)
)
register_section(
    MemberSection("migrant", _l("Migrant profile"), "members/sections/migrant.html", STAFF)
)
register_section(MemberSection("login", _l("Login"), "members/sections/login.html", STAFF))
