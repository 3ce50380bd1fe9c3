"""The loan journey in a real browser: the treasurer records an application, the chair
approves it, the treasurer pays it out and records a partial repayment, and the member's
page shows what is still owed."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.loans.products import add_loan_product
from coop_app.members.models import Member, MemberStatus, VillageGroup
from coop_app.members.services import register_member
from tests.browser.test_journey import PHONE, assert_no_browser_problems, heading, log_in
from tests.loans.conftest import FLAT
from tests.members.conftest import member_data

pytestmark = pytest.mark.browser


@pytest.fixture
def borrower(live) -> int:
    """An active member who joined this month (nothing behind), and a flat loan product."""
    with live.app.test_request_context(method="POST"):
        group = db.session.execute(sa.select(VillageGroup)).scalars().first()
        joined = local_today() - timedelta(days=2)
        data = member_data(
            group.village_id, name="Siti Aminah", group_id=group.id, join_date=joined
        )
        member = register_member(data, today=joined, by=None, status=MemberStatus.ACTIVE)
        add_loan_product(**FLAT | {"min_months": 3, "penalty_cap": None})
        db.session.commit()
        return member.id


def test_treasurer_records_chair_approves_treasurer_pays_out_and_takes_a_repayment(
    live, borrower, open_context, browser_problems, screenshot
):
    treasurer = open_context(viewport=PHONE).new_page()
    log_in(treasurer, live.url, "bendahara")
    treasurer.goto(f"{live.url}/members/{borrower}")
    treasurer.get_by_role("link", name="Catat pengajuan pinjaman").click()
    expect(heading(treasurer, "Pengajuan pinjaman")).to_be_visible()
    treasurer.get_by_label("Jumlah (Rp)").fill("12.000.000")
    treasurer.get_by_label("Jangka waktu (bulan)").fill("12")
    treasurer.get_by_label("Keperluan").fill("Modal warung kelontong")
    screenshot(treasurer, "loans-01-application")
    treasurer.get_by_role("button", name="Catat pengajuan").click()
    expect(treasurer.get_by_test_id("loan-status")).to_have_text("Diajukan")
    expect(treasurer.get_by_text("Menunggu keputusan pengurus.")).to_be_visible()
    loan_url = treasurer.url

    chair = open_context(viewport=PHONE).new_page()
    log_in(chair, live.url, "ketua")
    chair.goto(loan_url)
    chair.get_by_label("Catatan").fill("Usaha sudah berjalan")
    screenshot(chair, "loans-02-decision")
    chair.get_by_role("button", name="Setujui").click()
    expect(chair.get_by_test_id("loan-status")).to_have_text("Disetujui")

    treasurer.goto(loan_url)
    treasurer.get_by_role("button", name="Cairkan pinjaman dan cetak kuitansi").click()
    # The loan of 12.000.000: the 1 % admin fee of 120.000 is kept, 11.880.000 paid in cash.
    expect(treasurer.get_by_test_id("receipt-total")).to_have_text("Rp 12.000.000")
    expect(treasurer.get_by_test_id("receipt")).to_contain_text("Rp 11.880.000")
    screenshot(treasurer, "loans-03-disbursement-receipt")
    treasurer.goto(loan_url)
    expect(treasurer.get_by_test_id("principal-owed")).to_have_text("Rp 12.000.000")
    expect(treasurer.get_by_test_id("schedule").locator("tbody tr")).to_have_count(12)
    treasurer.get_by_label("Jumlah dibayar (Rp)").fill("500.000")
    screenshot(treasurer, "loans-04-loan-page")
    treasurer.get_by_role("button", name="Simpan dan cetak kuitansi").click()
    # Nothing is due yet: 500.000 pays the first month's interest (180.000) and 320.000
    # of principal ahead of time.
    expect(treasurer.get_by_test_id("receipt-owed")).to_have_text("Rp 11.680.000")
    screenshot(treasurer, "loans-05-repayment-receipt")

    treasurer.goto(f"{live.url}/members/{borrower}")
    section = treasurer.locator("#section-loans")
    expect(section).to_contain_text("Sisa pokok: Rp 11.680.000")
    screenshot(treasurer, "loans-06-member-page")
    with live.app.app_context():
        assert db.session.get(Member, borrower).name == "Siti Aminah"
    assert_no_browser_problems(browser_problems)
