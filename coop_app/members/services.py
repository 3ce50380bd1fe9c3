"""Writes for the member registry: register, edit, change status, consent and profile, login.

Functions change the session and flush; the caller (view, import or CLI) commits.
"""

from datetime import date

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.auth.sessions import revoke_all_sessions
from coop_app.db import dialect_insert
from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from coop_app.i18n import format_day
from coop_app.members.models import (
    Member,
    MemberNumberCounter,
    MemberStatus,
    MemberStatusChange,
    MigrantProfile,
    Placement,
    Village,
    VillageGroup,
)
from coop_app.members.validation import (
    FieldError,
    MemberData,
    check_birth_date,
    check_join_date,
    clean_address,
    clean_member_number,
    clean_name,
    clean_nik,
    clean_phone,
    clean_sex,
)

_signals = Namespace()
#: Sent with (member, on=date, by=User|None) when a member becomes active: the units that
#: keep accounts per member (savings) open them. Receivers flush, never commit.
member_activated = _signals.signal("member-activated")
#: Sent with ([(member id, day), ...], by=User|None) when many members became active at
#: once (`members.bulk`): the same receivers' work, for all of them in a few statements.
members_activated = _signals.signal("members-activated")

#: Which status may follow which. A deceased member's record is final.
TRANSITIONS = {
    MemberStatus.CANDIDATE: {MemberStatus.ACTIVE, MemberStatus.RESIGNED, MemberStatus.DECEASED},
    MemberStatus.ACTIVE: {MemberStatus.RESIGNED, MemberStatus.DECEASED},
    MemberStatus.RESIGNED: {MemberStatus.ACTIVE, MemberStatus.DECEASED},
    MemberStatus.DECEASED: set(),
}


def next_member_number(prefix: str) -> str:
    """The next free number for `prefix`, e.g. KPM-00042, taken atomically by any worker."""
    insert = dialect_insert(db.session)
    db.session.execute(
        insert(MemberNumberCounter).values(prefix=prefix, last_value=0).on_conflict_do_nothing()
    )
    while True:
        value = db.session.execute(
            sa.update(MemberNumberCounter)
            .where(MemberNumberCounter.prefix == prefix)
            .values(last_value=MemberNumberCounter.last_value + 1)
            .returning(MemberNumberCounter.last_value)
        ).scalar_one()
        number = f"{prefix}-{value:05d}"
        if not db.session.execute(sa.select(Member.id).where(Member.number == number)).first():
            return number  # numbers kept from old books on import are skipped


def _village_and_group(
    village_id: int | None, group_id: int | None, *, keep: tuple = (None, None)
) -> tuple[int, int | None]:
    """The chosen village and group; retired ones only where the member already is (`keep`)."""
    village = db.session.get(Village, village_id) if village_id else None
    if village is None or not (village.active or village.id == keep[0]):
        raise FieldError("village_id", _("Choose a village from the list."))
    if group_id is not None:
        group = db.session.get(VillageGroup, group_id)
        if group is None or group.village_id != village.id:
            raise FieldError("group_id", _("The group must belong to the chosen village."))
        if not (group.active or group.id == keep[1]):
            raise FieldError("group_id", _("The group must belong to the chosen village."))
    return village.id, group_id


def _check_nik_free(nik: str, member_id: int | None = None) -> None:
    query = sa.select(Member.number).where(Member.nik == nik)
    if member_id is not None:
        query = query.where(Member.id != member_id)
    taken = db.session.execute(query).scalar()
    if taken:
        raise FieldError(
            "nik", _("This NIK is already registered for member %(number)s.", number=taken)
        )


def _clean(data: MemberData, *, today: date, member: Member | None = None) -> dict:
    """Every field cleaned and checked; raises FieldError on the first problem."""
    nik = clean_nik(data.nik)
    _check_nik_free(nik, member.id if member else None)
    birth = check_birth_date(data.birth_date, today)
    keep = (member.village_id, member.group_id) if member else (None, None)
    village_id, group_id = _village_and_group(data.village_id, data.group_id, keep=keep)
    return {
        "nik": nik,
        "name": clean_name(data.name),
        "sex": clean_sex(data.sex),
        "birth_date": birth,
        "join_date": check_join_date(data.join_date, birth, today),
        "village_id": village_id,
        "group_id": group_id,
        "address": clean_address(data.address),
        "phone": clean_phone(data.phone),
        "heir": clean_name(data.heir, "heir") if (data.heir or "").strip() else None,
    }


