"""RupiahField: what people type is accepted, what is ambiguous is refused, in Indonesian."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from coop_app.forms import MAX_RUPIAH, BaseForm, RupiahError, RupiahField, parse_rupiah
from coop_app.i18n import format_rupiah


class AmountForm(BaseForm):
    class Meta:
        csrf = False

    amount = RupiahField("Jumlah", min_value=1)


@pytest.mark.parametrize(
    "text",
    ["1.250.000", "Rp 1.250.000", "Rp1.250.000", "rp. 1.250.000", "1250000", " 1250000 ",
     "1.250.000,00", "Rp 1 250 000"],
)  # fmt: skip
def test_accepts_what_people_type(text):
    assert parse_rupiah(text) == 1_250_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.250.000,50", "Jumlah rupiah harus bilangan bulat, tanpa sen."),
        ("1,5", "Jumlah rupiah harus bilangan bulat, tanpa sen."),
        ("-5000", "Jumlah tidak boleh negatif."),
        ("(5.000)", "Jumlah tidak boleh negatif."),
        ("1.25", "Penulisan jumlah tidak jelas."),
        ("1,250,000", "Penulisan jumlah tidak jelas."),
        ("1.2500.000", "Penulisan jumlah tidak jelas."),
        ("1e6", "Tulis jumlah dengan angka saja"),
        ("satu juta", "Tulis jumlah dengan angka saja"),
        ("١٢٣", "Tulis jumlah dengan angka saja"),
        ("Rp", "Masukkan jumlah uang."),
    ],
)
def test_refuses_fractions_negatives_and_ambiguity_in_indonesian(app, text, message):
    with app.test_request_context(), pytest.raises(RupiahError) as refused:
        parse_rupiah(text)
    assert str(refused.value).startswith(message)


def _validate(app, text: str) -> AmountForm:
    with app.test_request_context():
        form = AmountForm(formdata=MultiDict({"amount": text}))
        form.validate()
        form.rendered = form.amount._value()
        return form


def test_field_gives_an_int_and_shows_it_back_with_dots(app):
    form = _validate(app, "Rp 1250000")
    assert form.amount.data == 1_250_000 and form.errors == {}
    assert form.rendered == "1.250.000"


def test_field_keeps_bad_text_for_correction_and_says_why(app):
    form = _validate(app, "1,250,000")
    assert form.amount.data is None
    assert form.rendered == "1,250,000"
    assert form.errors["amount"][0].startswith("Penulisan jumlah tidak jelas.")


def test_field_applies_its_bounds(app):
    assert _validate(app, "0").errors["amount"] == ["Jumlah paling sedikit Rp 1."]
    too_much = _validate(app, str(MAX_RUPIAH + 1)).errors["amount"]
    assert too_much == ["Jumlah terlalu besar (paling banyak Rp 10.000.000.000.000)."]


def test_empty_field_is_no_amount(app):
    form = _validate(app, "   ")
    assert form.amount.data is None and form.errors == {}


amounts = st.integers(min_value=0, max_value=MAX_RUPIAH)


@given(amounts)
def test_round_trip_through_the_rupiah_format(amount):
    assert parse_rupiah(format_rupiah(amount)) == amount
    assert parse_rupiah(format_rupiah(amount, symbol=False)) == amount
    assert parse_rupiah(str(amount)) == amount


@given(st.integers(min_value=1, max_value=MAX_RUPIAH), st.integers(min_value=1, max_value=99))
def test_any_real_fraction_is_refused(amount, cents):
    with pytest.raises(RupiahError):
        parse_rupiah(f"{format_rupiah(amount, symbol=False)},{cents:02d}")


@given(st.integers(min_value=1, max_value=MAX_RUPIAH))
def test_any_negative_is_refused(amount):
    with pytest.raises(RupiahError):
        parse_rupiah("-" + format_rupiah(amount, symbol=False))
