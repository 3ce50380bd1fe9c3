"""The reports' pages in the role x route matrix (see tests/test_access.py)."""

from coop_app.auth.roles import Role

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER

REPORT_ROUTES = {
    "reports.funder_members": ("GET", "/reports/members", (A, T, S), 200, 302),
}
