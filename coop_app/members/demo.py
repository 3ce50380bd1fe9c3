"""The demo cooperative's members: 12 villages of Wonosobo, about 220 members, their stories.

Everything goes through the member services, so every rule the screens enforce holds for
the demo too. The data follow only the random generator (the `--seed`) and a fixed
reference date, never the day the demo is seeded.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.members import services
from coop_app.members.models import Member, MemberStatus, Sex, Village, VillageGroup
from coop_app.members.validation import MemberData

#: The demo's "today": seeding next year gives the same data.
DEMO_TODAY = date(2026, 11, 1)
MEMBER_COUNT = 220
#: The demo member login (created by coop_app.demo) belongs to the member of this name.
LOGIN_USERNAME, LOGIN_MEMBER_NAME = "anggota", "Tuti Handayani"

#: Desa and their kecamatan, with the kecamatan's code in the NIK (Kemendagri, 33.07.xx).
VILLAGES = (
    ("Kalibeber", "Mojotengah", "11"),
    ("Sojokerto", "Leksono", "05"),
    ("Bumirejo", "Mojotengah", "11"),
    ("Tlogojati", "Wonosobo", "09"),
    ("Kalikajar", "Kalikajar", "07"),
    ("Sapuran", "Sapuran", "03"),
    ("Garung", "Garung", "12"),
    ("Kertek", "Kertek", "08"),
    ("Selomerto", "Selomerto", "06"),
    ("Kaliwiro", "Kaliwiro", "04"),
    ("Wadaslintang", "Wadaslintang", "01"),
    ("Kepil", "Kepil", "02"),
)

# fmt: off
#: Given names and family names; an empty family name stands for a one-word name.
WOMEN = ("Siti", "Sri", "Tri", "Eni", "Suwarni", "Sumiyati", "Wartini", "Nur", "Rini", "Yuli",
         "Endang", "Darmi", "Ngatini", "Suparmi", "Sulastri", "Karsini", "Musrifah", "Umi",
         "Titik", "Puji", "Dwi", "Wiwik", "Sarinah", "Tuti", "Nining", "Khotimah", "Lestari",
         "Fitri", "Munawaroh", "Istiqomah", "Winarsih", "Rohmah", "Ani", "Yuni", "Mursidah")
WOMEN_LAST = ("Aminah", "Wahyuni", "Lestari", "Susanti", "Rahayu", "Handayani", "Astuti",
              "Setyowati", "Sulistyowati", "Khasanah", "Hidayah", "Nurjanah", "Mulyani",
              "Purwanti", "Sulistyani", "Kurniasih", "Rahmawati", "Safitri", "Wulandari", "")
MEN = ("Ahmad", "Slamet", "Budi", "Joko", "Agus", "Eko", "Supriyadi", "Mulyono", "Sugeng",
       "Wahyudi", "Teguh", "Bambang", "Nur", "Heri", "Muhammad", "Sutrisno", "Darsono")
MEN_LAST = ("Fauzi", "Riyadi", "Santoso", "Susilo", "Prasetyo", "Hidayat", "Saputro",
            "Nugroho", "Setiawan", "Wibowo", "Kurniawan", "Maulana", "")
PHONE_PREFIXES = ("0812", "0813", "0821", "0822", "0852", "0853", "0857", "0858", "0877",
                  "0878", "0895", "0896")

#: Country -> weights for women and men; sectors (stored in English) -> weights by sex.
COUNTRIES = {
    "Hong Kong": (30, 1), "Taiwan": (25, 20), "Malaysia": (16, 35), "Singapore": (11, 5),
    "Saudi Arabia": (9, 10), "South Korea": (4, 20), "Brunei": (5, 9),
}
SECTORS = {
    "Hong Kong": ({"Domestic work": 8, "Caregiving": 2}, {"Construction": 1}),
    "Taiwan": ({"Caregiving": 6, "Factory": 3, "Domestic work": 2},
               {"Factory": 4, "Construction": 1}),
    "Malaysia": ({"Domestic work": 5, "Factory": 4, "Plantation": 2},
                 {"Plantation": 5, "Construction": 4, "Factory": 2}),
    "Singapore": ({"Domestic work": 8, "Caregiving": 2}, {"Construction": 3, "Factory": 1}),
    "Saudi Arabia": ({"Domestic work": 1}, {"Construction": 1}),
    "South Korea": ({"Factory": 1}, {"Factory": 4, "Construction": 1}),
    "Brunei": ({"Domestic work": 4, "Factory": 1}, {"Construction": 3, "Plantation": 2}),
}
AGENCIES = ("PT Sinar Jaya Mandiri", "PT Bina Karya Sejahtera", "PT Mitra Tenaga Utama",
            "PT Surya Abadi Makmur", "PT Cahaya Insani Wonosobo", "PT Duta Karya Semesta")
BUSINESSES = (
    ("Produksi keripik", "Keripik singkong, keripik tempe"),
    ("Olahan carica", "Manisan carica, sirup carica"),
    ("Kebun dan sangrai kopi", "Kopi bubuk arabika Wonosobo"),
    ("Batik tulis", "Kain batik tulis motif carica"),
    ("Minuman herbal", "Jahe instan, kunyit asam instan"),
    ("Produksi tempe", "Tempe kedelai, tempe gembus"),
    ("Warung kelontong", "Sembako, pulsa"),
    ("Ternak kambing", "Kambing etawa, susu kambing"),
    ("Jahit pakaian", "Seragam sekolah, gamis"),
    ("Olahan purwaceng", "Kopi purwaceng, purwaceng seduh"),
    ("Kue kering", "Nastar, kue bawang, opak"),
    ("Budidaya jamur", "Jamur tiram segar, keripik jamur"),
)
GROUP_NAMES = ("Sekar Arum", "Ngudi Rejeki", "Sido Makmur", "Maju Bersama", "Mekar Sari",
               "Rukun Santoso", "Tunas Harapan", "Sumber Rejeki")
ACTIVATION_REASONS = ("Simpanan pokok lunas", "Disahkan rapat pengurus bulanan")
EXIT_REASONS = {
    MemberStatus.RESIGNED: ("Mengundurkan diri atas permintaan sendiri",
                            "Pindah domisili ke luar Wonosobo",
                            "Berangkat bekerja ke luar negeri lagi"),
    MemberStatus.DECEASED: ("Meninggal dunia karena sakit", "Meninggal dunia"),
}
STATUS_WEIGHTS = {MemberStatus.ACTIVE: 86, MemberStatus.CANDIDATE: 5,
                  MemberStatus.RESIGNED: 6, MemberStatus.DECEASED: 3}
# fmt: on
#: Nobody in the demo came home after this, so that everyone joined after coming home.
LAST_RETURN = date(2025, 6, 30)
FIRST_JOIN, LAST_JOIN = date(2018, 1, 1), date(2025, 12, 31)


@dataclass
class _Placement:
    country: str
    sector: str
    start: date
    end: date


def between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _years_after(day: date, years: int) -> date:
    return day.replace(year=day.year + years, day=min(day.day, 28))


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Registry:
    """Names, NIKs and phones handed out so far, so that NIKs stay unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.serials: dict[str, int] = {}
        self.names = {LOGIN_MEMBER_NAME}

    def name(self, sex: Sex) -> str:
        first, last = (WOMEN, WOMEN_LAST) if sex == Sex.FEMALE else (MEN, MEN_LAST)
        for _attempt in range(20):
            name = f"{self.rng.choice(first)} {self.rng.choice(last)}".strip()
            if name not in self.names:
                break
        self.names.add(name)
        return name

    def nik(self, kecamatan: str, sex: Sex, birth: date) -> str:
        """3307 + kecamatan + DDMMYY (women: day + 40) + a serial unique per prefix."""
        day = birth.day + (40 if sex == Sex.FEMALE else 0)
        prefix = f"3307{kecamatan}{day:02d}{birth:%m%y}"
        self.serials[prefix] = self.serials.get(prefix, 0) + 1
        return f"{prefix}{self.serials[prefix]:04d}"

    def phone(self) -> str:
        if self.rng.random() < 0.08:
            return ""
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"


