"""The demo members: deterministic from the seed, realistic, and valid by every rule."""

import re
import shutil
from collections import Counter
from datetime import date
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop_app import create_app, demo
from coop_app.auth.models import AuditEvent, User
from coop_app.config import config_for_tests
from coop_app.demo import seed_demo
from coop_app.extensions import db
from coop_app.members.demo import seed_members
from coop_app.members.models import Member, MigrantProfile, Placement, Village, VillageGroup
from coop_app.members.queries import member_of_user
from tests.helpers import only_sqlite

#: Kecamatan codes of Wonosobo in the NIK (Kemendagri), for a few of the demo's villages.
KECAMATAN_CODES = {"Mojotengah": "11", "Wonosobo": "09", "Kertek": "08", "Wadaslintang": "01"}
COUNTRIES = {
    "Hong Kong",
    "Taiwan",
    "Malaysia",
    "Singapore",
    "Saudi Arabia",
    "South Korea",
    "Brunei",
}
SECTORS = {"Domestic work", "Caregiving", "Factory", "Plantation", "Construction"}


@pytest.fixture(autouse=True)
def members_only(monkeypatch):
    """Seed only the members' step: the later units' demo steps have their own tests."""
    monkeypatch.setattr(demo, "DEMO_STEPS", (seed_members,))


def _snapshot() -> list[tuple]:
    """Everything the demo wrote about its members, in a form two databases can compare."""
    members = db.session.execute(
        sa.select(Member)
        .order_by(Member.number)
        .options(
            selectinload(Member.status_changes),
            selectinload(Member.profile).selectinload(MigrantProfile.placements),
        )
    ).scalars()
    rows = []
    for m in members:
        profile = m.profile
        rows.append((
            m.number, m.nik, m.name, m.sex, m.birth_date, m.village.name, m.village.subdistrict,
            m.group.name if m.group else None, m.address, m.phone, m.join_date, m.heir,
            m.status, m.status_date, m.status_reason, m.user.username if m.user else None,
            [(c.from_status, c.to_status, c.effective_on, c.reason) for c in m.status_changes],
            profile and (
                profile.consent_date, profile.return_date, profile.procedural,
                profile.placement_agency, profile.family_abroad, profile.business,
                profile.products,
                [(p.country, p.sector, p.start_date, p.end_date) for p in profile.placements],
            ),
        ))  # fmt: skip
    return rows


def _other_database(sqlite_template, tmp_path, name: str):
    path = tmp_path / f"{name}.db"
    shutil.copy(sqlite_template, path)
    config = config_for_tests(f"sqlite:///{path}") | {"INSTANCE_PATH": str(tmp_path / name)}
    return create_app(config)


def _seed(app, seed: int) -> list[tuple]:
    with app.app_context():
        seed_demo(seed=seed)
        db.session.commit()
        snapshot = _snapshot()
        db.session.remove()
        db.engine.dispose()
    return snapshot


