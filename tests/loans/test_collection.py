"""Installments and penalties on the savings collection sheet: suggested amounts, one balanced
entry per member with savings and loan lines, the loan's allocation order, receipts, all or
nothing, double submits, stale sheets and two sendings at the same moment.

The loan is DOMAIN.md's worked example (12.000.000, 12 months, 1,5 %/month flat: 1.000.000
principal + 180.000 interest a month, due on the 5th from March 2026), with installments
1 to 8 paid ahead on 5 March. Installment 9 (due 5 November) is unpaid: on 20 November it
is 15 days late, 12 beyond the 3 grace days, so its penalty is 1.180.000 x 0,1 % x 12 =
14.160. Installments 10 to 12 are due 5 December, 5 January and 5 February.
"""

import ast
import multiprocessing
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.globals import request_ctx
from flask_babel import force_locale

import coop_app.savings
from coop_app import create_app
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.config import config_for_tests
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import AccountBalance, JournalEntry, JournalLine
from coop_app.ledger.verify import verify_books
from coop_app.loans import applications, services
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.queries import position_of
from coop_app.members.models import VillageGroup
from coop_app.savings.collection import (
    Box,
    CollectionError,
    batch_entries,
    collect,
    receipt_parts,
    sheet_rows,
)
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind
from tests.books import account_balance, new_key
from tests.helpers import post
from tests.loans.test_services import apply, running_loan
from tests.savings.conftest import account_of

M, V = SavingsKind.MANDATORY, SavingsKind.VOLUNTARY
TODAY = date(2026, 11, 20)
NOVEMBER = date(2026, 11, 1)
INSTALLMENT = 1_180_000
PENALTY = 14_160  # 1.180.000 x 0,1 % x 12 days


def installment(loan) -> Box:
    return Box("installment", loan.id)


def penalty(loan) -> Box:
    return Box("penalty", loan.id)


@pytest.fixture
def sheet(borrower, flat, treasurer, board, make_member):
    """Siti Aminah with the running loan, paid ahead up to October; Budi, no loan."""
    loan = running_loan(borrower, flat, treasurer, board)
    services.repay_loan(
        loan,
        amount=8 * INSTALLMENT,
        on=date(2026, 3, 5),
        today=TODAY,
        by=treasurer,
        key=new_key(),
        expected_version=loan.version,
    )
    db.session.commit()
    budi = make_member("Budi")
    return {"loan": loan, "siti": borrower, "budi": budi}


def send(group, treasurer, amounts, *, key="sheet-1", on=TODAY, month=NOVEMBER, versions=None):
    batch = collect(
        group,
        month=month,
        on=on,
        amounts=amounts,
        today=TODAY,
        by=treasurer,
        key=key,
        versions=versions,
    )
    db.session.commit()
    return batch


def lines_of(entry) -> list[tuple]:
    return [
        (line.account.purpose, line.side, line.amount, line.subaccount, line.member_id)
        for line in entry.lines
    ]


def snapshot() -> tuple:
    """Every row count and cached balance a sheet can move, and the loans' state."""
    count = sa.func.count()
    return (
        db.session.execute(sa.select(count).select_from(CollectionBatch)).scalar(),
        db.session.execute(sa.select(count).select_from(JournalEntry)).scalar(),
        db.session.execute(sa.select(count).select_from(JournalLine)).scalar(),
        dict(
            db.session.execute(sa.select(AccountBalance.account_id, AccountBalance.balance)).all()
        ),
        dict(db.session.execute(sa.select(SavingsAccount.id, SavingsAccount.balance)).all()),
        db.session.execute(
            sa.select(Loan.id, Loan.outstanding, Loan.status, Loan.version).order_by(Loan.id)
        ).all(),
    )


# --- what the sheet suggests -----------------------------------------------------------------