def add_villages(rng: random.Random) -> list[tuple[Village, str, list[VillageGroup]]]:
    made = []
    for name, subdistrict, code in VILLAGES:
        village = Village(name=name, subdistrict=subdistrict)
        groups = [
            VillageGroup(village=village, name=f"Kelompok {group}")
            for group in sorted(rng.sample(GROUP_NAMES, rng.choice((2, 2, 3))))
        ]
        db.session.add_all([village, *groups])
        made.append((village, code, groups))
    db.session.flush()
    return made


def placements_abroad(rng: random.Random, birth: date, sex: Sex) -> list[_Placement]:
    """One to three contracts abroad from age 19, the last one ending when they came home."""
    side = 0 if sex == Sex.FEMALE else 1
    weights = {name: by_sex[side] for name, by_sex in COUNTRIES.items()}
    adult = _years_after(birth, 19)
    end = between(rng, max(_years_after(birth, 22), date(2004, 1, 1)), LAST_RETURN)
    country = weighted(rng, weights)
    made: list[_Placement] = []
    for _contract in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
        start = max(end - timedelta(days=30 * rng.choice((18, 24, 24, 24, 30, 36, 48))), adult)
        if start >= end:
            break
        made.insert(0, _Placement(country, weighted(rng, SECTORS[country][side]), start, end))
        end = start - timedelta(days=rng.randint(45, 400))
        if rng.random() < 0.4:
            country = weighted(rng, weights)
    return made