@pytest.fixture
def seeded(app):
    """The demo seeded with `flask seed-demo` (seed 1, the default)."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Seeded the demo cooperative (seed 1)" in result.output
    return app


def test_seed_demo_gives_the_same_members_on_another_database(seeded, sqlite_template, tmp_path):
    with seeded.app_context():
        first = _snapshot()
        actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions == ["cli.seed-demo"]
    second = _seed(_other_database(sqlite_template, tmp_path, "second"), seed=1)
    assert len(first) == 220
    assert second == first


@only_sqlite
def test_another_seed_gives_other_members(seeded, sqlite_template, tmp_path):
    with seeded.app_context():
        first = _snapshot()
    other = _seed(_other_database(sqlite_template, tmp_path, "other"), seed=2)
    assert 200 <= len(other) <= 240
    assert [row[1:5] for row in other] != [row[1:5] for row in first]


def test_villages_and_groups(seeded):
    with seeded.app_context():
        villages = db.session.execute(sa.select(Village)).scalars().all()
        assert len(villages) == 12
        assert {v.name: v.subdistrict for v in villages}["Kalibeber"] == "Mojotengah"
        assert all(2 <= len(v.groups) <= 3 and v.active for v in villages)
        members = db.session.execute(sa.select(Member)).scalars().all()
        assert all(m.group is not None and m.group.village_id == m.village_id for m in members)
        per_village = Counter(m.village_id for m in members)
        assert len(per_village) == 12 and min(per_village.values()) >= 5
        assert db.session.execute(sa.select(sa.func.count(VillageGroup.id))).scalar() >= 24


def _decoded_birth(nik: str, sex: str) -> date:
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if sex == "P":
        day -= 40
    return date(1900 + year if year > 30 else 2000 + year, month, day)


def test_every_member_follows_the_rules(seeded):
    with seeded.app_context():
        members = db.session.execute(sa.select(Member)).scalars().all()
        niks = [m.nik for m in members]
        assert len(set(niks)) == len(niks) == 220
        codes: dict[str, set[str]] = {}
        for m in members:
            assert re.fullmatch(r"3307\d{12}", m.nik), m.nik
            assert _decoded_birth(m.nik, m.sex) == m.birth_date, (m.nik, m.sex, m.birth_date)
            codes.setdefault(m.village.subdistrict, set()).add(m.nik[4:6])
            assert date(1965, 1, 1) <= m.birth_date <= date(2000, 12, 31)
            assert date(2018, 1, 1) <= m.join_date <= date(2025, 12, 31)
            seventeenth = m.birth_date.replace(year=m.birth_date.year + 17, day=1)
            assert m.join_date > seventeenth
            assert m.phone is None or re.fullmatch(r"08\d{8,11}", m.phone)
            assert m.heir and m.name and len(m.name.split()) <= 3
            assert m.status_date <= date(2026, 11, 1)
        assert all(len(found) == 1 for found in codes.values()), "one code per kecamatan"
        for subdistrict, code in KECAMATAN_CODES.items():
            assert codes[subdistrict] == {code}
        sexes = Counter(m.sex for m in members)
        assert sexes["P"] > 0.7 * len(members) and sexes["L"] > 0.1 * len(members)
        statuses = Counter(m.status for m in members)
        assert statuses["active"] > 0.8 * len(members)
        assert min(statuses[s] for s in ("candidate", "resigned", "deceased")) >= 2
        assert len({m.name for m in members}) > 0.85 * len(members), "names mostly differ"


def test_status_changes_carry_indonesian_reasons(seeded):
    with seeded.app_context():
        members = db.session.execute(sa.select(Member)).scalars().all()
        for m in members:
            steps = [(c.from_status, c.to_status) for c in m.status_changes]
            assert steps[0] == (None, "candidate")
            if m.status != "candidate":
                assert steps[1] == ("candidate", "active")
            if m.status in ("resigned", "deceased"):
                assert steps[2] == ("active", m.status)
                assert m.status_date > m.join_date
            dates = [c.effective_on for c in m.status_changes]
            assert dates == sorted(dates)
            assert all(c.reason for c in m.status_changes[1:])
            assert all(c.by_user.username == "bendahara" for c in m.status_changes)
        reasons = {m.status_reason for m in members if m.status == "deceased"}
        assert all(reason.startswith("Meninggal dunia") for reason in reasons)


def test_migrant_profiles_tell_a_consistent_story(seeded):
    with seeded.app_context():
        profiles = db.session.execute(sa.select(MigrantProfile)).scalars().all()
        assert 0.65 * 220 <= len(profiles) <= 0.85 * 220
        with_placements = [p for p in profiles if p.placements]
        assert len(with_placements) > 0.9 * len(profiles)
        for profile in profiles:
            assert profile.member.join_date <= profile.consent_date <= date(2026, 11, 1)
            assert profile.consent_recorded_by.username == "bendahara"
        for profile in with_placements:
            placements = profile.placements
            assert 1 <= len(placements) <= 3
            for earlier, later in pairwise(placements):
                assert earlier.end_date < later.start_date
            birth = profile.member.birth_date
            assert placements[0].start_date >= birth.replace(year=birth.year + 19, day=1)
            assert placements[-1].end_date <= profile.return_date < profile.member.join_date
            assert (profile.placement_agency is not None) == profile.procedural
            assert (profile.business is None) == (profile.products is None)
        placements = db.session.execute(sa.select(Placement)).scalars().all()
        assert {p.country for p in placements} == COUNTRIES
        assert {p.sector for p in placements} == SECTORS
        assert sum(p.business is not None for p in profiles) > len(profiles) / 2
        assert sum(not p.procedural for p in with_placements) >= 5


def test_the_demo_member_login_belongs_to_tuti_handayani(seeded):
    with seeded.app_context():
        user = db.session.execute(sa.select(User).where(User.username == "anggota")).scalar()
        member = member_of_user(user)
        assert member is not None
        assert (member.name, member.status, member.sex) == ("Tuti Handayani", "active", "P")
        assert user.full_name == member.name
        same_name = db.session.execute(
            sa.select(sa.func.count(Member.id)).where(Member.name == "Tuti Handayani")
        ).scalar()
        linked = db.session.execute(
            sa.select(sa.func.count(Member.id)).where(Member.user_id.is_not(None))
        ).scalar()
        assert same_name == linked == 1
