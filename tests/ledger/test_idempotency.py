"""One intent, one posting: a money form's one-time key is claimed once; the same form sent
again goes to the first result, different fields are refused, two at once post once."""

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger import idempotency
from coop_app.ledger.models import FormSubmission, JournalEntry, Unit
from coop_app.ledger.services import credit, debit, post_entry
from tests.helpers import only_postgres, wait_until_a_query_waits_for_a_lock

KEY = "Zx8kP3mQ9rT2vW5yB7nL4cF6"  # 24 URL-safe characters (new_key() makes 32)


def form(**fields) -> MultiDict:
    base = {"csrf_token": "token-1", "form_key": KEY, "member": "12", "amount": "50.000"}
    return MultiDict(base | fields)


@pytest.fixture
def ctx(app):
    with app.test_request_context(method="POST"), force_locale("en"):
        yield app


def submissions() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(FormSubmission)).scalar()


def test_new_keys_are_fresh_and_well_formed(ctx):
    first, second = idempotency.new_key(), idempotency.new_key()
    assert first != second
    assert idempotency.claim(first, form(), user_id=None) is None


def test_claim_then_replay_goes_to_the_first_result(ctx):
    assert idempotency.claim(KEY, form(), user_id=None) is None
    idempotency.record_result(KEY, "/savings/receipt/7")
    db.session.commit()

    # A double click: same fields (a new CSRF token does not make it a new intent).
    again = form(csrf_token="token-2")
    assert idempotency.claim(KEY, again, user_id=None) == "/savings/receipt/7"
    # The order in which the browser sends the fields does not matter either.
    reordered = MultiDict([("amount", "50.000"), ("member", "12"), ("form_key", KEY)])
    assert idempotency.claim(KEY, reordered, user_id=None) == "/savings/receipt/7"
    db.session.commit()
    assert submissions() == 1


@pytest.mark.parametrize(
    "changed",
    [{"amount": "60.000"}, {"member": "13"}, {"note": "extra"}],
    ids=["amount", "member", "extra field"],
)
def test_same_key_with_other_fields_refused(ctx, changed):
    idempotency.claim(KEY, form(), user_id=None)
    idempotency.record_result(KEY, "/savings/receipt/7")
    db.session.commit()
    with pytest.raises(DomainError, match="other amounts"):
        idempotency.claim(KEY, form(**changed), user_id=None)
    db.session.rollback()
    row = db.session.get(FormSubmission, KEY)
    assert (submissions(), row.result_url) == (1, "/savings/receipt/7")


def test_a_repeated_field_value_is_part_of_the_payload(ctx):
    one = MultiDict([("form_key", KEY), ("member", "12"), ("member", "13")])
    idempotency.claim(KEY, one, user_id=None)
    idempotency.record_result(KEY, "/collection/1")
    db.session.commit()
    with pytest.raises(DomainError):
        idempotency.claim(KEY, MultiDict([("form_key", KEY), ("member", "12")]), user_id=None)


@pytest.mark.parametrize(
    "key",
    [None, "", "short", "x" * 65, "spaces are not allowed here!!", "ü" * 24, KEY + "/"],
)
def test_malformed_keys_refused(ctx, key):
    with pytest.raises(DomainError, match="expired"):
        idempotency.claim(key, form(), user_id=None)
    db.session.rollback()
    assert submissions() == 0


def test_a_claim_still_being_sent_is_refused_not_posted_twice(ctx):
    """Claimed and committed, but the result is not recorded yet (still being sent)."""
    idempotency.claim(KEY, form(), user_id=None)
    db.session.commit()
    with pytest.raises(DomainError, match="already being sent"):
        idempotency.claim(KEY, form(), user_id=None)


def test_a_refused_first_post_releases_its_key(ctx):
    """The view rolls back when the service refuses: the corrected form can be sent."""
    assert idempotency.claim(KEY, form(amount="0"), user_id=None) is None
    db.session.rollback()
    assert idempotency.claim(KEY, form(amount="50.000"), user_id=None) is None
    db.session.commit()
    assert submissions() == 1


def test_two_workers_send_the_same_form_at_once(make_app):
    """Two apps (two workers, each its own engine), really committing, start together: one
    claims and posts, the other is sent to the first one's result. One entry in the books."""
    apps = [make_app(), make_app()]
    barrier = threading.Barrier(len(apps))
    outcomes: dict[int, tuple] = {}

    def send(number: int) -> None:
        app = apps[number]
        with app.test_request_context(method="POST"), force_locale("en"):
            try:
                barrier.wait()
                earlier = idempotency.claim(KEY, form(), user_id=None)
                if earlier is not None:
                    db.session.rollback()
                    outcomes[number] = ("replay", earlier)
                    return
                entry = post_entry(
                    on=date(2026, 11, 20),
                    description="Setoran",
                    unit=Unit.SAVINGS_LOANS,
                    lines=[debit("cash", 50_000), credit("other_income", 50_000)],
                    source="test",
                    key=f"form:{KEY}",
                    by=None,
                )
                idempotency.record_result(KEY, f"/receipt/{entry.id}/worker-{number}")
                db.session.commit()
                outcomes[number] = ("claimed", f"/receipt/{entry.id}/worker-{number}")
            except Exception as error:  # reported below, with the other worker's outcome
                db.session.rollback()
                outcomes[number] = ("error", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(number,)) for number in range(len(apps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    kinds = sorted(kind for kind, _ in outcomes.values())
    assert kinds == ["claimed", "replay"], outcomes
    (claimed_url,) = [url for kind, url in outcomes.values() if kind == "claimed"]
    (replay_url,) = [url for kind, url in outcomes.values() if kind == "replay"]
    assert replay_url == claimed_url
    with apps[0].app_context():
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar() == 1
        )
        assert db.session.get(FormSubmission, KEY).result_url == claimed_url


@only_postgres
def test_the_second_claim_waits_for_the_first_and_gets_its_result(make_app):
    """The race made certain: the second worker inserts the same key while the first has
    claimed it but not committed; PostgreSQL makes it wait, then it is sent to the result."""
    first, second = make_app(), make_app()
    outcome: list = []

    def send_second() -> None:
        with second.test_request_context(method="POST"), force_locale("en"):
            try:
                outcome.append(idempotency.claim(KEY, form(), user_id=None))
                db.session.rollback()
            except Exception as error:
                outcome.append(error)
            finally:
                db.session.remove()

    with first.test_request_context(method="POST"), force_locale("en"):
        assert idempotency.claim(KEY, form(), user_id=None) is None
        idempotency.record_result(KEY, "/receipt/1")
        waiter = threading.Thread(target=send_second)
        waiter.start()
        wait_until_a_query_waits_for_a_lock(first)
        db.session.commit()
        waiter.join()
        db.session.remove()

    assert outcome == ["/receipt/1"]
