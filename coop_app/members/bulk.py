"""Register many members at once, with their status history and migrant profiles, same rules.

For a district's registry at once (the district-scale demo): `register_member`,
`change_status`, `record_consent`, `update_profile` and `add_placement` cost a few
flushes and queries per member, minutes for ten thousand. Why this is as safe:
- every field goes through the cleaners those services use (`validation`), with the same
  `today`, and the first refusal raises FieldError before anything is written;
- NIKs are unique within the batch and against the registry (looked up per 500), and the
  villages and groups exist, are in use and match (a group belongs to its village); the
  rows are written in one savepoint, the unique indexes on NIK and number the backstop
  (a clash with a registration made at the same moment is refused and undoes the batch);
- numbers come from the same counter as `next_member_number`, taken for the whole batch
  by one atomic UPDATE, and a number already in the registry is skipped, as there;
- the status history starts at registration (None -> candidate, on the join date), each
  change is one `TRANSITIONS` allows, with a reason, dated neither before the previous one
  nor after `today`; the member's status, its date and reason are the last change's, and
  the member's version counts the changes, as the flushes of `change_status` count them;
- members who became active are announced by `members_activated`, as `change_status`
  announces each one, so that the features keeping accounts per member open them;
- a migrant profile exists only with a consent date (not after `today`); family abroad is
  0 to 50; placements end after they start, not after `today`, and none is recorded twice.
Not written: the audit notes (a CLI command records one audit row for itself), logins.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.db import reserve_ids, utcnow
from coop_app.errors import DomainError
from coop_app.extensions import db
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
from coop_app.members.services import TRANSITIONS, members_activated, next_member_number
from coop_app.members.validation import (
    FieldError,
    MemberData,
    check_birth_date,
    check_join_date,
    clean_address,
    clean_name,
    clean_nik,
    clean_phone,
    clean_sex,
)

#: Values looked up per query (well under SQLite's limit of bound parameters).
_CHUNK = 500


@dataclass(frozen=True)
class StatusStep:
    """A change of status after registration (`change_status`)."""

    to: MemberStatus
    on: date
    reason: str


@dataclass(frozen=True)
class NewProfile:
    """Consent, then the profile's fields (`update_profile`), then the placements
    (country, sector, start, end)."""

    consent_on: date
    fields: dict = field(default_factory=dict)
    placements: Sequence[tuple[str, str, date, date | None]] = ()


@dataclass(frozen=True)
class NewMember:
    data: MemberData
    steps: Sequence[StatusStep] = ()
    profile: NewProfile | None = None


def register_members_bulk(members: Sequence[NewMember], *, today: date, by: User) -> list[int]:
    """Register `members` as candidates with their later changes and profiles; return their
    ids in the same order. Everything is checked before anything is written, and written
    in one savepoint: a refusal (DomainError) writes nothing."""
    if not members:
        return []
    rows = [_member_row(new, today) for new in members]
    _check_registry(rows)
    profiles = [_profile_rows(new.profile, today, by) for new in members]
    with db.session.begin_nested():
        ids = reserve_ids(db.session, Member.__table__, len(rows))
        now = utcnow()
        for row, member_id, number in zip(rows, ids, _numbers(len(rows)), strict=True):
            row.update(id=member_id, number=number, created_at=now)
        history = [
            change
            for member_id, new, row in zip(ids, members, rows, strict=True)
            for change in _history_rows(member_id, new, row, by, now)
        ]
        try:
            db.session.execute(sa.insert(Member.__table__), rows)
        except sa.exc.IntegrityError:  # registered by someone else a moment ago
            raise FieldError(
                "nik",
                _("This NIK or member number was registered at the same moment. Check again."),
            ) from None
        db.session.execute(sa.insert(MemberStatusChange.__table__), history)
        _insert_profiles(ids, profiles)
        activations = [
            (member_id, step.on)
            for member_id, new in zip(ids, members, strict=True)
            for step in new.steps
            if step.to == MemberStatus.ACTIVE
        ]
        members_activated.send(activations, by=by)
    return ids


def _member_row(new: NewMember, today: date) -> dict:
    """The member's columns, cleaned as `register_member` cleans them, and its status."""
    data = new.data
    birth = check_birth_date(data.birth_date, today)
    joined = check_join_date(data.join_date, birth, today)
    status, since, reason = _check_steps(new.steps, joined, today)
    return {
        "nik": clean_nik(data.nik),
        "name": clean_name(data.name),
        "sex": clean_sex(data.sex),
        "birth_date": birth,
        "join_date": joined,
        "village_id": data.village_id,
        "group_id": data.group_id,
        "address": clean_address(data.address),
        "phone": clean_phone(data.phone),
        "heir": clean_name(data.heir, "heir") if (data.heir or "").strip() else None,
        "status": status.value,
        "status_date": since,
        "status_reason": reason,
        "version": 1 + len(new.steps),
    }


def _check_steps(steps: Sequence[StatusStep], joined: date, today: date):
    """The status, its date and reason after `steps`, each a change `change_status` allows."""
    status, since, reason = MemberStatus.CANDIDATE, joined, None
    for step in steps:
        if step.to not in TRANSITIONS[status]:
            raise DomainError(_("This status change is not possible."))
        if step.on > today:
            raise FieldError("on", _("The date cannot be in the future."))
        if step.on < since:
            raise FieldError("on", _("The date cannot be before the current status began."))
        if len(" ".join(step.reason.split())) < 3:
            raise FieldError("reason", _("Write the reason for the change."))
        status, since, reason = step.to, step.on, " ".join(step.reason.split())[:255]
    return status, since, reason


