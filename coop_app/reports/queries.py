"""Aggregate reads for the funder report: members counted per category, never listed.

Every function runs one GROUP BY query and returns (category, count) pairs; a category of
None means "not recorded". `status` narrows the members counted (None counts everyone).
"""

from dataclasses import dataclass

import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.members.models import Member, MemberStatus, MigrantProfile, Placement, Sex, Village

Counts = list[tuple[object, int]]


def _where_status(query: sa.Select, status: str | None) -> sa.Select:
    return query if status is None else query.where(Member.status == status)


def _with_zeros(pairs, categories) -> Counts:
    """Every known category in its order (zeros included), then any unexpected ones."""
    found = dict(pairs)
    known = [(category, found.pop(category, 0)) for category in categories]
    return known + sorted(found.items(), key=lambda pair: str(pair[0]))


def count_members(*, status: str | None) -> int:
    query = _where_status(sa.select(sa.func.count(Member.id)), status)
    return db.session.execute(query).scalar_one()


def count_profiles(*, status: str | None) -> int:
    """Members with a migrant profile (their consent is recorded)."""
    query = sa.select(sa.func.count(MigrantProfile.member_id)).join(Member)
    return db.session.execute(_where_status(query, status)).scalar_one()


def by_village(*, status: str | None) -> Counts:
    """(`Village (Kecamatan)`, count) for every active village, biggest first."""
    joined = Member.village_id == Village.id
    if status is not None:
        joined = sa.and_(joined, Member.status == status)
    count = sa.func.count(Member.id)
    query = (
        sa.select(Village.name, Village.subdistrict, count)
        .select_from(Village)
        .outerjoin(Member, joined)
        .where(sa.or_(Village.active.is_(True), Member.id.is_not(None)))
        .group_by(Village.id, Village.name, Village.subdistrict)
        .order_by(count.desc(), Village.name)
    )
    return [
        (f"{name} ({subdistrict})" if subdistrict else name, number)
        for name, subdistrict, number in db.session.execute(query)
    ]


def by_sex(*, status: str | None) -> Counts:
    query = sa.select(Member.sex, sa.func.count(Member.id)).group_by(Member.sex)
    rows = db.session.execute(_where_status(query, status)).all()
    return _with_zeros(rows, [Sex.FEMALE.value, Sex.MALE.value])


def by_status() -> Counts:
    """Every member, whatever the filter: the lifecycle in its order."""
    query = sa.select(Member.status, sa.func.count(Member.id)).group_by(Member.status)
    return _with_zeros(db.session.execute(query).all(), [item.value for item in MemberStatus])


def by_return_year(*, status: str | None) -> Counts:
    """Members with a migrant profile per year of return home, oldest first, every year."""
    year = sa.cast(sa.extract("year", MigrantProfile.return_date), sa.Integer).label("year")
    query = (
        sa.select(year, sa.func.count(Member.id))
        .select_from(MigrantProfile)
        .join(Member)
        .group_by(year)
    )
    found = dict(db.session.execute(_where_status(query, status)).all())
    unknown = found.pop(None, 0)
    years = range(min(found), max(found) + 1) if found else []
    # Years in between without anybody count as zero, so the chart reads as a time line.
    return [(year, found.get(year, 0)) for year in years] + ([(None, unknown)] if unknown else [])


def _last_placements() -> sa.Subquery:
    """Each member's placement with the latest start (ties: the one recorded last)."""
    rank = (
        sa.func.row_number()
        .over(
            partition_by=Placement.member_id,
            order_by=(Placement.start_date.desc(), Placement.id.desc()),
        )
        .label("rank")
    )
    ranked = sa.select(Placement.member_id, Placement.country, Placement.sector, rank).subquery()
    return (
        sa.select(ranked.c.member_id, ranked.c.country, ranked.c.sector)
        .where(ranked.c.rank == 1)
        .subquery("last_placement")
    )


def by_last_placement(column: str, *, status: str | None) -> Counts:
    """Members with a migrant profile per `column` ("country" or "sector") of their last
    placement, biggest first; those without a placement count under None."""
    last = _last_placements()
    category = last.c[column]
    count = sa.func.count(Member.id)
    query = (
        sa.select(category, count)
        .select_from(MigrantProfile)
        .join(Member)
        .outerjoin(last, last.c.member_id == MigrantProfile.member_id)
        .group_by(category)
        .order_by(count.desc(), category)
    )
    rows = db.session.execute(_where_status(query, status)).all()
    return sorted(rows, key=lambda row: row[0] is None)  # stable: "not recorded" last


@dataclass(frozen=True)
class Share:
    """One category's count and its share of the total in tenths of a percent."""

    category: object
    count: int
    tenths: int


def shares(counts: Counts) -> list[Share]:
    """Each share rounded half up to a tenth of a percent, on its own.

    Equal counts always show equal shares (forcing the column to add up to exactly 100.0%
    would not keep that), so the shares may add up to 99.9% or 100.1%.
    """
    total = sum(count for _category, count in counts)
    return [
        Share(category, count, (count * 2000 + total) // (2 * total) if total else 0)
        for category, count in counts
    ]