def test_the_sheet_suggests_what_is_due_by_the_months_end_and_the_penalty(sheet, group):
    loan, siti, budi = sheet["loan"], sheet["siti"], sheet["budi"]
    rows = {row.member.id: row for row in sheet_rows(group, NOVEMBER, as_of=TODAY)}
    (item,) = rows[siti.id].items["loans"]
    assert (item.ref, item.version) == (loan.id, loan.version)
    assert dict(item.suggested) == {"installment": INSTALLMENT, "penalty": PENALTY}
    assert "PJ-00001" in item.title and "3.000.000" not in item.note
    assert "4.000.000" in item.note  # installments 9 to 12 still owe their principal
    assert rows[budi.id].items == {}
    # December's sheet opened on 20 November: installments 9 and 10 fall due by 31 December.
    (item,) = sheet_rows(group, date(2026, 12, 1), as_of=TODAY)[1].items["loans"]
    assert dict(item.suggested) == {"installment": 2 * INSTALLMENT, "penalty": PENALTY}
    # October's sheet (31 October): everything due by then was paid ahead; nothing is late.
    (item,) = sheet_rows(group, date(2026, 10, 1), as_of=date(2026, 10, 31))[1].items["loans"]
    assert dict(item.suggested) == {"installment": 0, "penalty": 0}
    # Before the loan was paid out it is not on the sheet.
    rows = sheet_rows(group, date(2026, 1, 1), as_of=date(2026, 1, 31))
    assert all(row.items == {} for row in rows)


# --- posting ---------------------------------------------------------------------------------


def test_savings_installment_and_penalty_are_one_balanced_entry_per_member(sheet, group, treasurer):
    loan, siti, budi = sheet["loan"], sheet["siti"], sheet["budi"]
    cash = account_balance("cash")
    batch = send(
        group,
        treasurer,
        {
            siti.id: {M: 20_000, V: 10_000, installment(loan): INSTALLMENT, penalty(loan): PENALTY},
            budi.id: {M: 20_000},
        },
        versions={("loans", loan.id): loan.version},
    )
    siti_entry, budi_entry = batch_entries(batch)
    mandatory, voluntary = account_of(siti, M), account_of(siti, V)
    # 20.000 + 10.000 + 1.180.000 + 14.160 = 1.224.160 in cash; the loan's 1.194.160 is
    # 14.160 penalty, then 180.000 interest, then 1.000.000 principal.
    assert lines_of(siti_entry) == [
        ("cash", "D", 1_224_160, None, siti.id),
        ("savings_mandatory", "C", 20_000, f"savings:{mandatory.id}", siti.id),
        ("savings_voluntary", "C", 10_000, f"savings:{voluntary.id}", siti.id),
        ("loan_penalty", "C", 14_160, "loan:1", siti.id),
        ("loan_interest", "C", 180_000, "loan:1", siti.id),
        ("loans_receivable", "C", 1_000_000, "loan:1", siti.id),
    ]
    assert lines_of(budi_entry) == [
        ("cash", "D", 20_000, None, budi.id),
        ("savings_mandatory", "C", 20_000, f"savings:{account_of(budi, M).id}", budi.id),
    ]
    assert account_balance("cash") == cash + 1_244_160
    loan = db.session.get(Loan, loan.id)
    # 12.000.000 - 8 x 1.000.000 paid ahead - 1.000.000 now.
    assert (loan.status, loan.outstanding) == (LoanStatus.ACTIVE, 3_000_000)
    position = position_of(loan, TODAY)
    assert (position.days_past_due, position.penalty_due, position.overdue) == (0, 0, 0)
    with force_locale("en"):
        (part,) = receipt_parts(siti_entry)
        assert part.title == "Loan PJ-00001"
        assert part.lines == [("Penalty", 14_160), ("Interest", 180_000), ("Principal", 1_000_000)]
        assert part.balance == ("Principal still owed after this", 3_000_000)
        assert receipt_parts(budi_entry) == []
    assert verify_books().ok


