"""The books' screens: trial balance and its export, statements showing reversals, closing a
month through the screen, and adding an account."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.ledger.models import Account, JournalEntry, Unit
from coop_app.ledger.services import credit, debit, post_entry
from tests.helpers import post

ON = date(2026, 10, 5)


@pytest.fixture
def posted(app):
    """Two entries: members' cash savings (Rp 300.000) and an office expense (Rp 45.000)."""
    with app.test_request_context(method="POST"):
        first = post_entry(
            on=ON,
            description="Setoran simpanan",
            unit=Unit.SAVINGS_LOANS,
            lines=[debit("cash", 300_000), credit("savings_voluntary", 300_000)],
            source="test",
            key="t1",
            by=None,
        )
        expense = db.session.execute(sa.select(Account).where(Account.code == "5901")).scalar_one()
        second = post_entry(
            on=ON,
            description="Beli buku kas",
            unit=Unit.GENERAL,
            lines=[debit(expense, 45_000), credit("cash", 45_000)],
            source="test",
            key="t2",
            by=None,
        )
        db.session.commit()
        return first.id, second.id


def test_the_trial_balance_balances_on_screen_and_in_the_workbook(client, login_as, posted):
    login_as(Role.SUPERVISOR)
    page = client.get("/books/?as_of=31/10/2026").get_data(as_text=True)
    footer = page.split("<tfoot")[1].split("</tfoot>")[0]
    # Debits: cash 255.000 + expense 45.000; credits: savings 300.000.
    assert footer.count("Rp 300.000") == 2 and "Debet sama dengan kredit" in page
    response = client.get("/books/trial-balance.xlsx?as_of=31/10/2026")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Neraca saldo"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    by_code = {row[0]: row for row in rows if row[0]}
    # Cash: 300.000 in, 45.000 out; savings owed to members 300.000; the expense 45.000.
    assert by_code["1101"][2:] == (255_000, None)
    assert by_code["2101"][2:] == (None, 300_000)
    assert by_code["5901"][2:] == (45_000, None)
    assert rows[-1][1].startswith("Jumlah")
    formulas = openpyxl.load_workbook(io.BytesIO(response.data), data_only=False)
    assert formulas["Neraca saldo"].cell(len(rows) + 1, 3).value.startswith("=SUM(")


def test_a_unit_filter_shows_only_that_units_lines(client, login_as, posted):
    login_as(Role.TREASURER)
    page = client.get("/books/?as_of=31/10/2026&unit=general").get_data(as_text=True)
    assert "Rp 45.000" in page and "Rp 300.000" not in page


def test_a_reversal_through_the_screen_leaves_both_entries_on_the_statement(
    app, client, login_as, posted
):
    login_as(Role.TREASURER)
    first, _second = posted
    response = post(
        client, f"/books/entries/{first}/reverse", {"on": "06/10/2026", "reason": "Salah catat"}
    )
    assert response.status_code == 302
    again = post(client, f"/books/entries/{first}/reverse", {"on": "06/10/2026", "reason": "Lagi"})
    assert again.status_code == 422
    assert "sudah pernah dibalik" in again.get_data(as_text=True)
    with app.app_context():
        cash = db.session.execute(sa.select(Account).where(Account.code == "1101")).scalar_one()
        cash_id = cash.id
    page = client.get(f"/books/accounts/{cash_id}?start=01/10/2026&end=31/10/2026").get_data(
        as_text=True
    )
    assert page.count("Rp 300.000") >= 2 and "Pembalikan" in page
    export = client.get(f"/books/accounts/{cash_id}.xlsx?start=01/10/2026&end=31/10/2026")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    closing = list(sheet.iter_rows(values_only=True))[-1]
    assert closing[4] == "Saldo akhir" and closing[8] == -45_000


def test_the_board_closes_a_month_and_nothing_more_goes_into_it(app, client, login_as, posted):
    login_as(Role.ADMIN)
    response = post(client, "/books/periods", {"month": "2026-10-01"}, token_page="/books/periods")
    assert response.status_code == 302
    assert "Oktober 2026" in client.get("/books/periods").get_data(as_text=True)
    first, _second = posted
    refused = post(
        client, f"/books/entries/{first}/reverse", {"on": "06/10/2026", "reason": "Salah catat"}
    )
    assert refused.status_code == 422
    assert "Buku bulan Oktober 2026 sudah ditutup" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar() == 2


def test_the_board_adds_an_account_with_a_code_of_its_kind(app, client, login_as):
    login_as(Role.ADMIN)
    wrong = post(
        client,
        "/books/accounts",
        {"code": "4905", "name": "Beban listrik", "kind": "expense", "unit": "general"},
    )
    assert wrong.status_code == 422 and "diawali angka 5" in wrong.get_data(as_text=True)
    right = post(
        client,
        "/books/accounts",
        {"code": "5905", "name": "Beban listrik", "kind": "expense", "unit": "general"},
    )
    assert right.status_code == 302
    assert "Beban listrik" in client.get("/books/accounts").get_data(as_text=True)


def test_the_general_ledger_export_has_every_moved_account(client, login_as, posted):
    login_as(Role.SUPERVISOR)
    response = client.get("/books/ledger.xlsx?start=01/10/2026&end=31/10/2026")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(
            min_row=2, values_only=True
        )
    )
    assert {row[0] for row in rows} == {"1101", "2101", "5901"}
    closing = {row[0]: row[8] for row in rows if row[4] == "Saldo akhir"}
    assert closing == {"1101": 255_000, "2101": 300_000, "5901": 45_000}
