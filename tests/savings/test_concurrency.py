"""No overdraft, no lost update under concurrency: several processes (as several gunicorn
workers would) withdraw from one voluntary account at the same moment, on a SQLite file and
PostgreSQL; and checks made before an update are not overtaken by another worker."""

import multiprocessing
import re
import threading

import sqlalchemy as sa
from flask_babel import force_locale

from coop_app import create_app
from coop_app.auth.models import User
from coop_app.config import config_for_tests
from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountBalance, JournalEntry, JournalLine
from coop_app.members.models import Member, MemberStatus
from coop_app.members.services import change_status
from coop_app.savings import services
from coop_app.savings.models import SavingsAccount, SavingsKind
from coop_app.savings.queries import passbook
from tests.helpers import only_postgres, wait_until_a_query_waits_for_a_lock
from tests.savings.conftest import JOINED, TODAY, account_of

WORKERS = 8
OPENING = 100_000
AMOUNT = 30_000
#: 100.000 affords three withdrawals of 30.000, leaving 10.000.
AFFORDABLE, LEFT = 3, 10_000
#: What a refused member is told (the pre-check, or the conditional UPDATE that lost the race).
REFUSALS = re.compile(r"^(The savings balance is not enough for this\.|The balance is Rp .+)$")


def withdraw_in_a_worker(uri, instance, account_id, number, barrier, results) -> None:
    """Run in a process of its own: build an app, wait for the others, withdraw once."""
    app = create_app(config_for_tests(uri) | {"INSTANCE_PATH": instance})
    outcome = ("error", "did not run")
    try:
        with app.test_request_context(method="POST"), force_locale("en"):
            barrier.wait(timeout=120)
            try:
                account = db.session.get(SavingsAccount, account_id)
                services.withdraw(
                    account,
                    amount=AMOUNT,
                    on=TODAY,
                    today=TODAY,
                    by=None,
                    key=f"withdrawal-worker-{number}",
                )
                db.session.commit()
                outcome = ("withdrawn", "")
            except services.SavingsError as error:
                db.session.rollback()
                outcome = ("refused", error.message)
            except Exception as error:  # e.g. "database is locked": reported to the test
                db.session.rollback()
                outcome = ("error", f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        results.put((number, *outcome))


def test_concurrent_withdrawals_never_overdraw(ctx, make_member, database_uri, tmp_path):
    account = account_of(make_member(), SavingsKind.VOLUNTARY)
    account_id = account.id
    services.deposit(account, amount=OPENING, on=JOINED, today=TODAY, by=None, key="opening")
    db.session.commit()
    db.session.close()  # hold no connection (and no SQLite lock) while the workers run

    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(WORKERS), spawn.Queue()
    workers = [
        spawn.Process(
            target=withdraw_in_a_worker,
            args=(database_uri, str(tmp_path / "instance"), account_id, n, barrier, results),
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS

    kinds = sorted(kind for _, kind, _ in outcomes)
    assert kinds == ["refused"] * (WORKERS - AFFORDABLE) + ["withdrawn"] * AFFORDABLE, outcomes
    for _, kind, message in outcomes:
        assert "locked" not in message
        if kind == "refused":
            assert REFUSALS.match(message), message

    account = db.session.get(SavingsAccount, account_id)
    assert account.balance == LEFT
    signed = sa.case((JournalLine.side == "C", JournalLine.amount), else_=-JournalLine.amount)
    from_lines = db.session.execute(
        sa.select(sa.func.sum(signed)).where(JournalLine.subaccount == account.subaccount)
    ).scalar()
    assert from_lines == LEFT
    # The balance after every movement, in order, was never below zero.
    assert [row.balance for row in passbook(account)] == [100_000, 70_000, 40_000, 10_000]
    withdrawals = sa.select(sa.func.count()).where(JournalEntry.source == "savings.withdrawal")
    assert db.session.execute(withdrawals).scalar() == AFFORDABLE
    cached = dict(
        db.session.execute(
            sa.select(Account.purpose, AccountBalance.balance)
            .join(AccountBalance, AccountBalance.account_id == Account.id)
            .where(Account.purpose.in_(["cash", "savings_voluntary"]))
        ).all()
    )
    assert cached == {"cash": LEFT, "savings_voluntary": -LEFT}


# --- checks made before a conditional UPDATE must not go stale (PostgreSQL) --------------
# SQLite runs write transactions one at a time (BEGIN IMMEDIATE); PostgreSQL runs them side
# by side, so a check that reads a balance can be overtaken by another worker's commit.
# Each test below makes the overtaking certain: the first worker holds its transaction
# open until the second is seen waiting for a lock, then commits.


def in_other_worker(app, action) -> tuple[threading.Thread, list]:
    """Run `action` in a thread with its own app and POST request; returns its outcome list."""
    outcome: list = []

    def run() -> None:
        with app.test_request_context(method="POST"), force_locale("en"):
            try:
                outcome.append(action())
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                outcome.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@only_postgres
def test_two_principal_payments_at_once_cannot_pass_the_total(ctx, make_app, make_member):
    """Principal savings are 100.000 in all: two payments of 60.000 sent at the same moment
    by two treasurers must not both be accepted."""
    account_id = account_of(make_member(), SavingsKind.PRINCIPAL).id
    db.session.commit()

    def pay(key):
        account = db.session.get(SavingsAccount, account_id)
        return services.deposit(account, amount=60_000, on=TODAY, today=TODAY, by=None, key=key)

    pay("principal-first")  # not committed yet: the row stays locked
    thread, outcome = in_other_worker(make_app(), lambda: pay("principal-second"))
    wait_until_a_query_waits_for_a_lock(ctx)
    db.session.commit()
    thread.join()

    (second,) = outcome
    assert isinstance(second, services.SavingsError), second
    assert "still to be paid" in second.message
    assert db.session.get(SavingsAccount, account_id).balance == 60_000


@only_postgres
def test_a_deposit_during_the_exit_settlement_is_paid_out_too(
    ctx, make_app, make_member, treasurer
):
    """A deposit committed while the settlement is being posted must not be left behind in a
    closed account: the settlement pays out what is there when it locks the accounts."""
    member = make_member()
    voluntary_id = account_of(member, SavingsKind.VOLUNTARY).id
    services.deposit(
        account_of(member, SavingsKind.VOLUNTARY),
        amount=50_000,
        on=TODAY,
        today=TODAY,
        by=None,
        key="before-exit",
    )
    member_id, treasurer_id = member.id, treasurer.id
    db.session.commit()

    services.deposit(
        db.session.get(SavingsAccount, voluntary_id),
        amount=10_000,
        on=TODAY,
        today=TODAY,
        by=None,
        key="during-exit",
    )  # not committed yet

    def resign_and_settle():
        leaving, by = db.session.get(Member, member_id), db.session.get(User, treasurer_id)
        change_status(
            leaving,
            to=MemberStatus.RESIGNED,
            on=TODAY,
            reason="Pindah ke luar kota",
            today=TODAY,
            by=by,
            expected_version=leaving.version,
        )
        return services.settle_exit(leaving, on=TODAY, today=TODAY, by=by, key="exit").id

    thread, outcome = in_other_worker(make_app(), resign_and_settle)
    wait_until_a_query_waits_for_a_lock(ctx)
    db.session.commit()
    thread.join()

    (settlement_id,) = outcome
    assert isinstance(settlement_id, int), settlement_id
    account = db.session.get(SavingsAccount, voluntary_id)
    assert (account.balance, account.closed_on) == (0, TODAY)
    paid = db.session.execute(
        sa.select(JournalLine.amount)
        .join(Account)
        .where(JournalLine.entry_id == settlement_id, Account.purpose == "cash")
    ).scalar_one()
    assert paid == 60_000
