"""The loan simulator page: DOMAIN.md's worked example for a member and a treasurer, the
comparison of the methods, a flat loan's effective rate, and refused input."""

import re

import pytest

from coop_app.auth.roles import Role
from tests.helpers import audit_rows

URL = "/loans/simulator/"
WORKED = {"principal": "12.000.000", "months": "12", "rate": "1,5", "rounding": "100"}


def _cells(page: str, testid: str) -> list[list[str]]:
    """The text of each body row of the table marked `data-testid`."""
    table = page.split(f'data-testid="{testid}"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def test_a_member_simulates_the_worked_flat_loan(app, client, login_as):
    login_as(Role.MEMBER)
    before = len(audit_rows(app))
    response = client.get(URL, query_string=WORKED | {"method": "flat", "start": "31/01/2025"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    rows = _cells(page, "schedule")
    assert len(rows) == 12
    assert rows[0] == [
        "1", "28 Februari 2025", "Rp 1.000.000", "Rp 180.000", "Rp 1.180.000", "Rp 11.000.000"
    ]  # fmt: skip
    assert rows[11] == [
        "12",
        "31 Januari 2026",
        "Rp 1.000.000",
        "Rp 180.000",
        "Rp 1.180.000",
        "Rp 0",
    ]
    totals = page.split("<tfoot>")[1].split("</tfoot>")[0]
    for amount in ("Rp 12.000.000", "Rp 2.160.000", "Rp 14.160.000"):
        assert amount in totals
    # 1.5 % flat costs about 2.64 % a month effective; 12 x 2.643 % = 31.72 % a year
    effective = page.split('data-testid="effective-rate"')[1].split("</div>")[0]
    assert "1,50 %" in effective and "18,00 %" in effective
    assert "2,64 %" in effective and "31,72 %" in effective
    assert audit_rows(app)[before:] == [], "a simulation writes nothing"


def test_the_three_methods_side_by_side(client, login_as):
    login_as(Role.MEMBER)
    page = client.get(URL, query_string=WORKED | {"method": "annuity"}).get_data(as_text=True)
    comparison = _cells(page, "comparison")
    assert [row[1:] for row in comparison] == [
        ["Rp 1.180.000", "Rp 1.180.000", "Rp 2.160.000"],  # flat
        ["Rp 1.180.000", "Rp 1.015.000", "Rp 1.170.000"],  # declining
        # annuity: A = 1,100,159.91 rounded up to Rp100; the last and the total interest
        # come from the hand-checked schedule of tests/loans/test_schedule.py
        ["Rp 1.100.200", "Rp 1.099.678", "Rp 1.201.878"],
    ]
    assert "2,64 %" in comparison[0][0]
    assert 'data-testid="effective-rate"' not in page  # shown in full for flat loans only
    assert _cells(page, "schedule")[0][4] == "Rp 1.100.200"


def test_a_treasurer_simulates_the_worked_declining_loan(client, login_as):
    login_as(Role.TREASURER)
    response = client.get(URL, query_string=WORKED | {"method": "declining"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    installments = [row[4] for row in _cells(page, "schedule")]
    assert installments[0] == "Rp 1.180.000"
    assert installments[1] == "Rp 1.165.000"
    assert installments[-1] == "Rp 1.015.000"
    assert "Rp 1.170.000" in page.split("<tfoot>")[1]
    assert 'href="/loans/' in page  # staff get the way back to the loans


def test_the_empty_form_shows_no_schedule(client, login_as):
    login_as(Role.MEMBER)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="simulator-form"' in page
    assert 'data-testid="schedule"' not in page
    assert re.search(r'<input[^>]*name="months"[^>]*value="12"', page)  # the defaults
    assert re.search(r'<input[^>]*name="rounding"[^>]*value="100"', page)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"months": "0"}, "Angka harus antara 1 dan 360."),
        ({"months": "361"}, "Angka harus antara 1 dan 360."),
        ({"principal": "dua juta"}, "Tulis jumlah dengan angka saja, misalnya 1.250.000."),
        ({"principal": ""}, "Isian ini wajib diisi."),
        ({"rounding": "0"}, "Angka harus antara 1 dan 100000."),
        ({"method": "balloon"}, "Pilihan tidak valid."),
    ],
)
def test_bad_input_shows_an_indonesian_message_and_no_schedule(client, login_as, change, message):
    login_as(Role.MEMBER)
    response = client.get(URL, query_string=WORKED | {"method": "flat"} | change)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'data-testid="simulation"' not in page