def _member_number(given: str) -> str:
    number = clean_member_number(given)
    if not number:
        return next_member_number(current_app.config["MEMBER_NUMBER_PREFIX"])
    if db.session.execute(sa.select(Member.id).where(Member.number == number)).first():
        raise FieldError("number", _("Member number %(number)s is taken.", number=number))
    return number


def register_member(
    data: MemberData,
    *,
    today: date,
    by: User | None,
    status: MemberStatus = MemberStatus.CANDIDATE,
) -> Member:
    """Register a member (a candidate unless `status` says otherwise, as on import)."""
    fields = _clean(data, today=today)
    member = Member(
        number=_member_number(data.number),
        status=status.value,
        status_date=fields["join_date"],
        **fields,
    )
    db.session.add(member)
    _flush_new_member(member)
    db.session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=None,
            to_status=status.value,
            effective_on=member.join_date,
            reason="",
            by_user_id=by.id if by else None,
        )
    )
    audit.note(entity=f"member:{member.id}", detail=f"registered {member.number}")
    if status == MemberStatus.ACTIVE:
        member_activated.send(member, on=member.join_date, by=by)
    return member


def _flush_new_member(member: Member) -> None:
    """Insert the member; a NIK or number registered at the same moment elsewhere (the
    unique constraints catch what the checks above could not yet see) is a field error.
    The caller rolls back, as for any DomainError."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        raise FieldError(
            "nik", _("This NIK or member number was registered at the same moment. Check again.")
        ) from None


def _flush_member_change() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEditError() from None


def update_member(member: Member, data: MemberData, *, today: date, expected_version) -> None:
    """Correct a member's details (the number and the status have their own ways)."""
    if member.version != expected_version:
        raise StaleEditError()
    fields = _clean(data, today=today, member=member)
    changes = [c.effective_on for c in member.status_changes if c.from_status is not None]
    if changes and fields["join_date"] > min(changes):
        raise FieldError(
            "join_date",
            _(
                "The join date cannot be after the first status change (%(date)s).",
                date=format_day(min(changes)),
            ),
        )
    for name, value in fields.items():
        setattr(member, name, value)
    _flush_member_change()
    audit.note(entity=f"member:{member.id}", detail="details")


def change_status(
    member: Member,
    *,
    to: MemberStatus,
    on: date,
    reason: str,
    today: date,
    by: User,
    expected_version,
) -> None:
    """Move a member along the lifecycle, with a date and a reason; kept in the history."""
    if member.version != expected_version:
        raise StaleEditError()
    current = MemberStatus(member.status)
    if to not in TRANSITIONS[current]:
        raise DomainError(_("This status change is not possible."))
    if on > today:
        raise FieldError("on", _("The date cannot be in the future."))
    if on < member.status_date:
        raise FieldError("on", _("The date cannot be before the current status began."))
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise FieldError("reason", _("Write the reason for the change."))
    db.session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=current.value,
            to_status=to.value,
            effective_on=on,
            reason=reason[:255],
            by_user_id=by.id,
        )
    )
    member.status, member.status_date, member.status_reason = to.value, on, reason[:255]
    if to in (MemberStatus.RESIGNED, MemberStatus.DECEASED) and member.user is not None:
        member.user.active = False  # a former member's login ends with the membership
        revoke_all_sessions(member.user, reason="deactivated")
    _flush_member_change()
    if to == MemberStatus.ACTIVE:
        member_activated.send(member, on=on, by=by)
    audit.note(entity=f"member:{member.id}", detail=f"status {current.value} -> {to.value}")


def record_consent(member: Member, *, on: date, today: date, by: User) -> MigrantProfile:
    """Record that the member agreed to keep a migrant profile; only then can it be filled."""
    if member.profile is not None:
        raise DomainError(_("Consent has already been recorded for this member."))
    if on > today:
        raise FieldError("on", _("The date cannot be in the future."))
    profile = MigrantProfile(member=member, consent_date=on, consent_recorded_by_id=by.id)
    db.session.add(profile)
    db.session.flush()
    audit.note(entity=f"member:{member.id}", detail="migrant profile consent")
    return profile


