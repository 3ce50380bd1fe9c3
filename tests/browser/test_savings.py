"""The treasurer's savings journey in a real browser: a deposit and its receipt, a village
group's collection sheet sent with a double click, and the supervisor's trial balance; a
sheet on which a member also pays a late loan installment and its penalty."""

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.ledger.models import JournalEntry
from coop_app.loans import applications
from coop_app.loans import services as loans
from coop_app.loans.models import Loan, LoanStatus
from coop_app.loans.products import add_loan_product
from coop_app.members.models import Member, MemberStatus, VillageGroup
from coop_app.members.services import register_member
from coop_app.savings.models import CollectionBatch
from tests.browser.test_journey import PHONE, assert_no_browser_problems, heading, log_in
from tests.loans.conftest import FLAT
from tests.members.conftest import member_data

pytestmark = pytest.mark.browser

MEMBERS = ("Siti Aminah", "Tuti Handayani", "Wartini")


@pytest.fixture
def members(live):
    """Three active members of Kalibeber · Mawar (their savings accounts open with them)."""
    with live.app.test_request_context(method="POST"):
        group = (
            db.session.execute(sa.select(VillageGroup).where(VillageGroup.name == "Mawar"))
            .scalars()
            .first()
        )
        for n, name in enumerate(MEMBERS, start=1):
            data = member_data(
                group.village_id,
                nik=f"330701450185000{n}",
                name=name,
                group_id=group.id,
                join_date=date(2026, 1, 15),
            )
            register_member(data, today=date(2026, 1, 15), by=None, status=MemberStatus.ACTIVE)
        db.session.commit()


def _count(live, model) -> int:
    with live.app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_treasurer_records_a_deposit_and_a_collection_sheet_supervisor_reads_the_books(
    live, members, open_context, browser_problems, screenshot
):
    page = open_context(viewport=PHONE).new_page()
    log_in(page, live.url, "bendahara")

    # A deposit from the member's page, then the receipt.
    page.goto(f"{live.url}/members/")
    page.get_by_role("link", name="Siti Aminah").click()
    savings = page.locator("#section-savings")
    expect(savings).to_contain_text("Simpanan Sukarela")
    screenshot(page, "savings-01-member-section")
    savings.locator("li", has_text="Simpanan Sukarela").get_by_role("link", name="Setor").click()
    expect(heading(page, "Setor")).to_be_visible()
    page.get_by_label("Jumlah (Rp)").fill("150.000")
    screenshot(page, "savings-02-deposit-form")
    page.get_by_role("button", name="Simpan dan cetak kuitansi").click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("KUITANSI")
    expect(receipt).to_contain_text("Siti Aminah")
    expect(page.get_by_test_id("receipt-total")).to_have_text("Rp 150.000")
    expect(page.get_by_test_id("receipt-number")).to_have_text(r"KW-0000001")
    expect(page.get_by_role("button", name="Cetak")).to_be_visible()
    screenshot(page, "savings-03-receipt")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Cetak")).to_be_hidden()
    screenshot(page, "savings-04-receipt-printed")
    page.emulate_media(media="screen")

    # The group's monthly sheet: mandatory amounts are suggested; one voluntary typed in.
    page.goto(f"{live.url}/savings/")
    page.get_by_role("link", name="Kalibeber · Mawar").click()
    expect(heading(page, "Lembar setoran")).to_be_visible()
    page.get_by_label("Tuti Handayani: Sukarela (Rp)").fill("25.000")
    screenshot(page, "savings-05-collection-sheet")
    page.get_by_role("button", name="Bukukan lembar dan cetak kuitansi").dblclick()
    expect(page.get_by_role("heading", name="Kuitansi setoran")).to_be_visible()
    expect(page.get_by_test_id("receipt")).to_have_count(3)
    screenshot(page, "savings-06-collection-receipts")
    assert _count(live, CollectionBatch) == 1
    assert _count(live, JournalEntry) == 4, "one deposit and one entry per member, once"

    # The supervisor opens the trial balance.
    supervisor = open_context(viewport=PHONE).new_page()
    log_in(supervisor, live.url, "pengawas")
    supervisor.goto(f"{live.url}/books/")
    expect(heading(supervisor, "Neraca saldo")).to_be_visible()
    table = supervisor.get_by_test_id("trial-balance")
    # Cash received: 150.000 + 3 x 20.000 mandatory + 25.000 voluntary = 235.000.
    expect(table.locator("tr", has_text="Kas")).to_contain_text("Rp 235.000")
    expect(supervisor.get_by_text("Debet sama dengan kredit.")).to_be_visible()
    screenshot(supervisor, "savings-07-trial-balance-phone")
    assert_no_browser_problems(browser_problems)


