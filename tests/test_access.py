"""Access control: every route declares a policy; a role x route matrix pins who gets what.

Adding a route without adding it to ROUTES makes `test_every_route_is_in_the_matrix` fail,
so a new page cannot ship without someone deciding who may use it.
"""

import re

import pytest

from coop_app import create_app
from coop_app.auth.access import PUBLIC, policy_of
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.config import config_for_tests
from coop_app.extensions import db
from coop_app.members.models import Village
from coop_app.members.services import register_member
from tests.helpers import PASSWORD, audit_rows, login, post
from tests.loans.matrix import LOAN_ROUTES, LOAN_SIMULATOR_ROUTES, loan_records
from tests.loans.matrix_reports import LOAN_REPORT_AUDITED_READS, LOAN_REPORT_ROUTES
from tests.members.conftest import TODAY, member_data
from tests.members.matrix import MEMBER_ROUTES
from tests.members.matrix_transfer import MEMBER_TRANSFER_ROUTES
from tests.reports.matrix import REPORT_ROUTES
from tests.savings.matrix import (
    BOOKS_ROUTES,
    ON,
    SAVINGS_AUDITED_READS,
    SAVINGS_ROUTES,
    savings_records,
)

ANON = "anonymous"
A, T, S, TR, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.TRAINER, Role.MEMBER
EVERYONE = (A, T, S, TR, M)

#: endpoint -> (method, path, roles allowed, status when allowed, status for anonymous).
#: A POST is sent with a valid CSRF token and an empty form: the allowed status is what
#: an empty form earns (422 = refused and re-shown), proving the view ran. Paths may use
#: {target} (a trainer's user id) and {member} (a member's id). Each feature keeps its
#: own part of the matrix beside its tests; they are merged below.
CORE_ROUTES = {
    "dashboard.index": ("GET", "/", EVERYONE, 200, 302),
    "auth.login": ("GET", "/auth/login", "public", 302, 200),
    "auth.login#post": ("POST", "/auth/login", "public", 302, 422),
    "auth.logout#post": ("POST", "/auth/logout", EVERYONE, 302, 302),
    "auth.change_password": ("GET", "/auth/password", EVERYONE, 200, 302),
    "auth.change_password#post": ("POST", "/auth/password", EVERYONE, 422, 302),
    "users.index": ("GET", "/admin/users/", (A, S), 200, 302),
    "users.create": ("GET", "/admin/users/new", (A,), 200, 302),
    "users.create#post": ("POST", "/admin/users/new", (A,), 422, 302),
    "users.show": ("GET", "/admin/users/{target}", (A, S), 200, 302),
    "users.update#post": ("POST", "/admin/users/{target}", (A,), 422, 302),
    "users.reset_password#post": ("POST", "/admin/users/{target}/reset-password", (A,), 422, 302),
    "users.set_active#post": ("POST", "/admin/users/{target}/active", (A,), 422, 302),
    "audit.index": ("GET", "/audit/", (A, S), 200, 302),
    "i18n.set_language#post": ("POST", "/i18n/language", "public", 302, 302),
    "health.check": ("GET", "/health/", "public", 200, 200),
    "static": ("GET", "/static/css/app.css", "public", 200, 200),
    "bootstrap.static": ("GET", "/bootstrap/static/css/bootstrap.min.css", "public", 200, 200),
}
ROUTES = (
    CORE_ROUTES
    | MEMBER_ROUTES
    | MEMBER_TRANSFER_ROUTES
    | REPORT_ROUTES
    | SAVINGS_ROUTES
    | BOOKS_ROUTES
    | LOAN_SIMULATOR_ROUTES
    | LOAN_ROUTES
    | LOAN_REPORT_ROUTES
)
#: GETs that hand out personal data in bulk, and so write an audit row like a change.
AUDITED_READS = {"member_transfer.export"} | SAVINGS_AUDITED_READS | LOAN_REPORT_AUDITED_READS


def _routes_app():
    return create_app(config_for_tests("sqlite://") | {"SECRET_KEY": "x"})


def test_every_route_declares_a_policy():
    app = _routes_app()
    with app.test_request_context():
        undeclared = [
            rule.endpoint for rule in app.url_map.iter_rules() if not policy_of(rule.endpoint)
        ]
    assert undeclared == []


def test_every_route_is_in_the_matrix():
    app = _routes_app()
    in_app = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            in_app.add(rule.endpoint if method == "GET" else f"{rule.endpoint}#post")
    assert in_app == set(ROUTES)


def test_matrix_policies_match_the_declarations():
    app = _routes_app()
    with app.test_request_context():
        for key, (_method, _path, roles, *_statuses) in ROUTES.items():
            policy = policy_of(key.split("#")[0])
            expected = PUBLIC if roles == "public" else frozenset(roles)
            assert policy == expected, key


