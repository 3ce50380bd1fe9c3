"""The funder report: counts worked out by hand, charts that parse, no personal data."""

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa
from defusedxml import ElementTree

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.members import services
from coop_app.members.models import MemberStatus, Village
from coop_app.members.validation import MemberData
from coop_app.reports import queries
from tests.helpers import post

TODAY = date(2026, 11, 22)
SVG = "{http://www.w3.org/2000/svg}"

#: name, sex, village, final status, return date, placements (None: no consent recorded).
#: Wartini's Hong Kong placement is recorded after her Malaysian one but started earlier:
#: her last placement is the Malaysian one (latest start, not latest recorded).
PEOPLE = [
    ("Siti Aminah", "P", "Kalibeber", "active", date(2016, 6, 1), [
        ("Taiwan", "Caregiving", date(2010, 1, 1), date(2012, 1, 1)),
        ("Hong Kong", "Domestic work", date(2013, 1, 1), date(2016, 5, 1)),
    ]),
    ("Wartini Susanti", "P", "Kalibeber", "active", date(2013, 3, 1), [
        ("Malaysia", "Factory", date(2011, 3, 1), date(2013, 2, 1)),
        ("Hong Kong", "Domestic work", date(2008, 1, 1), date(2010, 1, 1)),
    ]),
    ("Budi Santoso", "L", "Sojokerto", "active", None, []),
    ("Dewi Kurniasih", "P", "Sojokerto", "active", None, None),
    ("Eko Prasetyo", "L", "Sojokerto", "resigned", date(2018, 2, 1), [
        ("South Korea", "Factory", date(2015, 1, 1), date(2018, 1, 1)),
    ]),
    ("Ani Rahmawati", "P", "Kalibeber", "candidate", None, None),
]  # fmt: skip


def _nik(index: int) -> str:
    return f"33071145018{index:05d}"


def _phone(index: int) -> str:
    return f"08139876{index:04d}"


def _register(staff, village_id, index, name, sex, status, returned, placements) -> None:
    data = MemberData(
        nik=_nik(index),
        name=name,
        sex=sex,
        birth_date=date(1985, 1, 5),
        village_id=village_id,
        join_date=date(2020, 1, 1),
        address=f"RT 0{index}/RW 09 Dusun Rahasia{index}",
        phone=_phone(index),
        heir=f"Pewaris Rahasia{index}",
    )
    member = services.register_member(data, today=TODAY, by=staff)
    if placements is not None:
        profile = services.record_consent(member, on=date(2020, 2, 1), today=TODAY, by=staff)
        services.update_profile(
            member,
            expected_version=profile.version,
            return_date=returned,
            placement_agency=f"PT Agen Rahasia{index}",
            business=f"Usaha Rahasia{index}",
        )
        for country, sector, start, end in placements:
            services.add_placement(
                member, country=country, sector=sector, start=start, end=end, today=TODAY
            )
    steps = {"active": ["active"], "resigned": ["active", "resigned"]}.get(status, [])
    for on, to in zip((date(2020, 1, 10), date(2023, 1, 1)), steps, strict=False):
        services.change_status(
            member,
            to=MemberStatus(to),
            on=on,
            reason="Alasan uji",
            today=TODAY,
            by=staff,
            expected_version=member.version,
        )


@pytest.fixture
def known(app, make_user):
    """Three villages shown (Garung has nobody), one closed village hidden, six members."""
    make_user(Role.TREASURER, "bendahara")
    with app.app_context():
        staff = db.session.execute(sa.select(User).where(User.username == "bendahara")).scalar()
        villages = {
            name: Village(name=name, subdistrict=subdistrict, active=name != "Lama")
            for name, subdistrict in (
                ("Kalibeber", "Mojotengah"),
                ("Sojokerto", "Leksono"),
                ("Garung", "Garung"),
                ("Lama", "Kertek"),
            )
        }
        db.session.add_all(villages.values())
        db.session.flush()
        for index, (name, sex, village, status, returned, placements) in enumerate(PEOPLE, 1):
            _register(staff, villages[village].id, index, name, sex, status, returned, placements)
        db.session.commit()


# --- the aggregate queries ---------------------------------------------------------------


def test_counts_of_active_members(app, known):
    with app.app_context():
        assert queries.count_members(status="active") == 4
        assert queries.count_profiles(status="active") == 3
        assert queries.by_village(status="active") == [
            ("Kalibeber (Mojotengah)", 2),
            ("Sojokerto (Leksono)", 2),
            ("Garung (Garung)", 0),
        ]
        assert queries.by_sex(status="active") == [("P", 3), ("L", 1)]
        assert queries.by_return_year(status="active") == [
            (2013, 1),
            (2014, 0),
            (2015, 0),
            (2016, 1),
            (None, 1),
        ]
        assert queries.by_last_placement("country", status="active") == [
            ("Hong Kong", 1),
            ("Malaysia", 1),
            (None, 1),
        ]
        assert queries.by_last_placement("sector", status="active") == [
            ("Domestic work", 1),
            ("Factory", 1),
            (None, 1),
        ]


