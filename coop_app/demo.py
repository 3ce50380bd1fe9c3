"""The demo cooperative: deterministic data for trying the app, one user per role.

Each feature adds its own step to `seed_demo`. Data follow `--seed`; passwords are random
on every seeding and go only to instance/demo-logins.txt, which `make run` prints.
"""

import random
from collections.abc import Callable

import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.passwords import temporary_password
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.extensions import db
from coop_app.loans.demo import seed_loans
from coop_app.members.demo import seed_members
from coop_app.savings.demo import lock_demo_months, seed_savings

#: username, full name, role: the board chair, treasurer, supervisor, trainer and a member.
DEMO_USERS = (
    ("ketua", "Siti Rahayu", Role.ADMIN),
    ("bendahara", "Sri Wahyuni", Role.TREASURER),
    ("pengawas", "Bambang Sutrisno", Role.SUPERVISOR),
    ("pelatih", "Dewi Lestari", Role.TRAINER),
    ("anggota", "Tuti Handayani", Role.MEMBER),
)


def database_is_empty() -> bool:
    return db.session.execute(sa.select(User.id).limit(1)).first() is None


#: Feature steps, run in order with one random generator so that `--seed` fixes the data.
DEMO_STEPS: tuple[Callable[[random.Random], None], ...] = (
    seed_members,
    seed_savings,
    seed_loans,
    lock_demo_months,
)


def seed_demo(*, seed: int) -> dict[str, str]:
    """Fill an empty database with the demo cooperative; return username -> password."""
    logins = {}
    for username, full_name, role in DEMO_USERS:
        password = temporary_password()
        create_user(username=username, full_name=full_name, role=role, password=password)
        logins[username] = password
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    for step in DEMO_STEPS:
        step(rng)
    return logins