def _check_registry(rows: list[dict]) -> None:
    """NIKs new (in the batch and the registry); villages and groups in use, each group in
    its member's village (as `_village_and_group` checks a new member's)."""
    niks = [row["nik"] for row in rows]
    if len(set(niks)) != len(niks):
        raise FieldError(
            "nik", _("This NIK or member number was registered at the same moment. Check again.")
        )
    for start in range(0, len(niks), _CHUNK):
        taken = db.session.execute(
            sa.select(Member.number).where(Member.nik.in_(niks[start : start + _CHUNK])).limit(1)
        ).scalar()
        if taken:
            raise FieldError(
                "nik", _("This NIK is already registered for member %(number)s.", number=taken)
            )
    villages = {v.id: v for v in db.session.execute(sa.select(Village)).scalars()}
    groups = {g.id: g for g in db.session.execute(sa.select(VillageGroup)).scalars()}
    for row in rows:
        village = villages.get(row["village_id"])
        if village is None or not village.active:
            raise FieldError("village_id", _("Choose a village from the list."))
        group = groups.get(row["group_id"]) if row["group_id"] is not None else None
        if row["group_id"] is not None and (
            group is None or group.village_id != village.id or not group.active
        ):
            raise FieldError("group_id", _("The group must belong to the chosen village."))


def _numbers(count: int) -> list[str]:
    """`count` numbers from the counter: the first as `next_member_number` takes it (which
    creates the counter if need be), the others in one atomic UPDATE; a number kept from
    old books on import is skipped and replaced by the next free one, as there."""
    prefix = current_app.config["MEMBER_NUMBER_PREFIX"]
    first = next_member_number(prefix)
    last = db.session.execute(
        sa.update(MemberNumberCounter)
        .where(MemberNumberCounter.prefix == prefix)
        .values(last_value=MemberNumberCounter.last_value + count - 1)
        .returning(MemberNumberCounter.last_value)
    ).scalar_one()
    numbers = [first] + [f"{prefix}-{value:05d}" for value in range(last - count + 2, last + 1)]
    taken: set[str] = set()
    for start in range(1, count, _CHUNK):
        taken |= set(
            db.session.execute(
                sa.select(Member.number).where(Member.number.in_(numbers[start : start + _CHUNK]))
            ).scalars()
        )
    return [next_member_number(prefix) if number in taken else number for number in numbers]


def _history_rows(member_id: int, new: NewMember, row: dict, by: User, now) -> list[dict]:
    """Registration as a candidate, then each change, as the services record them."""
    changes = [(None, MemberStatus.CANDIDATE, row["join_date"], "")]
    status = MemberStatus.CANDIDATE
    for step in new.steps:
        changes.append((status, step.to, step.on, " ".join(step.reason.split())[:255]))
        status = step.to
    return [
        {
            "member_id": member_id,
            "from_status": before.value if before else None,
            "to_status": after.value,
            "effective_on": on,
            "reason": reason,
            "by_user_id": by.id,
            "recorded_at": now,
        }
        for before, after, on, reason in changes
    ]


def _profile_rows(profile: NewProfile | None, today: date, by: User):
    """The profile's row and its placements' rows (without the member's id), checked as
    `record_consent`, `update_profile` and `add_placement` check them; None: no consent."""
    if profile is None:
        return None
    if profile.consent_on > today:
        raise FieldError("on", _("The date cannot be in the future."))
    fields = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in profile.fields.items()
    }
    if not 0 <= (fields.get("family_abroad") or 0) <= 50:
        raise FieldError("family_abroad", _("Give a number of people from 0 to 50."))
    row = (
        {"family_abroad": 0}
        | fields
        | {
            "consent_date": profile.consent_on,
            "consent_recorded_by_id": by.id,
            "version": 2 if fields else 1,  # consent, then the profile's one update
        }
    )
    return row, _placement_rows(profile.placements, today)


def _insert_profiles(ids: list[int], profiles: list) -> None:
    rows, placements = [], []
    for member_id, found in zip(ids, profiles, strict=True):
        if found is not None:
            row, stays = found
            rows.append(row | {"member_id": member_id})
            placements += [stay | {"member_id": member_id} for stay in stays]
    if rows:
        db.session.execute(sa.insert(MigrantProfile.__table__), _same_keys(rows))
    if placements:
        db.session.execute(sa.insert(Placement.__table__), placements)


def _placement_rows(placements, today: date) -> list[dict]:
    rows, seen = [], set()
    for country, sector, start, end in placements:
        if end is not None and end < start:
            raise FieldError("end_date", _("The end cannot be before the start."))
        if start > today or (end is not None and end > today):
            raise FieldError("start_date", _("The date cannot be in the future."))
        row = {
            "country": clean_name(country, "country")[:60],
            "sector": clean_name(sector, "sector")[:80],
            "start_date": start,
            "end_date": end,
        }
        same = (row["country"], row["sector"], start)
        if same in seen:
            raise DomainError(_("This placement is already recorded."))
        seen.add(same)
        rows.append(row)
    return rows


def _same_keys(rows: list[dict]) -> list[dict]:
    """Rows with every column any of them has (one INSERT statement for all of them)."""
    keys = {key for row in rows for key in row}
    return [dict.fromkeys(keys) | row for row in rows]
