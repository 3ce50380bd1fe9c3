"""The demo cooperative: deterministic data for trying the app, one user per role.

Each feature adds its own step to `seed_demo`: one to DEMO_STEPS for the demo of Wonosobo
(about 220 members), one to SCALE_STEPS for a district of any size (`--members`,
`--years`), which takes the size and writes its history in bulk. Data follow `--seed`;
passwords are random on every seeding and go only to instance/demo-logins.txt, which
`make run` prints.
"""

import gc
import random
from collections.abc import Callable
from contextlib import contextmanager

import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.passwords import temporary_password
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.demo_size import DemoSize
from coop_app.extensions import db
from coop_app.loans.demo import seed_loans
from coop_app.loans.demo_scale import seed_loans_at_scale
from coop_app.members.demo import seed_members
from coop_app.members.demo_scale import seed_members_at_scale
from coop_app.savings.demo import lock_demo_months, seed_savings
from coop_app.savings.demo_scale import lock_months_at_scale, seed_savings_at_scale

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


#: The district-scale steps, in order, each taking the generator and the size.
SCALE_STEPS: tuple[Callable[[random.Random, DemoSize], None], ...] = (
    seed_members_at_scale,
    seed_savings_at_scale,
    seed_loans_at_scale,
    lock_months_at_scale,
)


def seed_demo(*, seed: int, size: DemoSize | None = None) -> dict[str, str]:
    """Fill an empty database with the demo cooperative, or a district of `size`; return
    username -> password."""
    logins = {}
    for username, full_name, role in DEMO_USERS:
        password = temporary_password()
        create_user(username=username, full_name=full_name, role=role, password=password)
        logins[username] = password
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    if size is None:
        for step in DEMO_STEPS:
            step(rng)
        return logins
    with _large_page_cache(), _no_cycle_collection():
        for scale_step in SCALE_STEPS:
            scale_step(rng, size)
    return logins


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while a district is planned: millions of short-lived
    objects (lines, entries) made it rescan the long-lived ones (the batch's plan, the
    session's objects) over and over: a third of the time went there. They are freed by
    reference counting all the same; what cycles there are wait for the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: SQLite's page cache while a district is written, in KiB (its default is 2 MB).
DISTRICT_CACHE_KIB = 256 * 1024


@contextmanager
def _large_page_cache():
    """A larger SQLite page cache for this connection while a district is written: with the
    default 2 MB, each insert into the journal's indexes (hundreds of MB of them) reads
    pages back from the file. The connection's own size is put back afterwards."""
    if db.engine.dialect.name != "sqlite":
        yield
        return
    connection = db.session.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{DISTRICT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