def test_counts_of_all_members_and_of_one_status(app, known):
    with app.app_context():
        assert queries.count_members(status=None) == 6
        assert queries.by_status() == [
            ("candidate", 1),
            ("active", 4),
            ("resigned", 1),
            ("deceased", 0),
        ]
        assert queries.by_sex(status=None) == [("P", 4), ("L", 2)]
        assert queries.by_last_placement("country", status=None) == [
            ("Hong Kong", 1),
            ("Malaysia", 1),
            ("South Korea", 1),
            (None, 1),
        ]
        assert queries.by_last_placement("sector", status=None) == [
            ("Factory", 2),
            ("Domestic work", 1),
            (None, 1),
        ]
        assert [year for year, _n in queries.by_return_year(status=None)] == [
            2013, 2014, 2015, 2016, 2017, 2018, None,
        ]  # fmt: skip
        assert queries.by_village(status="resigned") == [
            ("Sojokerto (Leksono)", 1),
            ("Garung (Garung)", 0),
            ("Kalibeber (Mojotengah)", 0),
        ]


def test_shares_are_rounded_half_up_and_equal_counts_get_equal_shares():
    assert [s.tenths for s in queries.shares([("a", 1), ("b", 4), ("c", 1)])] == [167, 667, 167]
    assert [s.tenths for s in queries.shares([("a", 1), ("b", 7)])] == [125, 875]
    assert [s.tenths for s in queries.shares([("a", 1), ("b", 2000)])] == [0, 1000]
    assert [s.tenths for s in queries.shares([("a", 0), ("b", 0)])] == [0, 0]


# --- the page ----------------------------------------------------------------------------


def _table(page: str, key: str) -> list[list[str]]:
    """The body rows of one breakdown's table, as the text of their cells."""
    table = re.search(rf'data-testid="table-{key}">(.*?)</table>', page, re.S).group(1)
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
        )
    ]


def _chart(page: str, key: str):
    """One breakdown's chart, parsed as XML (fails if it is not well-formed)."""
    svg = re.search(rf'data-testid="chart-{key}">(<svg .*?</svg>)</div>', page, re.S).group(1)
    return ElementTree.fromstring(svg)


def _texts(chart) -> list[str]:
    return [text.text for text in chart.iter(f"{SVG}text")]


def test_the_page_shows_the_counts_in_indonesian(app, client, known, login_as):
    login_as(Role.TREASURER)
    response = client.get("/reports/members")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4 anggota dihitung" in page
    assert _table(page, "village") == [
        ["Kalibeber (Mojotengah)", "2", "50,0%"],
        ["Sojokerto (Leksono)", "2", "50,0%"],
        ["Garung (Garung)", "0", "0,0%"],
    ]
    assert "Lama" not in page, "a closed village without members is left out"
    assert _table(page, "sex") == [["Perempuan", "3", "75,0%"], ["Laki-laki", "1", "25,0%"]]
    assert _table(page, "status") == [
        ["Calon anggota", "1", "16,7%"],
        ["Aktif", "4", "66,7%"],
        ["Keluar", "1", "16,7%"],
        ["Meninggal dunia", "0", "0,0%"],
    ]
    assert _table(page, "return-year") == [
        ["2013", "1", "33,3%"],
        ["2014", "0", "0,0%"],
        ["2015", "0", "0,0%"],
        ["2016", "1", "33,3%"],
        ["Tidak dicatat", "1", "33,3%"],
    ]
    assert _table(page, "country") == [
        ["Hong Kong", "1", "33,3%"],
        ["Malaysia", "1", "33,3%"],
        ["Belum ada penempatan dicatat", "1", "33,3%"],
    ]
    assert _table(page, "sector") == [
        ["Pekerja rumah tangga", "1", "33,3%"],
        ["Pabrik", "1", "33,3%"],
        ["Belum ada penempatan dicatat", "1", "33,3%"],
    ]
    assert "profil purna migran (persetujuan sudah dicatat): 3 dari 4." in page


def test_the_status_filter_and_english(app, client, known, login_as):
    login_as(Role.SUPERVISOR)
    post(client, "/i18n/language", {"lang": "en"})
    page = client.get("/reports/members?status=all").get_data(as_text=True)
    assert "6 members counted" in page
    assert '<option value="all" selected>' in page
    assert _table(page, "country") == [
        ["Hong Kong", "1", "25.0%"],
        ["Malaysia", "1", "25.0%"],
        ["South Korea", "1", "25.0%"],
        ["No placement recorded", "1", "25.0%"],
    ]
    assert _table(page, "sector")[0] == ["Factory", "2", "50.0%"]
    page = client.get("/reports/members?status=resigned").get_data(as_text=True)
    assert "1 member counted" in page
    assert _table(page, "village")[0] == ["Sojokerto (Leksono)", "1", "100.0%"]
    assert len(_table(page, "status")) == 4, "the status table always counts everyone"
    page = client.get("/reports/members?status=nonsense").get_data(as_text=True)
    assert "4 members counted" in page, "an unknown status falls back to active members"


