"""Reads of the member registry shared by the list screen, the export and reports."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.members.models import Member, MemberStatus, Village


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def member_list_query(
    *, text: str = "", status: str = "", village_id: int | None = None, by_nik: bool = False
):
    """Members matching a search (name, number, village, and NIK when `by_nik`) and filters.

    The search is case-insensitive and matches any part of the name or village, and the
    start of a number or NIK. Only staff search by NIK: for anyone else a NIK search would
    reveal NIKs digit by digit.
    """
    query = (
        sa.select(Member)
        .join(Member.village)
        .options(joinedload(Member.village), joinedload(Member.group))
        .order_by(Member.number)
    )
    for word in text.lower().split()[:5]:
        word = _like_escape(word)
        matches = [
            sa.func.lower(Member.name).like(f"%{word}%", escape="\\"),
            sa.func.lower(Village.name).like(f"%{word}%", escape="\\"),
            sa.func.lower(Member.number).like(f"{word}%", escape="\\"),
        ]
        if by_nik:
            matches.append(Member.nik.like(f"{word}%", escape="\\"))
        query = query.where(sa.or_(*matches))
    if status in {item.value for item in MemberStatus}:
        query = query.where(Member.status == status)
    if village_id:
        query = query.where(Member.village_id == village_id)
    return query


def active_villages() -> list[Village]:
    """Villages for choice lists, by name."""
    query = sa.select(Village).where(Village.active.is_(True)).order_by(Village.name)
    return db.session.execute(query).scalars().all()


def member_of_user(user: User) -> Member | None:
    """The member record a member's login belongs to."""
    return db.session.execute(sa.select(Member).where(Member.user_id == user.id)).scalar()