@pytest.fixture
def late_loan(live, members):
    """Wartini's loan of 1.200.000 over 6 months (218.000 a month, flat 1,5 %), paid out on
    the first of the month before last: by this month's end two installments are due, the
    first of them late (with a penalty) whatever day it is."""
    today = local_today()
    first, month = today.replace(day=1), today.month - 2
    paid_out = first.replace(year=first.year + (month - 1) // 12, month=(month - 1) % 12 + 1)
    with live.app.test_request_context(method="POST"):
        product = add_loan_product(**FLAT | {"admin_fee_ppm": 0, "max_arrears_months": 24})
        wartini = db.session.execute(sa.select(Member).filter_by(name="Wartini")).scalar_one()
        treasurer = db.session.execute(sa.select(User).filter_by(username="bendahara")).scalar_one()
        chair = db.session.execute(sa.select(User).filter_by(username="ketua")).scalar_one()
        loan = applications.apply_for_loan(
            wartini,
            product,
            amount=1_200_000,
            months=6,
            purpose="Modal warung",
            on=paid_out,
            today=today,
            by=treasurer,
        )
        applications.approve_loan(
            loan, by=chair, on=paid_out, today=today, note="", expected_version=loan.version
        )
        loans.disburse_loan(
            loan,
            on=paid_out,
            today=today,
            by=treasurer,
            key="disburse-1",
            expected_version=loan.version,
        )
        db.session.commit()
        return loan.id, loan.version


def test_a_late_installment_and_its_penalty_on_the_sheet_on_a_phone(
    live, late_loan, open_context, browser_problems, screenshot
):
    page = open_context(viewport=PHONE).new_page()
    log_in(page, live.url, "bendahara")
    page.goto(f"{live.url}/savings/")
    page.get_by_role("link", name="Kalibeber · Mawar").click()
    expect(heading(page, "Lembar setoran")).to_be_visible()
    item = page.get_by_test_id("sheet-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Pinjaman PJ-00001")
    expect(item).to_contain_text("terlambat")
    installment = item.locator('input[name^="installment-"]')
    penalty = item.locator('input[name^="penalty-"]')
    # Two installments of 218.000 are due by the month's end, and a penalty is due.
    expect(installment).to_have_value("436.000")
    expect(penalty).not_to_have_value("")
    screenshot(page, "savings-08-collection-sheet-with-a-loan")
    page.get_by_role("button", name="Bukukan lembar dan cetak kuitansi").click()
    expect(page.get_by_role("heading", name="Kuitansi setoran")).to_be_visible()
    expect(page.get_by_test_id("receipt")).to_have_count(3)
    part = page.get_by_test_id("receipt-part")
    expect(part).to_have_count(1)
    for word in ("Pinjaman PJ-00001", "Denda", "Jasa", "Pokok", "Sisa pokok"):
        expect(part).to_contain_text(word)
    screenshot(page, "savings-09-collection-receipt-with-a-loan")
    with live.app.app_context():
        loan = db.session.get(Loan, late_loan[0])
        assert loan.status == LoanStatus.ACTIVE and loan.version > late_loan[1]
        assert db.session.execute(sa.select(sa.func.count(CollectionBatch.id))).scalar() == 1
    assert_no_browser_problems(browser_problems)
