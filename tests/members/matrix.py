"""The member registry's screens in the role x route matrix (see tests/test_access.py).

{member} is a member without a login; {village} is that member's village. A member user
may open member pages, but only their own: for this other member they get 404.
"""

from coop_app.auth.roles import Role

A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER
OTHERS_RECORD = {M: 404}

MEMBER_ROUTES: dict = {
    "members.index": ("GET", "/members/", (A, T, S, TR), 200, 302),
    "members.create": ("GET", "/members/new", (A, T), 200, 302),
    "members.create#post": ("POST", "/members/new", (A, T), 422, 302),
    "members.show": ("GET", "/members/{member}", (A, T, S, TR, M), 200, 302, OTHERS_RECORD),
    "members.me": ("GET", "/members/me", (M,), 302, 302),
    "members.edit": ("GET", "/members/{member}/edit", (A, T), 200, 302),
    "members.edit#post": ("POST", "/members/{member}/edit", (A, T), 422, 302),
    "members.change_status": ("GET", "/members/{member}/status", (A, T), 200, 302),
    "members.change_status#post": ("POST", "/members/{member}/status", (A, T), 422, 302),
    "members.record_consent#post": ("POST", "/members/{member}/consent", (A, T), 422, 302),
    "members.edit_profile": ("GET", "/members/{member}/profile", (A, T), 302, 302),
    "members.edit_profile#post": ("POST", "/members/{member}/profile", (A, T), 302, 302),
    "members.add_placement#post": ("POST", "/members/{member}/placements", (A, T), 302, 302),
    "members.remove_placement#post": (
        "POST",
        "/members/{member}/placements/999/remove",
        (A, T),
        302,
        302,
    ),
    "members.create_login#post": ("POST", "/members/{member}/login", (A, T), 200, 302),
    "villages.index": ("GET", "/villages/", (A, T, S), 200, 302),
    "villages.add_village#post": ("POST", "/villages/", (A,), 422, 302),
    "villages.add_group#post": ("POST", "/villages/groups", (A,), 422, 302),
    "villages.toggle_active#post": ("POST", "/villages/{village}/active", (A,), 302, 302),
}