def test_a_late_installment_without_its_penalty_pays_the_penalty_first(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    batch = send(group, treasurer, {siti.id: {installment(loan): INSTALLMENT}})
    (entry,) = batch_entries(batch)
    # The product pays penalty, interest, principal: 14.160, 180.000, and 985.840 left.
    assert lines_of(entry)[1:] == [
        ("loan_penalty", "C", 14_160, "loan:1", siti.id),
        ("loan_interest", "C", 180_000, "loan:1", siti.id),
        ("loans_receivable", "C", 985_840, "loan:1", siti.id),
    ]
    position = position_of(db.session.get(Loan, loan.id), TODAY)
    assert (position.overdue, position.outstanding_principal) == (14_160, 3_014_160)


def test_paying_everything_on_the_sheet_closes_the_loan(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    # Installments 9 to 12 (4 x 1.180.000 = 4.720.000) and the penalty 14.160.
    batch = send(
        group, treasurer, {siti.id: {installment(loan): 4_720_000, penalty(loan): PENALTY}}
    )
    (entry,) = batch_entries(batch)
    credits = {purpose: amount for purpose, side, amount, *_ in lines_of(entry) if side == "C"}
    assert credits == {
        "loan_penalty": 14_160,
        "loan_interest": 720_000,  # 4 x 180.000
        "loans_receivable": 4_000_000,
    }
    loan = db.session.get(Loan, loan.id)
    assert (loan.status, loan.closed_on, loan.outstanding) == (LoanStatus.CLOSED, TODAY, 0)
    assert all(row.items == {} for row in sheet_rows(group, NOVEMBER, as_of=TODAY))
    assert verify_books().ok


def test_several_running_loans_get_boxes_each_and_share_the_members_entry(
    sheet, group, treasurer, board, flat
):
    flat.max_open_loans = 2
    db.session.commit()
    siti, first = sheet["siti"], sheet["loan"]
    # A second loan of 1.200.000 over 12 months: 100.000 + 18.000 a month, from 5 March.
    second = apply(siti, flat, treasurer, amount=1_200_000)
    db.session.commit()
    applications.approve_loan(
        second, by=board[1], on=date(2026, 2, 3), today=TODAY, note="", expected_version=1
    )
    db.session.commit()
    services.disburse_loan(
        second,
        on=date(2026, 2, 5),
        today=TODAY,
        by=treasurer,
        key=new_key(),
        expected_version=second.version,
    )
    db.session.commit()
    row = sheet_rows(group, NOVEMBER, as_of=TODAY)[1]
    assert [item.ref for item in row.items["loans"]] == [first.id, second.id]
    # Nothing paid on the second: installments 1 to 9 (9 x 118.000) are due by November.
    assert row.items["loans"][1].suggested["installment"] == 9 * 118_000
    batch = send(
        group,
        treasurer,
        {siti.id: {installment(first): 180_000, installment(second): 18_000}},
    )
    (entry,) = batch_entries(batch)
    # First loan: 14.160 penalty, then 165.840 interest of installment 9. Second loan,
    # penalty first too: its penalties are far above 18.000, so all of it is penalty.
    assert lines_of(entry) == [
        ("cash", "D", 198_000, None, siti.id),
        ("loan_penalty", "C", 14_160, "loan:1", siti.id),
        ("loan_interest", "C", 165_840, "loan:1", siti.id),
        ("loan_penalty", "C", 18_000, "loan:2", siti.id),
    ]
    with force_locale("en"):
        titles = [part.title for part in receipt_parts(entry)]
    assert titles == ["Loan PJ-00001", "Loan PJ-00002"]
    assert verify_books().ok


# --- all or nothing --------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", ["overpayment", "a later member's bad box", "future date"])
def test_any_refusal_writes_nothing_and_names_the_box(sheet, group, treasurer, refusal):
    loan, siti, budi = sheet["loan"], sheet["siti"], sheet["budi"]
    assert budi.id > siti.id, "Budi's row is posted after Siti's loan is claimed and posted"
    # Everything the loan asks on 20 November: 4.720.000 + 14.160 = 4.734.160.
    amounts = {
        siti.id: {M: 20_000, installment(loan): 4_720_000, penalty(loan): PENALTY},
        budi.id: {M: 20_000},
    }
    on, box = TODAY, None
    if refusal == "overpayment":
        amounts[siti.id][penalty(loan)] += 1
        box, message = f"installment-{siti.id}-{loan.id}", "at most Rp 4.734.160"
    elif refusal == "a later member's bad box":
        amounts[budi.id][V] = -5_000
        message = "more than zero"
    else:
        on, message = date(2026, 11, 21), "future"
    before = snapshot()
    with force_locale("en"), pytest.raises(DomainError, match=message) as refused:
        send(group, treasurer, amounts, on=on)
    db.session.rollback()  # as the view does on any DomainError
    assert snapshot() == before
    if box:
        assert refused.value.box == box
    # The corrected sheet goes through with the same key (it was never used).
    amounts[siti.id][penalty(loan)] = PENALTY
    amounts[budi.id].pop(V, None)
    send(group, treasurer, amounts)
    assert db.session.get(Loan, loan.id).status == LoanStatus.CLOSED


def test_the_same_sheet_key_twice_posts_once(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    amounts = {siti.id: {installment(loan): INSTALLMENT}}
    send(group, treasurer, amounts, key="twice")
    before = snapshot()
    with force_locale("en"), pytest.raises(DomainError, match="already been recorded"):
        send(group, treasurer, amounts, key="twice")
    db.session.rollback()
    assert snapshot() == before


def test_a_stale_sheet_is_refused_and_says_what_the_loan_asks_now(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    (item,) = sheet_rows(group, NOVEMBER, as_of=TODAY)[1].items["loans"]
    # Meanwhile the installment is paid at the office: 14.160 penalty, 180.000 interest and
    # 985.840 principal; 14.160 of installment 9's principal is left.
    services.repay_loan(
        loan,
        amount=INSTALLMENT,
        on=TODAY,
        today=TODAY,
        by=treasurer,
        key=new_key(),
        expected_version=item.version,
    )
    db.session.commit()
    before = snapshot()
    amounts = {siti.id: {installment(loan): INSTALLMENT, penalty(loan): PENALTY}}
    versions = {("loans", loan.id): item.version}
    with force_locale("en"), pytest.raises(CollectionError) as refused:
        send(group, treasurer, amounts, versions=versions)
    db.session.rollback()
    assert snapshot() == before
    assert refused.value.box == f"installment-{siti.id}-{loan.id}"
    assert "PJ-00001 was paid or changed" in refused.value.message
    assert "now asks Rp 14.160" in refused.value.message
    # Shown again, the sheet carries the loan's version of now: sent again on purpose, the
    # amount is split on what the loan asks now (principal, and the next installments).
    (item,) = sheet_rows(group, NOVEMBER, as_of=TODAY)[1].items["loans"]
    versions = {("loans", loan.id): item.version}
    batch = send(group, treasurer, {siti.id: {installment(loan): 14_160}}, versions=versions)
    (entry,) = batch_entries(batch)
    assert lines_of(entry)[1:] == [("loans_receivable", "C", 14_160, "loan:1", siti.id)]


def test_a_sheet_dated_before_a_recorded_repayment_is_refused(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    services.repay_loan(
        loan,
        amount=INSTALLMENT,
        on=date(2026, 11, 10),
        today=TODAY,
        by=treasurer,
        key=new_key(),
        expected_version=loan.version,
    )
    db.session.commit()
    before = snapshot()
    amounts = {siti.id: {installment(loan): 100_000}}
    with force_locale("en"), pytest.raises(CollectionError, match="dated 10/11/2026"):
        send(group, treasurer, amounts, month=date(2026, 10, 1), on=date(2026, 10, 31))
    db.session.rollback()
    assert snapshot() == before


def test_a_loan_closed_since_the_sheet_was_opened_is_refused(sheet, group, treasurer):
    loan, siti = sheet["loan"], sheet["siti"]
    services.pay_off_loan(
        loan, on=TODAY, today=TODAY, by=treasurer, key=new_key(), expected_version=loan.version
    )
    db.session.commit()
    before = snapshot()
    with force_locale("en"), pytest.raises(CollectionError, match="paid off or closed") as refused:
        send(group, treasurer, {siti.id: {M: 20_000, installment(loan): INSTALLMENT}})
    db.session.rollback()
    assert snapshot() == before
    assert refused.value.box == f"installment-{siti.id}-{loan.id}"


# --- two sendings at the same moment -------------------------------------------------------


def pay_in_a_worker(uri, instance, how, ids, barrier, results) -> None:
    """Run in a process of its own: wait for the others, then send a sheet or repay."""
    app = create_app(config_for_tests(uri) | {"INSTANCE_PATH": instance})
    outcome = "did not run"
    try:
        with app.test_request_context(method="POST"), force_locale("en"):
            barrier.wait(timeout=120)
            try:
                loan = db.session.get(Loan, ids["loan"])
                treasurer = db.session.get(User, ids["treasurer"])
                if how == "sheet":
                    collect(
                        db.session.get(VillageGroup, ids["group"]),
                        month=NOVEMBER,
                        on=TODAY,
                        amounts={
                            ids["siti"]: {installment(loan): INSTALLMENT},
                            ids["budi"]: {M: 20_000},
                        },
                        today=TODAY,
                        by=treasurer,
                        key=f"sheet-{ids['n']}",
                        versions={("loans", loan.id): ids["version"]},
                    )
                else:
                    services.repay_loan(
                        loan,
                        amount=INSTALLMENT,
                        on=TODAY,
                        today=TODAY,
                        by=treasurer,
                        key=f"repay-{ids['n']}",
                        expected_version=ids["version"],
                    )
                db.session.commit()
                outcome = "paid"
            except DomainError as error:
                db.session.rollback()
                outcome = f"refused: {error.message}"
            except Exception as error:  # e.g. a deadlock or "database is locked"
                db.session.rollback()
                outcome = f"error: {type(error).__name__}: {error}"
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        results.put((how, outcome))


def test_two_sheets_and_the_loans_screen_at_once_credit_the_installment_once(
    sheet, group, treasurer, database_uri, tmp_path
):
    loan, siti, budi = sheet["loan"], sheet["siti"], sheet["budi"]
    ids = {
        "loan": loan.id,
        "version": loan.version,
        "siti": siti.id,
        "budi": budi.id,
        "group": group.id,
        "treasurer": treasurer.id,
    }
    entries_before = db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar()
    db.session.close()  # hold no connection (and no SQLite lock) while the workers run
    spawn = multiprocessing.get_context("spawn")
    kinds = ["sheet", "sheet", "repay", "repay"]
    barrier, results = spawn.Barrier(len(kinds)), spawn.Queue()
    workers = [
        spawn.Process(
            target=pay_in_a_worker,
            args=(database_uri, str(tmp_path / "instance"), how, ids | {"n": n}, barrier, results),
        )
        for n, how in enumerate(kinds)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert not [o for o in outcomes if o[1].startswith(("error", "did not"))], outcomes
    assert sum(o[1] == "paid" for o in outcomes) == 1, outcomes
    refusals = re.compile(r"^refused: (This record was changed|Loan PJ-00001 was paid or changed)")
    assert all(refusals.match(o[1]) for o in outcomes if o[1] != "paid"), outcomes
    loan = db.session.get(Loan, loan.id)
    assert loan.outstanding == 3_000_000 + 14_160  # one installment, its penalty first
    entries = db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar()
    paid_by_sheet = any(how == "sheet" and o == "paid" for how, o in outcomes)
    assert entries == entries_before + (2 if paid_by_sheet else 1)
    assert verify_books().ok


# --- the screens -----------------------------------------------------------------------------


@pytest.fixture
def screen(sheet, group, treasurer, client, login_as, monkeypatch):
    """The treasurer logged in on 20 November. The fixtures' request context is set aside
    meanwhile: the client's requests then run in app contexts (and sessions) of their own,
    as a browser's would, instead of sharing the test's."""
    monkeypatch.setattr("coop_app.savings.routes.local_today", lambda: TODAY)
    ids = {
        "loan": sheet["loan"].id,
        "siti": sheet["siti"].id,
        "budi": sheet["budi"].id,
        "treasurer": treasurer.id,
        "path": f"/savings/collection/{group.id}?month=2026-11",
    }
    db.session.commit()
    held = request_ctx._get_current_object()
    held.pop()
    login_as(Role.TREASURER)
    yield ids
    held.push()


def _form(page: str, ids: dict, **boxes) -> dict:
    """What a browser sends: every field of the sheet's form as shown, with `boxes`
    (e.g. installment_siti="4.720.000") typed over."""
    shown = page[page.index('data-testid="collection-form"') :]
    shown = shown[: shown.index("</form>")]
    form = dict(re.findall(r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', shown))
    for name, text in boxes.items():
        column, member = name.split("_")
        suffix = f"-{ids['loan']}" if column in ("installment", "penalty") else ""
        form[f"{column}-{ids[member]}{suffix}"] = text
    return form


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_the_sheet_on_screen_posts_once_and_prints_the_loan_on_the_receipt(app, client, screen):
    page = client.get(screen["path"]).get_data(as_text=True)
    siti, loan = screen["siti"], screen["loan"]
    assert re.search(f'name="installment-{siti}-{loan}"[^>]*value="1.180.000"', page)
    assert re.search(f'name="penalty-{siti}-{loan}"[^>]*value="14.160"', page)
    form = _form(page, screen)
    assert form[f"mandatory-{siti}"] == "20.000" and form["on"] == "20/11/2026"
    response = post(client, screen["path"], form)
    assert response.status_code == 302, response.get_data(as_text=True)
    receipts = client.get(response.headers["Location"]).get_data(as_text=True)
    assert receipts.count('data-testid="receipt"') == 2
    assert receipts.count('data-testid="receipt-part"') == 1
    assert "Pinjaman PJ-00001" in receipts and "Denda" in receipts and "Rp 14.160" in receipts
    assert re.search(r'data-testid="receipt-owed">Rp 3\.000\.000<', receipts)
    assert "Rp 1.214.160" in receipts  # Siti: 20.000 + 1.180.000 + 14.160
    again = post(client, screen["path"], form)
    assert again.headers["Location"] == response.headers["Location"]
    assert _count(app, CollectionBatch) == 1
    # The single receipt (e.g. from the passbook) shows the loan's part too.
    entry_id = int(re.search(r"KW-(\d{7})", receipts).group(1))
    single = client.get(f"/savings/receipts/{entry_id}").get_data(as_text=True)
    assert 'data-testid="receipt-part"' in single


def test_a_double_submit_of_the_sheet_that_pays_the_loan_off_shows_the_first_receipts(
    app, client, screen
):
    page = client.get(screen["path"]).get_data(as_text=True)
    form = _form(page, screen, installment_siti="4.720.000")
    first = post(client, screen["path"], form)
    assert first.status_code == 302, first.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Loan, screen["loan"]).status == LoanStatus.CLOSED
    # The loan is closed and off the sheet now; the same sending is not refused for that.
    again = post(client, screen["path"], form)
    assert (again.status_code, again.headers["Location"]) == (302, first.headers["Location"])
    assert _count(app, CollectionBatch) == 1


def test_a_stale_sheet_on_screen_is_refused_marked_and_can_be_sent_again(app, client, screen):
    page = client.get(screen["path"]).get_data(as_text=True)
    with app.test_request_context(method="POST"):
        loan = db.session.get(Loan, screen["loan"])
        services.repay_loan(
            loan,
            amount=INSTALLMENT,
            on=TODAY,
            today=TODAY,
            by=db.session.get(User, screen["treasurer"]),
            key=new_key(),
            expected_version=loan.version,
        )
        db.session.commit()
    entries = _count(app, JournalEntry)
    form = _form(page, screen)
    response = post(client, screen["path"], form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _count(app, JournalEntry) == entries
    box = f'name="installment-{screen["siti"]}-{screen["loan"]}"'
    assert re.search(r'is-invalid"[^>]*' + re.escape(box), text), "the loan's box is marked"
    assert "PJ-00001" in text and re.search(re.escape(box) + r'[^>]*value="1.180.000"', text)
    # The treasurer corrects the box (14.160 of principal is left) and sends it again.
    resent = _form(text, screen, installment_siti="14.160", penalty_siti="")
    assert resent["form_key"] == form["form_key"]
    assert resent[f"version-loans-{screen['loan']}"] != form[f"version-loans-{screen['loan']}"]
    response = post(client, screen["path"], resent)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(app, JournalEntry) == entries + 2


# --- the import direction --------------------------------------------------------------------


def test_savings_never_imports_loans():
    folder = Path(coop_app.savings.__file__).parent
    imported = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                imported.update((path.name, alias.name) for alias in node.names)
    assert imported, "the scan found the imports"
    assert not [(f, m) for f, m in imported if m.startswith("coop_app.loans")]