def _profile(rng: random.Random, member: Member, staff: User, placements: list[_Placement]):
    """Consent, then the profile's fields, then the placements (a few left unfilled)."""
    consent = min(
        between(rng, member.join_date, member.join_date + timedelta(days=120)), DEMO_TODAY
    )
    profile = services.record_consent(member, on=consent, today=DEMO_TODAY, by=staff)
    if not placements:
        return  # consent recorded, story not told yet
    last = placements[-1]
    procedural = rng.random() < {"Saudi Arabia": 0.3, "Malaysia": 0.65}.get(last.country, 0.85)
    business, products = rng.choice(BUSINESSES) if rng.random() < 0.7 else (None, None)
    services.update_profile(
        member,
        expected_version=profile.version,
        return_date=last.end + timedelta(days=rng.randint(0, 20)),
        procedural=procedural,
        placement_agency=rng.choice(AGENCIES) if procedural else None,
        family_abroad=rng.choices((0, 1, 2), weights=(6, 3, 1))[0],
        business=business,
        products=products,
    )
    for placement in placements:
        services.add_placement(
            member,
            country=placement.country,
            sector=placement.sector,
            start=placement.start,
            end=placement.end,
            today=DEMO_TODAY,
        )


def _lifecycle(rng: random.Random, member: Member, staff: User, status: MemberStatus) -> None:
    """Candidate at joining; activated weeks later; some later resign or die."""
    if status == MemberStatus.CANDIDATE:
        return
    steps = [(MemberStatus.ACTIVE, rng.choice(ACTIVATION_REASONS))]
    if status != MemberStatus.ACTIVE:
        steps.append((status, rng.choice(EXIT_REASONS[status])))
    on = member.join_date + timedelta(days=rng.randint(3, 45))
    for to, reason in steps:
        services.change_status(
            member,
            to=to,
            on=min(on, DEMO_TODAY),
            reason=reason,
            today=DEMO_TODAY,
            by=staff,
            expected_version=member.version,
        )
        on = between(rng, member.status_date + timedelta(days=180), DEMO_TODAY)


def member_data(
    rng: random.Random,
    registry: Registry,
    village_plan,
    *,
    sex: Sex,
    birth: date,
    name: str | None,
    joins: tuple[date, date],
) -> MemberData:
    """A demo member's registration: a NIK of the village's district, a name (or `name`),
    a group of the village, a join date between `joins`, an address, a phone and an heir.
    Shared by the demo and the district seed, which draw these in the same order."""
    village, code, groups = village_plan
    heir_sex = Sex.MALE if sex == Sex.FEMALE and rng.random() < 0.6 else Sex.FEMALE
    return MemberData(
        nik=registry.nik(code, sex, birth),
        name=name or registry.name(sex),
        sex=sex.value,
        birth_date=birth,
        village_id=village.id,
        group_id=rng.choice(groups).id,
        join_date=between(rng, *joins),
        address=f"RT {rng.randint(1, 8):02d}/RW {rng.randint(1, 6):02d}, Desa {village.name}",
        phone=registry.phone(),
        heir=f"{rng.choice(MEN if heir_sex == Sex.MALE else WOMEN)} {rng.choice(MEN_LAST)}",
    )


def _member(rng, registry, staff, village_plan, *, name: str | None = None, story=None) -> Member:
    """Register one member with their whole story (status, consent, profile)."""
    sex = Sex.FEMALE if name or rng.random() < 0.8 else Sex.MALE
    birth = between(rng, date(1965, 1, 1), date(2000, 12, 31))
    migrant = story if story is not None else rng.random() < 0.75
    placements = placements_abroad(rng, birth, sex) if migrant and rng.random() < 0.96 else []
    status = MemberStatus.ACTIVE if name else weighted(rng, STATUS_WEIGHTS)
    earliest = FIRST_JOIN
    if placements:
        earliest = max(earliest, placements[-1].end + timedelta(days=30))
    if status == MemberStatus.CANDIDATE:
        earliest = max(earliest, date(2025, 7, 1))
    data = member_data(
        rng, registry, village_plan, sex=sex, birth=birth, name=name, joins=(earliest, LAST_JOIN)
    )
    member = services.register_member(data, today=DEMO_TODAY, by=staff)
    if migrant:
        _profile(rng, member, staff, placements)
    _lifecycle(rng, member, staff, status)
    return member


def demo_staff() -> User:
    """Who records the demo's changes: the treasurer (or else the board)."""
    for role in (Role.TREASURER, Role.ADMIN):
        query = sa.select(User).where(User.role == role.value).order_by(User.id).limit(1)
        user = db.session.execute(query).scalar()
        if user is not None:
            return user
    raise RuntimeError("seed the demo users before the members")


def seed_members(rng: random.Random) -> None:
    """Villages with their groups, about 220 members, and the demo member's own record."""
    staff = demo_staff()
    plans = add_villages(rng)
    weights = [rng.randint(2, 6) for _plan in plans]
    registry = Registry(rng)
    own = _member(rng, registry, staff, plans[0], name=LOGIN_MEMBER_NAME, story=True)
    for _index in range(MEMBER_COUNT - 1):
        _member(rng, registry, staff, rng.choices(plans, weights=weights)[0])
    login = db.session.execute(sa.select(User).where(User.username == LOGIN_USERNAME)).scalar()
    if login is not None:
        own.user_id = login.id
        db.session.flush()
