"""Savings screens walked through with the test client: deposit, receipt, double submit,
bad input, withdrawal rules, the collection sheet and the arrears export."""

import io
import re
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine
from coop_app.members.models import MemberStatus, Village, VillageGroup
from coop_app.members.services import register_member
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind, SavingsProduct
from tests.helpers import audit_rows, post
from tests.members.conftest import member_data

JOINED = date(2026, 1, 15)


@pytest.fixture
def people(app):
    """Two active members of group Mawar in Kalibeber; {name: {kind: account id}}."""
    with app.test_request_context(method="POST"):
        group = VillageGroup(village=Village(name="Kalibeber"), name="Mawar")
        db.session.add(group)
        db.session.flush()
        made = {}
        for n, name in enumerate(("Siti Aminah", "Tuti Handayani"), start=1):
            data = member_data(
                group.village_id,
                nik=f"330701450185000{n}",
                name=name,
                group_id=group.id,
                join_date=JOINED,
            )
            member = register_member(
                data, today=date(2026, 11, 20), by=None, status=MemberStatus.ACTIVE
            )
            accounts = db.session.execute(
                sa.select(SavingsProduct.kind, SavingsAccount.id)
                .join(SavingsAccount.product)
                .where(SavingsAccount.member_id == member.id)
            ).all()
            made[name] = {SavingsKind(kind): account_id for kind, account_id in accounts}
            made[name]["member"] = member.id
        made["group"] = group.id
        db.session.commit()
        return made


def _key(page: str) -> str:
    match = re.search(r'name="form_key"[^>]*value="([^"]+)"', page)
    assert match, "the money form carries a one-time key"
    return match.group(1)


def _entries(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count(JournalEntry.id))).scalar_one()


def _balance(app, account_id: int) -> int:
    with app.app_context():
        return db.session.get(SavingsAccount, account_id).balance


def _deposit_form(client, account_id: int, amount: str, on: str = "20/11/2026", **extra):
    path = f"/savings/accounts/{account_id}/deposit"
    key = _key(client.get(path).get_data(as_text=True))
    return path, {"amount": amount, "on": on, "form_key": key, **extra}


def test_a_deposit_prints_a_receipt_and_moves_the_balance(app, client, login_as, people):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, "Rp 150.000")
    response = post(client, path, form)
    assert response.status_code == 302 and "/savings/receipts/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"KW-\d{7}", page)
    assert "Siti Aminah" in page and "Rp 150.000" in page and "KUITANSI" in page
    assert _balance(app, account) == 150_000
    passbook = client.get(f"/savings/accounts/{account}").get_data(as_text=True)
    assert "Rp 150.000" in passbook


def test_the_same_form_sent_twice_posts_once_and_shows_the_first_receipt(
    app, client, login_as, people
):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, "50.000")
    first = post(client, path, form)
    second = post(client, path, form)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _entries(app) == 1 and _balance(app, account) == 50_000
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Ini sudah tercatat" in shown


def test_the_same_key_with_another_amount_is_refused(app, client, login_as, people):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, "50.000")
    post(client, path, form)
    response = post(client, path, form | {"amount": "500.000"})
    assert response.status_code == 422
    assert "sudah dikirim dengan jumlah lain" in response.get_data(as_text=True)
    assert _entries(app) == 1 and _balance(app, account) == 50_000


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Jumlah paling sedikit Rp 1"),
        ("-5.000", "tidak boleh negatif"),
        ("12,5", "bilangan bulat"),
        ("1.25", "tidak jelas"),
        ("5.000.000.000", "terlalu besar"),
        ("", "wajib diisi"),
    ],
)
def test_bad_amounts_are_refused_with_a_message_and_nothing_is_written(
    app, client, login_as, people, amount, message
):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, amount)
    response = post(client, path, form)
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert _entries(app) == 0


def test_withdrawing_more_than_the_balance_or_from_mandatory_is_refused(
    app, client, login_as, people
):
    login_as(Role.TREASURER)
    voluntary = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    mandatory = people["Siti Aminah"][SavingsKind.MANDATORY]
    path, form = _deposit_form(client, voluntary, "100.000")
    post(client, path, form)
    withdraw = f"/savings/accounts/{voluntary}/withdraw"
    key = _key(client.get(withdraw).get_data(as_text=True))
    response = post(client, withdraw, {"amount": "100.001", "on": "20/11/2026", "form_key": key})
    assert response.status_code == 422
    assert "tidak bisa menarik lebih" in response.get_data(as_text=True)
    page = f"/savings/accounts/{mandatory}/withdraw"
    key = _key(client.get(page).get_data(as_text=True))
    response = post(client, page, {"amount": "10.000", "on": "20/11/2026", "form_key": key})
    assert response.status_code == 422
    assert "hanya dibayarkan ketika keanggotaan berakhir" in response.get_data(as_text=True)
    assert _entries(app) == 1 and _balance(app, voluntary) == 100_000


