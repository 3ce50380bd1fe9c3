"""The loan simulator in the role x route matrix (see tests/test_access.py)."""

from coop_app.auth.roles import Role

A, T, S, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER

LOAN_SIMULATOR_ROUTES = {
    "loan_simulator.index": ("GET", "/loans/simulator/", (A, T, S, M), 200, 302),
}

A_T = (A, Role.TREASURER)
OTHERS_RECORD = {M: 404}

#: {loan} is a running loan of the active member {active}; {loan_entry} its disbursement.
LOAN_ROUTES = {
    "loans.index": ("GET", "/loans/", (A, T, S), 200, 302),
    "loans.apply": ("GET", "/loans/apply/{active}", (A, T), 200, 302),
    "loans.apply#post": ("POST", "/loans/apply/{active}", (A, T), 422, 302),
    "loans.show": ("GET", "/loans/{loan}", (A, T, S, M), 200, 302, OTHERS_RECORD),
    "loans.approve#post": ("POST", "/loans/{loan}/approve", (A,), 422, 302),
    "loans.reject#post": ("POST", "/loans/{loan}/reject", (A,), 422, 302),
    "loans.reschedule#post": ("POST", "/loans/{loan}/reschedule", (A,), 422, 302),
    "loans.disburse#post": ("POST", "/loans/{loan}/disburse", (A, T), 422, 302),
    "loans.repay#post": ("POST", "/loans/{loan}/repay", (A, T), 422, 302),
    "loans.pay_off#post": ("POST", "/loans/{loan}/payoff", (A, T), 422, 302),
    "loans.write_off#post": ("POST", "/loans/{loan}/write-off", (A,), 422, 302),
    "loans.receipt": (
        "GET",
        "/loans/{loan}/receipts/{loan_entry}",
        (A, T, S, M),
        200,
        302,
        OTHERS_RECORD,
    ),
    "loan_products.index": ("GET", "/loans/products", (A, T, S), 200, 302),
    "loan_products.add#post": ("POST", "/loans/products", (A,), 422, 302),
}


def loan_records(member_id: int, on) -> dict:
    """A running loan of the member: recorded by a treasurer, approved by the board."""
    from coop_app.auth.services import create_user
    from coop_app.extensions import db
    from coop_app.loans import applications, services
    from coop_app.loans.products import add_loan_product
    from coop_app.members.models import Member
    from tests.loans.conftest import FLAT

    recorder, _ = create_user(
        username="matrix-t", full_name="T", role=Role.TREASURER, password="x-y-z-w-v-u-t-s"
    )
    chair, _ = create_user(username="matrix-a", full_name="A", role=A, password="x-y-z-w-v-u-t-s")
    product = add_loan_product(
        **FLAT
        | {
            "code": "PM",
            "ceiling": 10_000_000,
            "admin_fee_ppm": 0,
            "rounding": 100,
            "penalty_cap": None,
            "max_arrears_months": 12,
        }
    )
    member = db.session.get(Member, member_id)
    loan = applications.apply_for_loan(
        member,
        product,
        amount=1_000_000,
        months=10,
        purpose="Modal",
        on=on,
        today=on,
        by=recorder,
    )
    applications.approve_loan(
        loan, by=chair, on=on, today=on, note="", expected_version=loan.version
    )
    entry = services.disburse_loan(
        loan, on=on, today=on, by=recorder, key="matrix:loan", expected_version=loan.version
    )
    return {"loan": loan.id, "loan_entry": entry.id}
