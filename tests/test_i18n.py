"""Languages, the catalogue's completeness, and the rupiah and date filters."""

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from flask import render_template_string
from hypothesis import given
from hypothesis import strategies as st

from coop_app.i18n import format_rupiah

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "coop_app/translations/id/LC_MESSAGES/messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Every msgid in the code and templates, extracted the way `make extract-messages` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "N_", "-k", "N_plural:1,2", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_the_indonesian_catalogue_translates_every_message(extracted):
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id
        for message in catalogue
        if message.id and "fuzzy" not in message.flags and all(_strings(message))
    }
    assert sorted(map(str, extracted - translated)) == []
    assert len(extracted) > 100  # extraction really ran over the code and templates


def _strings(message) -> tuple:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (1234567, "Rp 1.234.567"),
        (0, "Rp 0"),
        (-5000, "-Rp 5.000"),
        (10**12, "Rp 1.000.000.000.000"),
    ],
)
def test_rupiah_filter(amount, text):
    assert format_rupiah(amount) == text


def test_rupiah_without_symbol_keeps_the_dots():
    assert format_rupiah(1250000, symbol=False) == "1.250.000"


def _render(app, template: str, lang: str | None = None, **values) -> str:
    with app.test_request_context():
        from flask import session

        if lang:
            session["lang"] = lang
        return render_template_string(template, **values)


def test_date_filter_in_both_languages(app):
    day = date(2025, 3, 17)
    assert _render(app, "{{ d | day }}", d=day) == "17 Maret 2025"
    assert _render(app, "{{ d | day }}", "en", d=day) == "17 March 2025"


def test_times_are_stored_in_utc_and_shown_in_jakarta_time(app):
    moment = datetime(2025, 3, 16, 20, 30, tzinfo=UTC)
    assert _render(app, "{{ t | moment }}", t=moment) == "17 Maret 2025 03:30 WIB"
    assert _render(app, "{{ t | day }}", t=moment) == "17 Maret 2025"


def test_rupiah_is_written_the_indonesian_way_in_english_too(app):
    assert _render(app, "{{ 1250000 | rupiah }}", "en") == "Rp 1.250.000"


@given(st.integers(min_value=-(10**15), max_value=10**15), st.booleans())
def test_rupiah_fast_path_writes_what_babel_writes(amount, symbol):
    """The filter groups whole rupiah itself; Babel's id_ID pattern is the oracle."""
    if symbol:
        expected = format_currency(
            amount, "IDR", format="¤ #,##0", currency_digits=False, locale="id_ID"
        )
    else:
        expected = format_decimal(amount, format="#,##0", locale="id_ID")
    assert format_rupiah(amount, symbol=symbol) == expected
