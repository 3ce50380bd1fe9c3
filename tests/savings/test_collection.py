"""The monthly collection sheet: who is on it and what is suggested; one submit posts one
balanced entry per paying member, all or nothing, and never twice."""

from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import Account, AccountBalance, JournalEntry, JournalLine
from coop_app.members.models import MemberStatus, VillageGroup
from coop_app.members.services import change_status, register_member
from coop_app.savings import services
from coop_app.savings.collection import batch_entries, collect, sheet_rows
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import receipt_lines
from tests.books import account_balance, new_key, savings_balance
from tests.members.conftest import member_data
from tests.savings.conftest import TODAY, account_of

M, V = SavingsKind.MANDATORY, SavingsKind.VOLUNTARY
NOVEMBER = date(2026, 11, 1)


def deposit(account, amount, on):
    services.deposit(account, amount=amount, on=on, today=TODAY, by=None, key=new_key())


def snapshot() -> tuple:
    count = sa.func.count()
    return (
        db.session.execute(sa.select(count).select_from(CollectionBatch)).scalar(),
        db.session.execute(sa.select(count).select_from(JournalEntry)).scalar(),
        db.session.execute(sa.select(count).select_from(JournalLine)).scalar(),
        dict(
            db.session.execute(sa.select(AccountBalance.account_id, AccountBalance.balance)).all()
        ),
        dict(db.session.execute(sa.select(SavingsAccount.id, SavingsAccount.balance)).all()),
    )


@pytest.fixture
def sheet(make_member, group, treasurer):
    """The Mawar group: Ani paid up (on 2 November), Budi one month behind, Citra nothing.
    Around them: a member of another group, a resigned member and a candidate."""
    ani, budi, citra = make_member("Ani"), make_member("Budi"), make_member("Citra")
    deposit(account_of(ani, M), 220_000, on=date(2026, 11, 2))
    deposit(account_of(budi, M), 200_000, on=date(2026, 10, 1))
    other = VillageGroup(village_id=group.village_id, name="Melati")
    db.session.add(other)
    db.session.flush()
    dewi = register_member(
        member_data(group.village_id, nik="3307200000000001", name="Dewi", group_id=other.id),
        today=TODAY,
        by=None,
        status=MemberStatus.ACTIVE,
    )
    eko = make_member("Eko")
    fajar = register_member(
        member_data(group.village_id, nik="3307200000000002", name="Fajar", group_id=group.id),
        today=TODAY,
        by=None,
    )
    db.session.commit()
    change_status(
        eko,
        to=MemberStatus.RESIGNED,
        on=date(2026, 11, 5),
        reason="Pindah ke luar kota",
        today=TODAY,
        by=treasurer,
        expected_version=eko.version,
    )
    db.session.commit()
    return {"Ani": ani, "Budi": budi, "Citra": citra, "Dewi": dewi, "Eko": eko, "Fajar": fajar}


def test_sheet_rows_and_suggestions(sheet, group):
    rows = sheet_rows(group, NOVEMBER)
    # Active members of this group only, by name.
    assert [row.member.name for row in rows] == ["Ani", "Budi", "Citra"]
    for row in rows:
        assert row.accounts == {
            M: account_of(row.member, M),
            V: account_of(row.member, V),
        }
    # By 30 November, January to November are due: 11 x 20.000 = 220.000.
    summary = [(row.arrears, row.suggested) for row in rows]
    assert summary == [(0, 0), (20_000, 20_000), (220_000, 20_000)]

    # October's sheet counts payments up to 31 October: Ani's came later.
    rows = sheet_rows(group, date(2026, 10, 1))
    summary = [(row.member.name, row.arrears, row.suggested) for row in rows]
    assert summary == [("Ani", 200_000, 20_000), ("Budi", 0, 0), ("Citra", 200_000, 20_000)]


def test_a_variant_product_does_not_take_the_voluntary_column(sheet, group):
    account = db.session.execute(sa.select(Account).filter_by(code="2102")).scalar_one()
    variant = SavingsProduct(
        code="SR", name="Tabungan Remitansi", kind="voluntary", account_id=account.id
    )
    db.session.add(variant)
    db.session.flush()
    services.open_account(sheet["Ani"], variant, on=TODAY)
    db.session.commit()
    (ani, *_) = sheet_rows(group, NOVEMBER)
    assert ani.accounts[V].product.code == "SS"


