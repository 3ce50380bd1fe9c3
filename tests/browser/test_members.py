"""The treasurer's member journey: register, find, edit, import a file with a bad row, fix it."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journey import PHONE, heading, log_in

pytestmark = pytest.mark.browser

HEADER = "NIK,Nama,Jenis kelamin,Tanggal lahir,Desa,Kelompok,No HP,Tanggal masuk,Status\n"
GOOD = "3307015508870002,Dewi Lestari,P,15/08/1987,Sojokerto,Mawar,081298765432,01/02/2023,aktif\n"
BAD = "330701550887000,Sri Rahayu,P,31/02/1990,Sojokerto,,0812,01/02/2023,aktif\n"
FIXED = "3307015508870003,Sri Rahayu,P,28/02/1990,Sojokerto,,081211112222,01/02/2023,aktif\n"


def register_member(page: Page) -> None:
    page.get_by_role("link", name="Daftarkan anggota").click()
    page.get_by_label("NIK").fill("3307014501850001")
    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("Jenis kelamin").select_option("P")
    page.get_by_label("Tanggal lahir").fill("05/01/1985")
    page.get_by_label("Desa").select_option(label="Kalibeber")
    page.get_by_label("Kelompok").select_option(label="Kalibeber · Mawar")
    page.get_by_label("Nomor HP").fill("0812 3456 7890")
    page.get_by_label("Tanggal masuk").fill("17/03/2024")
    page.get_by_role("button", name="Simpan").click()


def upload(page: Page, path) -> None:
    page.get_by_role("link", name="Impor").click()
    page.get_by_label("Berkas spreadsheet").set_input_files(str(path))
    page.get_by_role("button", name="Unggah dan periksa").click()


def test_treasurer_registers_finds_edits_and_imports_members(
    live_server, open_context, browser_problems, screenshot, tmp_path
):
    page = open_context().new_page()
    log_in(page, live_server, "bendahara")
    page.get_by_role("link", name="Anggota", exact=True).first.click()

    register_member(page)
    expect(heading(page, "Siti Aminah")).to_be_visible()
    expect(page.get_by_text("KPM-00001").first).to_be_visible()
    expect(page.get_by_test_id("member-phone")).to_have_text("081234567890")
    screenshot(page, "20-member-registered")

    page.get_by_role("link", name="Anggota", exact=True).first.click()
    page.get_by_label("Cari", exact=True).fill("aminah")
    page.get_by_role("button", name="Cari").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Siti Aminah")
    screenshot(page, "21-member-search")

    page.get_by_role("link", name="Siti Aminah").click()
    page.get_by_role("link", name="Ubah", exact=True).click()
    page.get_by_label("Nomor HP").fill("+62 811 2222 333")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("alert")).to_have_text("Data anggota sudah disimpan.")
    expect(page.get_by_test_id("member-phone")).to_have_text("+628112222333")

    page.get_by_role("link", name="Anggota", exact=True).first.click()
    bad_file = tmp_path / "anggota.csv"
    bad_file.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    browser_problems.expect_status("/members/import", 422)
    upload(page, bad_file)
    problems = page.get_by_test_id("problem-table")
    expect(problems).to_contain_text("NIK")
    expect(problems).to_contain_text("Tanggal lahir")
    expect(problems.locator("tbody tr").first).to_contain_text("3")
    screenshot(page, "22-import-bad-row")

    fixed_file = tmp_path / "anggota-perbaikan.csv"
    fixed_file.write_text(HEADER + GOOD + FIXED, encoding="utf-8")
    page.goto(f"{live_server}/members/")
    upload(page, fixed_file)
    expect(page.get_by_test_id("import-ready")).to_be_visible()
    screenshot(page, "23-import-ready")
    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("2")
    screenshot(page, "24-import-done")
    page.get_by_role("link", name="Anggota", exact=True).first.click()
    expect(page.locator("tbody tr")).to_have_count(3)


def test_member_pages_on_a_phone(live_server, open_context, browser_problems, screenshot):
    page = open_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(page, live_server, "bendahara")
    page.goto(f"{live_server}/members/")
    register_member(page)
    expect(heading(page, "Siti Aminah")).to_be_visible()
    screenshot(page, "26-phone-member-page")
    page.goto(f"{live_server}/members/")
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot(page, "27-phone-member-list")
    page.goto(f"{live_server}/members/new")
    screenshot(page, "25-phone-member-form")