def test_each_chart_is_well_formed_accessible_svg_with_the_same_numbers(
    app, client, known, login_as
):
    login_as(Role.ADMIN)
    page = client.get("/reports/members").get_data(as_text=True)
    for key in ("village", "sex", "status", "return-year", "country", "sector"):
        chart = _chart(page, key)
        assert chart.tag == f"{SVG}svg"
        assert chart.get("width") == "100%" and chart.get("viewBox").startswith("0 0 ")
        assert chart.get("role") == "img"
        title = chart.find(f"{SVG}title").text
        assert title == chart.get("aria-label")
        assert title.endswith("(semua anggota)" if key == "status" else "(Aktif)")
        for element in chart.iter():
            assert "style" not in element.attrib
    village = _chart(page, "village")
    assert _texts(village) == [
        "Kalibeber (Mojotengah)", "2 · 50,0%",
        "Sojokerto (Leksono)", "2 · 50,0%",
        "Garung (Garung)", "0 · 0,0%",
    ]  # fmt: skip
    bars = [rect for rect in village.iter(f"{SVG}rect") if rect.get("fill") == "#15803d"]
    widths = [float(rect.get("width")) for rect in bars]
    assert widths[0] == widths[1] > 100 and widths[2] == 0
    assert _chart(page, "status").find(f"{SVG}title").text == "Anggota per status (semua anggota)"


def test_no_personal_data_reaches_the_page(app, client, known, login_as):
    login_as(Role.ADMIN)
    page = client.get("/reports/members?status=all").get_data(as_text=True)
    assert "6 anggota dihitung" in page
    for index, (name, *_rest) in enumerate(PEOPLE, 1):
        assert name not in page
        for secret in (_nik(index), _phone(index), f"Rahasia{index}", f"KPM-{index:05d}"):
            assert secret not in page
    assert "KPM-" not in page
    assert not re.search(r"\b\d{16}\b|\b08\d{8,}", page), "no NIK or phone number"


def test_the_page_is_safe_under_the_content_security_policy(app, client, known, login_as):
    login_as(Role.TREASURER)
    response = client.get("/reports/members")
    page = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert "style=" not in page
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<script" not in main
    scripts = re.findall(r"<script[^>]*>.*?</script>", page, re.S)
    assert scripts and all(re.fullmatch(r'<script src="/[^"]+"[^>]*></script>', s) for s in scripts)
    assert response.headers["Cache-Control"] == "no-store"


def test_hostile_village_names_are_escaped_in_tables_and_charts(app, client, login_as):
    hostile = "<b>Desa</b> & \"Kali\" 'x' </svg><script>alert(1)</script>"
    with app.app_context():
        village = Village(name=hostile, subdistrict="Garung")
        db.session.add(village)
        db.session.flush()
        data = MemberData(
            nik=_nik(1),
            name="Siti Aminah",
            sex="P",
            birth_date=date(1985, 1, 5),
            village_id=village.id,
            join_date=date(2020, 1, 1),
        )
        services.register_member(data, today=TODAY, by=None, status=MemberStatus.ACTIVE)
        db.session.commit()
    login_as(Role.ADMIN)
    page = client.get("/reports/members").get_data(as_text=True)
    assert "<b>Desa" not in page and "<script>alert" not in page
    assert _table(page, "village") == [[f"{hostile} (Garung)", "1", "100,0%"]]
    label, note = _texts(_chart(page, "village"))
    assert label == hostile[:35].rstrip() + "…", "long labels are cut, the table has them whole"
    assert note == "1 · 100,0%"


def test_an_empty_registry_shows_empty_tables_and_charts(app, client, login_as):
    login_as(Role.SUPERVISOR)
    response = client.get("/reports/members")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "0 anggota dihitung" in page
    assert _table(page, "village") == [["Tidak ada anggota yang dihitung."]]
    assert _table(page, "sex") == [["Perempuan", "0", "0,0%"], ["Laki-laki", "0", "0,0%"]]
    assert _texts(_chart(page, "country")) == ["Tidak ada anggota yang dihitung."]


def test_the_report_counts_in_the_database_whatever_the_number_of_members(
    app, client, known, login_as
):
    """Only GROUP BY counts touch the member tables, and their number does not grow."""
    login_as(Role.ADMIN)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args):
        if re.search(r"\b(member|migrant_profile|placement)\b", statement):
            statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        client.get("/reports/members?status=all")
        first = list(statements)
        with app.app_context():
            staff = db.session.execute(sa.select(User).where(User.username == "bendahara"))
            staff, village = staff.scalar(), db.session.get(Village, 1)
            for index in range(10, 22):
                placements = [("Taiwan", "Factory", date(2015, 1, 1), date(2017, 1, 1))]
                _register(staff, village.id, index, f"Orang {index}", "P", "active",
                          date(2017, 2, 1), placements)  # fmt: skip
            db.session.commit()
        statements.clear()
        page = client.get("/reports/members?status=all").get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)
    assert "18 anggota dihitung" in page
    assert len(statements) == len(first) == 8, statements
    assert all("count(" in statement.lower() for statement in statements)