def test_a_future_date_is_refused(app, client, login_as, people):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, "10.000", on="01/01/2099")
    response = post(client, path, form)
    assert response.status_code == 422
    assert "tidak boleh di masa depan" in response.get_data(as_text=True).lower()
    assert _entries(app) == 0


def _sheet(client, group_id: int) -> tuple[str, str]:
    path = f"/savings/collection/{group_id}?month=2026-11"
    return path, client.get(path).get_data(as_text=True)


def test_the_collection_sheet_posts_every_row_at_once_with_a_receipt_each(
    app, client, login_as, people
):
    login_as(Role.TREASURER)
    siti, tuti = people["Siti Aminah"], people["Tuti Handayani"]
    path, page = _sheet(client, people["group"])
    assert f'name="mandatory-{siti["member"]}" ' in page
    form = {
        "form_key": _key(page),
        "on": "20/11/2026",
        f"mandatory-{siti['member']}": "20.000",
        f"voluntary-{siti['member']}": "35.000",
        f"mandatory-{tuti['member']}": "40.000",
        f"voluntary-{tuti['member']}": "",
    }
    response = post(client, path, form)
    assert response.status_code == 302
    receipts = client.get(response.headers["Location"]).get_data(as_text=True)
    assert receipts.count('data-testid="receipt"') == 2
    assert "Rp 55.000" in receipts and "Rp 40.000" in receipts
    assert _balance(app, siti[SavingsKind.VOLUNTARY]) == 35_000
    assert _balance(app, tuti[SavingsKind.MANDATORY]) == 40_000
    again = post(client, path, form)
    assert again.headers["Location"] == response.headers["Location"]
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(CollectionBatch.id))).scalar() == 1
    assert _entries(app) == 2


def test_one_bad_box_refuses_the_whole_sheet(app, client, login_as, people):
    login_as(Role.TREASURER)
    siti, tuti = people["Siti Aminah"], people["Tuti Handayani"]
    path, page = _sheet(client, people["group"])
    form = {
        "form_key": _key(page),
        "on": "20/11/2026",
        f"mandatory-{siti['member']}": "20.000",
        f"voluntary-{tuti['member']}": "sepuluh ribu",
    }
    response = post(client, path, form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Periksa kotak yang ditandai" in text and "is-invalid" in text
    assert 'value="sepuluh ribu"' in text, "what was typed is shown again"
    assert _entries(app) == 0


def test_the_arrears_list_and_its_export_tie(app, client, login_as, people):
    login_as(Role.TREASURER)
    siti = people["Siti Aminah"]
    path, form = _deposit_form(client, siti[SavingsKind.MANDATORY], "160.000")
    post(client, path, form)
    # January to October 2026 have ended: 10 x 20.000 = 200.000 due; Siti paid 160.000.
    page = client.get("/savings/arrears?as_of=20/11/2026").get_data(as_text=True)
    assert "Rp 40.000" in page and "Rp 200.000" in page
    before = len(audit_rows(app))
    response = client.get("/savings/arrears.xlsx?as_of=20/11/2026")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Tunggakan wajib"]
    rows = {row[3]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Siti Aminah"][4:8] == (10, 160_000, 2, 40_000)
    assert rows["Tuti Handayani"][4:8] == (10, 0, 10, 200_000)
    assert len(audit_rows(app)) == before + 1, "a bulk export of members' data is audited"


def test_a_member_sees_their_own_passbook(app, client, make_user, people):
    from tests.helpers import login

    username = make_user(Role.MEMBER, "anggota")
    with app.app_context():
        from coop_app.auth.models import User
        from coop_app.members.models import Member

        member = db.session.get(Member, people["Siti Aminah"]["member"])
        member.user_id = db.session.execute(
            sa.select(User.id).where(User.username == username)
        ).scalar_one()
        db.session.commit()
    login(client, username)
    own = client.get(f"/savings/accounts/{people['Siti Aminah'][SavingsKind.VOLUNTARY]}")
    other = client.get(f"/savings/accounts/{people['Tuti Handayani'][SavingsKind.VOLUNTARY]}")
    assert own.status_code == 200 and other.status_code == 404
    assert "Simpanan" in client.get("/members/me", follow_redirects=True).get_data(as_text=True)


def test_lines_carry_the_member_for_the_one_member_view(app, client, login_as, people):
    login_as(Role.TREASURER)
    account = people["Siti Aminah"][SavingsKind.VOLUNTARY]
    path, form = _deposit_form(client, account, "25.000")
    post(client, path, form)
    with app.app_context():
        lines = db.session.execute(sa.select(JournalLine)).scalars().all()
        assert {line.member_id for line in lines if line.subaccount} == {
            people["Siti Aminah"]["member"]
        }
