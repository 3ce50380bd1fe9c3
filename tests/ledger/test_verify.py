"""`flask verify-books`: clean books verify; books corrupted behind the app's back do not."""

import json

import sqlalchemy as sa

from coop_app.auth.models import AuditEvent
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.extensions import db
from coop_app.ledger.models import Account, JournalEntry
from coop_app.ledger.verify import verify_books
from coop_app.members.models import MemberStatus, Village, VillageGroup
from coop_app.members.services import register_member
from coop_app.savings import services as savings
from coop_app.savings.models import SavingsKind
from tests.helpers import PASSWORD, only_sqlite
from tests.members.conftest import member_data
from tests.savings.conftest import JOINED, TODAY, account_of

#: The deposits `seed_books` makes into one member's voluntary savings.
DEPOSITS = (50_000, 25_000)
DEPOSITED = sum(DEPOSITS)


def seed_books(app) -> int:
    """A treasurer, an active member and DEPOSITS into their voluntary savings.

    Returns the savings account's id. Everything is committed and no context stays pushed.
    """
    with app.test_request_context(method="POST"):
        user, _ = create_user(
            username="bendahara", full_name="Sri Wahyuni", role=Role.TREASURER, password=PASSWORD
        )
        group = VillageGroup(village=Village(name="Kalibeber"), name="Mawar")
        db.session.add(group)
        db.session.flush()
        data = member_data(group.village_id, group_id=group.id, join_date=JOINED)
        member = register_member(data, today=TODAY, by=None, status=MemberStatus.ACTIVE)
        account = account_of(member, SavingsKind.VOLUNTARY)
        for n, amount in enumerate(DEPOSITS):
            savings.deposit(account, amount=amount, on=TODAY, today=TODAY, by=user, key=f"seed-{n}")
        db.session.commit()
        return account.id


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def execute(app, sql: str, **params) -> None:
    """Change the database with raw SQL, as someone going around the app would."""
    with app.app_context():
        db.session.execute(sa.text(sql), params)
        db.session.commit()


def account_id(code: str) -> int:
    return db.session.execute(sa.select(Account.id).filter_by(code=code)).scalar_one()


def first_entry_id() -> int:
    return db.session.execute(sa.select(sa.func.min(JournalEntry.id))).scalar_one()


def failed_checks(output: str) -> list[str]:
    return [line.split("FAILED", 1)[1].strip() for line in output.splitlines() if "FAILED" in line]


def test_clean_books_verify_and_the_command_is_audited(app):
    seed_books(app)
    result = run(app, "verify-books")
    assert result.exit_code == 0, result.output
    assert "The books verify." in result.output
    assert failed_checks(result.output) == []
    for name in ("entries balance", "cached account", "sub-ledger savings", "database integrity"):
        assert f"OK      {name}" in result.output
    assert f"account 1101: {DEPOSITED}" in result.output  # cash, debit positive
    assert f"sub-ledger savings: {DEPOSITED}" in result.output
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions.count("cli.verify-books") == 1


def test_control_totals_add_up_from_the_postings_and_survive_json(app):
    seed_books(app)
    with app.app_context():
        report = verify_books()
    totals = report.totals
    assert report.ok, report.checks
    assert (totals["entries"], totals["lines"], totals["members"]) == (2, 4, 1)
    assert totals["debits"] == totals["credits"] == DEPOSITED
    assert totals["accounts"]["1101"] == DEPOSITED
    assert totals["accounts"]["2101"] == -DEPOSITED  # voluntary savings: a liability
    assert totals["subledgers"] == {"savings": DEPOSITED, "loan": 0}
    assert json.loads(json.dumps(totals)) == totals


def test_an_unbalanced_entry_is_found(app):
    seed_books(app)
    with app.app_context():
        entry, cash = first_entry_id(), account_id("1101")
    # Inserting is allowed (the triggers refuse only UPDATE and DELETE): one line too many.
    execute(
        app,
        "INSERT INTO journal_line (entry_id, account_id, unit, side, amount) "
        "VALUES (:entry, :cash, 'savings_loans', 'D', 700)",
        entry=entry,
        cash=cash,
    )
    result = run(app, "verify-books")
    assert result.exit_code == 1, result.output
    assert failed_checks(result.output) == [
        "entries balance (debits = credits)",
        "cached account balances equal their lines",
        "day and month totals equal their lines",
    ]
    first = DEPOSITS[0]
    assert f"entry {entry}: debits {first + 700}, credits {first}" in result.output
    assert f"account 1101: cached {DEPOSITED}, lines {DEPOSITED + 700}" in result.output
    # The day's and the month's total of the cash account both miss the extra line.
    assert "The books do NOT verify: 4 problem(s)." in result.output


