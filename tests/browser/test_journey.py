"""Journeys in a real browser: logging in, the language switch, logging out, the phone menu."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

#: A common phone screen, in CSS pixels.
PHONE = {"width": 390, "height": 844}


# --- helpers -----------------------------------------------------------------------------


def on_path(server: str, path: str) -> re.Pattern:
    """A URL pattern for `path` on the live server, with or without a query string."""
    return re.compile(rf"^{re.escape(server + path)}(\?.*)?$")


def submit_login(page: Page, username: str, password: str) -> None:
    """Fill in the (Indonesian) login form and send it."""
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


def log_in(page: Page, server: str, username: str) -> None:
    """Open the login page, log in and wait for the dashboard."""
    page.goto(f"{server}/auth/login")
    submit_login(page, username, PASSWORD)
    expect(page).to_have_url(f"{server}/")


def heading(page: Page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


def menu_link(page: Page, name: str):
    """A link of the navbar menu (not of the dashboard's own list of pages)."""
    return page.locator("#main-menu").get_by_role("link", name=name, exact=True)


def alert(page: Page):
    return page.get_by_role("alert")


def dashboard_with(context, cookies: list, server: str):
    """Open the dashboard in `context` with copied cookies; returns its greeting."""
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(f"{server}/")
    return page.get_by_role("heading", name=re.compile("^Selamat datang"))


def assert_no_browser_problems(problems) -> None:
    """No failed response and no console error other than those the test expected."""
    unexpected = problems.unexpected()
    assert not unexpected, "\n".join(["browser problems:", *map(str, unexpected)])


# --- journeys ----------------------------------------------------------------------------


def test_treasurer_logs_in_switches_language_and_logs_out(
    live_server, open_context, browser_problems, screenshot
):
    context = open_context()
    page = context.new_page()

    # a. The login page speaks Indonesian.
    page.goto(f"{live_server}/auth/login")
    expect(page).to_have_title("Masuk · Koperasi")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(heading(page, "Masuk")).to_be_visible()
    expect(page.get_by_label("Nama pengguna")).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    screenshot(page, "01-login-desktop")

    # b. A wrong password is refused in Indonesian (the form comes back with 422).
    browser_problems.expect_status("/auth/login", 422)
    submit_login(page, "bendahara", "bukan-kata-sandi-yang-benar")
    expect(alert(page)).to_have_text("Nama pengguna atau kata sandi salah.")
    expect(page.get_by_label("Nama pengguna")).to_have_value("bendahara")
    screenshot(page, "02-login-wrong-password")

    # c. The treasurer reaches the dashboard; the board's pages are not in her menu.
    submit_login(page, "bendahara", PASSWORD)
    expect(page).to_have_url(f"{live_server}/")
    expect(heading(page, "Selamat datang, Sri Wahyuni")).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_have_text("Sri Wahyuni · Bendahara")
    expect(menu_link(page, "Beranda")).to_be_visible()
    for hidden in ("Pengguna", "Catatan aktivitas"):
        expect(page.locator("#main-menu")).not_to_contain_text(hidden)
        expect(page.get_by_role("link", name=hidden)).to_have_count(0)
    screenshot(page, "03-dashboard-treasurer")

    # d. The language switch turns the page into English, and back.
    switch = page.get_by_test_id("language-switch")
    expect(switch).to_have_text("English")
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Home · Cooperative")
    expect(heading(page, "Welcome, Sri Wahyuni")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(menu_link(page, "Home")).to_be_visible()
    screenshot(page, "04-dashboard-english")
    expect(switch).to_have_text("Bahasa Indonesia")
    switch.click()
    expect(heading(page, "Selamat datang, Sri Wahyuni")).to_be_visible()

    # e. Logging out leads back to the login page. (Its cookie, copied into another
    #    browser before, opens the dashboard there: the check in f. means something.)
    cookies = context.cookies()
    assert "session" in {cookie["name"] for cookie in cookies}
    expect(dashboard_with(open_context(), cookies, live_server)).to_be_visible()
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(f"{live_server}/auth/login")
    expect(alert(page)).to_have_text("Anda sudah keluar.")
    expect(heading(page, "Masuk")).to_be_visible()
    screenshot(page, "05-logged-out")

    # f. A copy of the old cookie, in another browser, no longer opens the dashboard.
    thief = open_context()
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto(f"{live_server}/")
    expect(stolen).to_have_url(on_path(live_server, "/auth/login"))
    expect(heading(stolen, "Masuk")).to_be_visible()
    expect(alert(stolen)).to_have_text("Silakan masuk untuk membuka halaman ini.")
    expect(stolen.get_by_test_id("whoami")).to_have_count(0)
    screenshot(stolen, "06-old-cookie-refused")

    assert_no_browser_problems(browser_problems)


def test_admin_uses_the_menu_on_a_phone(live_server, open_context, browser_problems, screenshot):
    context = open_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    expect(heading(page, "Masuk")).to_be_visible()
    screenshot(page, "07-phone-login")
    submit_login(page, "ketua", PASSWORD)
    expect(heading(page, "Selamat datang, Siti Rahayu")).to_be_visible()

    # The menu is folded behind the toggler button.
    toggler = page.get_by_role("button", name="Menu")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(menu_link(page, "Pengguna")).to_be_hidden()
    screenshot(page, "08-phone-menu-collapsed")

    # Tapping it unfolds the menu, with the board's pages.
    toggler.tap()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#main-menu")).to_have_class(re.compile(r"\bshow\b"))
    expect(menu_link(page, "Pengguna")).to_be_visible()
    expect(menu_link(page, "Catatan aktivitas")).to_be_visible()
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    screenshot(page, "09-phone-menu-open")

    # The users page lists the journey's three users.
    menu_link(page, "Pengguna").tap()
    expect(page).to_have_url(f"{live_server}/admin/users/")
    expect(heading(page, "Pengguna")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="bendahara")).to_contain_text("Sri Wahyuni")
    expect(rows.filter(has_text="bendahara")).to_contain_text("Bendahara")
    expect(rows.filter(has_text="ketua")).to_contain_text("Siti Rahayu")
    expect(page.get_by_role("link", name="Pengguna baru")).to_be_visible()
    screenshot(page, "10-phone-users-list")

    # The board adds a trainer and gets the one-time password slip to hand over.
    page.get_by_role("link", name="Pengguna baru").tap()
    page.get_by_label("Nama pengguna").fill("pelatih")
    page.get_by_label("Nama lengkap").fill("Dewi Lestari")
    page.get_by_label("Peran").select_option(label="Pelatih")
    screenshot(page, "12-phone-new-user-form")
    page.get_by_role("button", name="Simpan").tap()
    slip = page.get_by_test_id("password-slip")
    expect(slip).to_contain_text("Dewi Lestari")
    expect(page.get_by_test_id("slip-username")).to_have_text("pelatih")
    expect(page.get_by_test_id("slip-password")).to_have_text(
        re.compile(r"^[a-z]+(-[a-z]+){3}-\d{2}$")
    )
    expect(page.get_by_role("button", name="Cetak slip")).to_be_visible()
    screenshot(page, "13-phone-password-slip")

    assert_no_browser_problems(browser_problems)


def test_treasurer_is_refused_the_users_page(
    live_server, open_context, browser_problems, screenshot
):
    page = open_context().new_page()
    log_in(page, live_server, "bendahara")

    browser_problems.expect_status("/admin/users/", 403)
    response = page.goto(f"{live_server}/admin/users/")
    assert response is not None and response.status == 403
    expect(heading(page, "Akses ditolak")).to_be_visible()
    expect(page.get_by_text("Anda tidak punya akses ke halaman ini.")).to_be_visible()
    expect(page.get_by_role("link", name="Kembali ke beranda")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(0)
    screenshot(page, "11-treasurer-refused-users-page")

    assert_no_browser_problems(browser_problems)