def _cases():
    for key in ROUTES:
        for who in (ANON, *EVERYONE):
            yield pytest.param(key, who, id=f"{key}-{who}")


def _records(app, make_user) -> dict:
    """The records the matrix's paths point at: a trainer user, a member and a village."""
    target = make_user(Role.TRAINER, "target")
    with app.test_request_context(method="POST"):
        village = Village(name="Kalibeber")
        db.session.add(village)
        db.session.flush()
        member = register_member(member_data(village.id), today=TODAY, by=None)
        records = savings_records(village.id)
        records |= loan_records(records["active"], ON)
        db.session.commit()
        user_id = db.session.execute(db.select(User.id).where(User.username == target)).scalar()
        return {"target": user_id, "member": member.id, "village": village.id, **records}


@pytest.mark.parametrize(("key", "who"), list(_cases()))
def test_role_route_matrix(app, client, login_as, make_user, key, who):
    method, path, roles, ok_status, anon_status, *overrides = ROUTES[key]
    url = path.format(**_records(app, make_user))
    if who != ANON:
        login_as(who)
    before = len(audit_rows(app))
    if method == "GET":
        response = client.get(url)
    else:
        response = post(client, url, token_page="/auth/login" if who == ANON else "/auth/password")

    if who == ANON:
        expected = anon_status
    elif roles == "public" or who in roles:
        expected = (overrides[0] if overrides else {}).get(who, ok_status)
    else:
        expected = 403
    assert response.status_code == expected
    if who == ANON and expected == 302 and roles != "public":
        assert response.headers["Location"].startswith("/auth/login")

    rows = audit_rows(app)[before:]
    denied = expected == 403 or (who == ANON and roles != "public")
    if method == "POST" or denied or key in AUDITED_READS:
        assert len(rows) == 1, "every POST and every denied access writes exactly one audit row"
        assert (rows[0].outcome, rows[0].path) == (
            _expected_outcome(key, who, expected, denied),
            url,
        )
    else:
        assert rows == []


def _expected_outcome(key: str, who, status: int, denied: bool) -> str:
    if denied:
        return "denied"
    if key == "auth.login#post" and who != ANON:
        return "failure"  # already logged in: nothing happened
    return "failure" if status >= 400 else "success"


def test_a_view_without_a_declared_policy_is_refused_to_everyone(make_app):
    app = make_app()

    def forgotten():
        return "should never be served"

    app.add_url_rule("/forgotten", "forgotten", forgotten)
    anonymous = app.test_client()
    assert anonymous.get("/forgotten").headers["Location"].startswith("/auth/login")
    admin = app.test_client()
    with app.app_context():
        create_user(username="ketua", full_name="K", role=A, password=PASSWORD)
        db.session.commit()
    login(admin, "ketua")
    response = admin.get("/forgotten")
    assert response.status_code == 403
    assert "should never be served" not in response.get_data(as_text=True)


POST_ROUTES = [key for key, route in ROUTES.items() if route[0] == "POST"]


@pytest.mark.parametrize("key", POST_ROUTES)
def test_every_post_refuses_a_missing_csrf_token_and_changes_nothing(app, client, login_as, key):
    path = ROUTES[key][1]
    login_as(A, "ketua")
    url = path.format(
        target=1, member=1, village=1, account=1, entry=1, group=1, active=1, loan=1, loan_entry=1
    )
    before = len(audit_rows(app))
    response = client.post(url, data={"lang": "en", "version": "1", "full_name": "X"})
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa atau tidak valid" in response.get_data(as_text=True)
    (row,) = audit_rows(app)[before:]
    assert (row.status_code, row.outcome) == (400, "failure")
    assert client.get("/").status_code == 200, "still logged in, nothing changed"
    with app.app_context():
        user = db.session.get(User, 1)
        assert (user.full_name, user.version, user.active) == ("Test admin", 1, True)


#: The menu each role sees (labels in Indonesian, in order).
MENUS = {
    A: [
        "Beranda",
        "Anggota",
        "Desa",
        "Simpanan",
        "Pinjaman",
        "Pembukuan",
        "Laporan",
        "Pengguna",
        "Catatan aktivitas",
    ],
    T: ["Beranda", "Anggota", "Desa", "Simpanan", "Pinjaman", "Pembukuan", "Laporan"],
    S: [
        "Beranda",
        "Anggota",
        "Desa",
        "Simpanan",
        "Pinjaman",
        "Pembukuan",
        "Laporan",
        "Pengguna",
        "Catatan aktivitas",
    ],
    TR: ["Beranda", "Anggota"],
    M: ["Beranda", "Data saya"],
}


@pytest.mark.parametrize("role", EVERYONE)
def test_each_role_sees_only_its_own_menu(client, login_as, role):
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    menu = page.split('<ul class="navbar-nav me-auto">')[1].split("</ul>")[0]
    assert re.findall(r">([^<>]+)</a>", menu) == MENUS[role]