def test_a_line_on_an_unknown_sub_account_and_a_lone_entry_are_found(app):
    seed_books(app)
    with app.app_context():
        cash = account_id("1101")
    execute(
        app,
        "INSERT INTO journal_entry (entry_date, description, unit, source, idempotency_key, "
        "created_at) VALUES ('2026-11-20', 'forged', 'general', 'raw', 'forged-1', "
        "'2026-11-20 00:00:00')",
    )
    with app.app_context():
        forged = db.session.execute(
            sa.select(JournalEntry.id).filter_by(idempotency_key="forged-1")
        ).scalar_one()
    execute(
        app,
        "INSERT INTO journal_line (entry_id, account_id, unit, side, amount, subaccount) "
        "VALUES (:entry, :cash, 'general', 'D', 10, 'loans:7')",
        entry=forged,
        cash=cash,
    )
    result = run(app, "verify-books")
    assert result.exit_code == 1
    assert f"entry {forged} has 1 line(s)" in result.output
    assert "sub-account 'loans:7' has no registered sub-ledger" in result.output


def test_a_changed_cached_balance_is_found(app):
    seed_books(app)
    with app.app_context():
        cash = account_id("1101")
    execute(app, "UPDATE account_balance SET balance = balance + 1 WHERE account_id = :a", a=cash)
    result = run(app, "verify-books")
    assert result.exit_code == 1
    assert failed_checks(result.output) == ["cached account balances equal their lines"]
    assert f"account 1101: cached {DEPOSITED + 1}, lines {DEPOSITED}" in result.output


def test_a_savings_balance_that_differs_from_its_lines_is_found(app):
    savings_id = seed_books(app)
    execute(
        app, "UPDATE savings_account SET balance = balance - 1000 WHERE id = :id", id=savings_id
    )
    result = run(app, "verify-books")
    assert result.exit_code == 1
    assert failed_checks(result.output) == ["sub-ledger savings"]
    expected = f"savings account {savings_id}: cached {DEPOSITED - 1000}, lines {DEPOSITED}"
    assert expected in result.output


def test_a_negative_savings_balance_and_an_unchecked_constraint_are_found(app):
    """The CHECK forbids a negative balance, so it is bypassed inside one transaction that
    is rolled back (PostgreSQL: dropped and re-added NOT VALID; SQLite: ignored)."""
    savings_id = seed_books(app)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        constraint = "ck_savings_account_balance_not_negative"
        if postgres:
            db.session.execute(sa.text(f"ALTER TABLE savings_account DROP CONSTRAINT {constraint}"))
        else:
            db.session.execute(sa.text("PRAGMA ignore_check_constraints = ON"))
        db.session.execute(
            sa.text("UPDATE savings_account SET balance = -5 WHERE id = :id"), {"id": savings_id}
        )
        if postgres:
            db.session.execute(
                sa.text(
                    f"ALTER TABLE savings_account ADD CONSTRAINT {constraint} "
                    "CHECK (balance >= 0) NOT VALID"
                )
            )
        report = verify_books()
        db.session.rollback()
        if not postgres:
            db.session.execute(sa.text("PRAGMA ignore_check_constraints = OFF"))
    problems = {check.name: check.problems for check in report.checks if not check.ok}
    assert f"savings account {savings_id} is negative: -5" in problems["sub-ledger savings"]
    if postgres:
        assert problems["database integrity"] == [
            f"constraint savings_account {constraint} is not validated"
        ]
    assert run(app, "verify-books").exit_code == 0, "the rollback put everything back"


def test_a_missing_or_disabled_append_only_trigger_is_found(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            statement = "ALTER TABLE journal_line DISABLE TRIGGER journal_line_append_only"
            expected = "trigger journal_line_append_only is missing or disabled"
        else:
            statement = "DROP TRIGGER journal_line_no_update"
            expected = "trigger journal_line_no_update is missing"
        db.session.execute(sa.text(statement))
        report = verify_books()
        db.session.rollback()
    problems = {check.name: check.problems for check in report.checks if not check.ok}
    assert list(problems) == ["database integrity"]
    assert problems["database integrity"] == [f"{expected}: journal_line can be changed"]
    assert run(app, "verify-books").exit_code == 0, "the rollback put the trigger back"


@only_sqlite
def test_a_broken_foreign_key_is_found_by_the_sqlite_integrity_checks(app):
    seed_books(app)
    with app.app_context():
        entry = first_entry_id()
        db.session.rollback()  # let go of the write lock before writing around the session
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA foreign_keys = OFF")
            raw.driver_connection.execute(
                "INSERT INTO journal_line (entry_id, account_id, unit, side, amount) "
                "VALUES (?, 999999, 'general', 'C', 1)",
                (entry,),
            )
            raw.driver_connection.execute("PRAGMA foreign_keys = ON")
        finally:
            raw.close()
    result = run(app, "verify-books")
    assert result.exit_code == 1
    assert "FAILED  database integrity" in result.output
    assert "no account row for foreign key" in result.output
