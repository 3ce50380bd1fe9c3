"""Language, rupiah and date formatting, and the language switch.

Indonesian is the default; English is a switch away (kept in the session). Rupiah are
always written the Indonesian way (`Rp 1.234.567`) whatever the language, because that
is how every receipt and passbook in the cooperative writes them.
"""

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Blueprint, Flask, has_request_context, redirect, request, session, url_for
from flask_babel import get_locale

from coop_app.auth.access import public, safe_next_url
from coop_app.extensions import babel

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
JAKARTA = ZoneInfo("Asia/Jakarta")

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language chosen with the switch, else Indonesian (also for CLI commands)."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in LANGUAGES else "id"


def local_today() -> date:
    """Today's date in the cooperative's time zone (Asia/Jakarta), not the server's."""
    return datetime.now(JAKARTA).date()


def format_rupiah(amount: int | None, *, symbol: bool = True) -> str:
    """`Rp 1.234.567` (or `1.234.567` without the symbol); negatives as `-Rp 5.000`.

    Whole rupiah are grouped here directly (what Babel's id_ID pattern gives, checked
    against Babel in the tests): pages show hundreds of amounts, and Babel's general
    number formatting costs far more per amount than the page's own work.
    """
    if amount is None:
        return ""
    if type(amount) is not int:
        return _babel_rupiah(amount, symbol)
    digits = f"{abs(amount):,}".replace(",", ".")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {digits}" if symbol else f"{sign}{digits}"


def _babel_rupiah(amount, symbol: bool) -> str:
    if not symbol:
        return format_decimal(amount, format="#,##0", locale="id_ID")
    return format_currency(amount, "IDR", format="¤ #,##0", currency_digits=False, locale="id_ID")


@lru_cache(maxsize=8192)
def _format_date(value: date, pattern: str, locale: str) -> str:
    """Babel's date formatting, remembered: pages repeat the same few hundred days."""
    return babel_format_date(value, pattern, locale=locale)


def format_day(value: date | datetime | None) -> str:
    """`17 Maret 2025` in Indonesian, `17 March 2025` in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(JAKARTA).date()
    return _format_date(value, "d MMMM y", str(get_locale()))


def format_month(value: date | None) -> str:
    """`Maret 2025` in Indonesian, `March 2025` in English."""
    if value is None:
        return ""
    return _format_date(value, "MMMM y", str(get_locale()))


def format_ppm_percent(ppm: int) -> str:
    """A rate kept in parts per million as a percentage: 15000 -> `1,5%` (`1.5%` in English)."""
    return format_decimal(Decimal(ppm) / 10_000, locale=str(get_locale())) + "%"


def format_moment(value: datetime | None) -> str:
    """A stored UTC time shown in Jakarta time: `17 Maret 2025 14:03 WIB`."""
    if value is None:
        return ""
    local = value.astimezone(JAKARTA)
    return babel_format_datetime(local, "d MMMM y HH:mm", locale=str(get_locale())) + " WIB"


@bp.post("/language")
@public
def set_language():
    """Switch the interface language and go back to the page the user was on."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next_url(request.form.get("next")) or url_for("dashboard.index"))


def init_app(app: Flask) -> None:
    """Bind Flask-Babel, register the filters and the language switch."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Jakarta")
    app.jinja_env.filters["rupiah"] = format_rupiah
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["ppm_percent"] = format_ppm_percent
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