def update_profile(member: Member, *, expected_version, **fields) -> None:
    """Save the migrant profile's fields (after consent)."""
    profile = _profile_of(member)
    if profile.version != expected_version:
        raise StaleEditError()
    if fields.get("family_abroad") is not None and not 0 <= fields["family_abroad"] <= 50:
        raise FieldError("family_abroad", _("Give a number of people from 0 to 50."))
    for name, value in fields.items():
        setattr(profile, name, value.strip() if isinstance(value, str) else value)
    _flush_member_change()
    audit.note(entity=f"member:{member.id}", detail="migrant profile")


def _profile_of(member: Member) -> MigrantProfile:
    if member.profile is None:
        raise DomainError(_("Record the member's consent before filling the migrant profile."))
    return member.profile


def add_placement(
    member: Member, *, country: str, sector: str, start: date, end: date | None, today: date
) -> Placement:
    """Add a period of work abroad to the member's profile."""
    profile = _profile_of(member)
    if end is not None and end < start:
        raise FieldError("end_date", _("The end cannot be before the start."))
    if start > today or (end is not None and end > today):
        raise FieldError("start_date", _("The date cannot be in the future."))
    placement = Placement(
        member_id=profile.member_id,
        country=clean_name(country, "country")[:60],
        sector=clean_name(sector, "sector")[:80],
        start_date=start,
        end_date=end,
    )
    same = (placement.country, placement.sector, placement.start_date)
    if any((p.country, p.sector, p.start_date) == same for p in profile.placements):
        # Also what a double click on "add" sends: the second one changes nothing.
        raise DomainError(_("This placement is already recorded."))
    db.session.add(placement)
    db.session.flush()
    audit.note(entity=f"member:{member.id}", detail=f"placement {placement.country}")
    return placement


def remove_placement(member: Member, placement_id: int) -> None:
    placement = db.session.get(Placement, placement_id)
    if placement is None or placement.member_id != member.id:
        raise DomainError(_("That placement does not belong to this member."))
    db.session.delete(placement)
    audit.note(entity=f"member:{member.id}", detail=f"placement removed {placement.country}")


def create_member_login(member: Member) -> tuple[User, str]:
    """Give a member a login (username = member number) with a temporary password."""
    if member.user_id is not None:
        raise DomainError(_("This member already has a login."))
    if member.status not in (MemberStatus.CANDIDATE, MemberStatus.ACTIVE):
        raise DomainError(_("Only candidates and active members get a login."))
    user, temporary = create_user(
        username=member.number.lower(), full_name=member.name, role=Role.MEMBER
    )
    member.user_id = user.id
    _flush_member_change()
    audit.note(entity=f"member:{member.id}", detail=f"login user:{user.id}")
    return user, temporary


def add_village(*, name: str, subdistrict: str) -> Village:
    """Add a village to the admin-managed list."""
    name = clean_name(name)[:80]
    if db.session.execute(sa.select(Village.id).where(Village.name == name)).first():
        raise FieldError("name", _("The village %(name)s is already in the list.", name=name))
    village = Village(name=name, subdistrict=" ".join(subdistrict.split())[:80] or None)
    db.session.add(village)
    db.session.flush()
    audit.note(entity=f"village:{village.id}", detail=f"added {name}")
    return village


def add_group(village: Village, *, name: str) -> VillageGroup:
    """Add a group (kelompok) to a village."""
    name = clean_name(name, "group_name")[:80]
    if any(group.name == name for group in village.groups):
        raise FieldError("group_name", _("This village already has a group %(name)s.", name=name))
    group = VillageGroup(village=village, name=name)
    db.session.add(group)
    db.session.flush()
    audit.note(entity=f"village:{village.id}", detail=f"group added {name}")
    return group


def set_village_active(village: Village, *, active: bool) -> None:
    """Retire a village from the choice lists (its members keep it) or bring it back."""
    village.active = active
    audit.note(entity=f"village:{village.id}", detail="activated" if active else "retired")