def test_collect_posts_one_balanced_entry_per_paying_member(sheet, group, treasurer):
    ani, budi, citra = sheet["Ani"], sheet["Budi"], sheet["Citra"]
    cash_before = account_balance("cash")
    batch = collect(
        group,
        month=date(2026, 11, 15),
        on=TODAY,
        amounts={
            ani.id: {M: 20_000, V: 50_000},
            budi.id: {M: 20_000, V: 0},
            citra.id: {M: 0, V: 0},
        },
        today=TODAY,
        by=treasurer,
        key="sheet-mawar-nov",
    )
    db.session.commit()

    assert (batch.month, batch.collected_on, batch.created_by_id) == (NOVEMBER, TODAY, treasurer.id)
    entries = batch_entries(batch)
    assert len(entries) == 2  # Citra paid nothing: no entry, no receipt

    def lines(entry):
        return [
            (line.account.purpose, line.side, line.amount, line.subaccount, line.member_id)
            for line in entry.lines
        ]

    assert lines(entries[0]) == [
        ("cash", "D", 70_000, None, ani.id),
        ("savings_mandatory", "C", 20_000, f"savings:{account_of(ani, M).id}", ani.id),
        ("savings_voluntary", "C", 50_000, f"savings:{account_of(ani, V).id}", ani.id),
    ]
    assert lines(entries[1]) == [
        ("cash", "D", 20_000, None, budi.id),
        ("savings_mandatory", "C", 20_000, f"savings:{account_of(budi, M).id}", budi.id),
    ]
    assert {entry.entry_date for entry in entries} == {TODAY}
    assert account_balance("cash") == cash_before + 90_000
    assert savings_balance(account_of(ani, M)) == 240_000
    assert savings_balance(account_of(ani, V)) == 50_000
    assert savings_balance(account_of(budi, M)) == 220_000
    assert savings_balance(account_of(citra, M)) == 0
    # Ani's receipt: both savings with the balance after this payment.
    receipt = [(r.product, r.deposit, r.balance_after) for r in receipt_lines(entries[0])]
    assert receipt == [("Simpanan Wajib", 20_000, 240_000), ("Simpanan Sukarela", 50_000, 50_000)]


@pytest.mark.parametrize(
    ("bad_member", "bad_amounts"),
    [
        ("Citra", {V: -5_000}),
        ("Citra", {M: 12_500.5}),
        ("Citra", {M: 10**15}),
        ("Dewi", {M: 20_000}),  # another group
        ("Eko", {M: 20_000}),  # resigned
        ("Fajar", {M: 20_000}),  # a candidate, not yet active
    ],
    ids=["negative", "fraction", "absurd", "other group", "resigned", "candidate"],
)
def test_one_bad_row_and_nothing_is_written(sheet, group, treasurer, bad_member, bad_amounts):
    ani, budi = sheet["Ani"], sheet["Budi"]
    # The bad row belongs to a member registered after Ani and Budi: their rows go first.
    assert sheet[bad_member].id > budi.id > ani.id
    before = snapshot()
    amounts = {ani.id: {M: 20_000}, budi.id: {M: 20_000}, sheet[bad_member].id: bad_amounts}
    with pytest.raises(DomainError):
        collect(
            group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k1"
        )
    db.session.rollback()  # as the view does on any DomainError
    assert snapshot() == before

    # The corrected sheet goes through with the same form key (it was never used).
    amounts.pop(sheet[bad_member].id)
    collect(group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k1")
    db.session.commit()
    assert snapshot()[:2] == (before[0] + 1, before[1] + 2)


def test_the_same_sheet_key_twice_is_refused(sheet, group, treasurer):
    amounts = {sheet["Ani"].id: {M: 20_000}, sheet["Budi"].id: {V: 10_000}}
    collect(group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k2")
    db.session.commit()
    before = snapshot()
    with force_locale("en"), pytest.raises(DomainError, match="already been recorded"):
        collect(
            group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k2"
        )
    db.session.rollback()
    assert snapshot() == before


def test_an_empty_sheet_is_refused(sheet, group, treasurer):
    before = snapshot()
    amounts = {sheet["Ani"].id: {M: 0, V: 0}}
    with force_locale("en"), pytest.raises(DomainError, match="Nothing to post"):
        collect(
            group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k3"
        )
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    "statement",
    ["UPDATE collection_batch SET collected_on = '2026-11-01'", "DELETE FROM collection_batch"],
)
def test_collection_batches_are_append_only(sheet, group, treasurer, statement):
    amounts = {sheet["Ani"].id: {M: 20_000}}
    collect(group, month=NOVEMBER, on=TODAY, amounts=amounts, today=TODAY, by=treasurer, key="k4")
    db.session.commit()
    with db.engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError, match="collection_batch is append-only"):
            connection.execute(sa.text(statement))
        connection.rollback()
    batch = db.session.execute(sa.select(CollectionBatch)).scalar_one()
    assert batch.collected_on == TODAY
