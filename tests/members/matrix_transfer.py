"""Member import and export in the role x route matrix (see tests/test_access.py)."""

from coop_app.auth.roles import Role

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER

#: An unknown token: the view runs (after the access check) and answers 404.
_NO_SUCH_IMPORT = "/members/import/no-such-token"

MEMBER_TRANSFER_ROUTES: dict = {
    "member_transfer.start_import": ("GET", "/members/import", (A, T), 200, 302),
    "member_transfer.start_import#post": ("POST", "/members/import", (A, T), 422, 302),
    "member_transfer.preview": ("GET", _NO_SUCH_IMPORT, (A, T), 404, 302),
    "member_transfer.confirm#post": ("POST", f"{_NO_SUCH_IMPORT}/confirm", (A, T), 404, 302),
    "member_transfer.template": ("GET", "/members/import/template.xlsx", (A, T), 200, 302),
    "member_transfer.export": ("GET", "/members/export.xlsx", (A, T, S), 200, 302),
}
