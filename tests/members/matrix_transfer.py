"""Member import and export in the role x route matrix (see tests/test_access.py)."""

from coop_app.auth.roles import Role

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER

MEMBER_TRANSFER_ROUTES: dict = {}
