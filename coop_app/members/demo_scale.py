"""The district-scale demo's members: thousands in the demo's 12 villages, registered in bulk.

Told like the demo's 220 (the same names, NIKs, phones, placements abroad, profiles and
lifecycles, from the same generators) but over the size's years, and registered a
thousand at a time through `members.bulk`, which checks them by the registry's rules.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.demo_size import DemoSize
from coop_app.extensions import db
from coop_app.members.bulk import NewMember, NewProfile, StatusStep, register_members_bulk
from coop_app.members.demo import (
    ACTIVATION_REASONS,
    AGENCIES,
    BUSINESSES,
    DEMO_TODAY,
    EXIT_REASONS,
    LOGIN_MEMBER_NAME,
    LOGIN_USERNAME,
    STATUS_WEIGHTS,
    Registry,
    add_villages,
    between,
    demo_staff,
    member_data,
    placements_abroad,
    weighted,
)
from coop_app.members.models import Member, MemberStatus, Sex, VillageGroup

#: Members registered per batch (the registry's checks and inserts run per batch).
CHUNK = 1_000
HISTORY_END = DEMO_TODAY - timedelta(days=1)


@dataclass(frozen=True)
class _Window:
    """When members join: from the history's first day; candidates in the last months;
    the others early enough to be activated (and to save) before DEMO_TODAY."""

    first: date
    last: date = DEMO_TODAY - timedelta(days=60)
    candidates: date = DEMO_TODAY - timedelta(days=120)


def seed_members_at_scale(rng: random.Random, size: DemoSize) -> None:
    """Villages with their groups, `size.members` members, and the demo member's record."""
    staff = demo_staff()
    plans = add_villages(rng)
    weights = [rng.randint(2, 6) for _plan in plans]
    _add_groups(plans, weights, size.members)
    registry, window = Registry(rng), _Window(size.first_day)
    batch = [_story(rng, registry, plans[0], window, name=LOGIN_MEMBER_NAME)]
    ids: list[int] = []
    for _index in range(size.members - 1):
        batch.append(_story(rng, registry, rng.choices(plans, weights=weights)[0], window))
        if len(batch) == CHUNK:
            ids += register_members_bulk(batch, today=DEMO_TODAY, by=staff)
            batch = []
    if batch:
        ids += register_members_bulk(batch, today=DEMO_TODAY, by=staff)
    _link_login(ids[0])


#: Members a village group (kelompok) holds at most in the district: real groups have 15 to
#: 30, and the monthly collection sheet is one group's form.
GROUP_SIZE = 25


def _add_groups(plans, weights: list[int], members: int) -> None:
    """More groups in each village, numbered after the demo's, so that none holds more than
    about GROUP_SIZE of the members the village is expected to get."""
    total = sum(weights)
    for (village, _code, groups), weight in zip(plans, weights, strict=True):
        needed = -(-members * weight // (total * GROUP_SIZE))
        for number in range(len(groups) + 1, needed + 1):
            groups.append(VillageGroup(village=village, name=f"Kelompok {number}"))
    db.session.add_all(group for _v, _c, groups in plans for group in groups)
    db.session.flush()


def _link_login(member_id: int) -> None:
    """The demo member login (created by coop_app.demo) belongs to the first member."""
    login = db.session.execute(sa.select(User).where(User.username == LOGIN_USERNAME)).scalar()
    if login is not None:
        db.session.get(Member, member_id).user_id = login.id
        db.session.flush()


def _story(rng: random.Random, registry: Registry, village_plan, window: _Window, *, name=None):
    """One member's registration, lifecycle and migrant profile, as the demo tells them."""
    sex = Sex.FEMALE if name or rng.random() < 0.8 else Sex.MALE
    birth = between(rng, date(1965, 1, 1), date(2000, 12, 31))
    migrant = True if name else rng.random() < 0.75
    placements = placements_abroad(rng, birth, sex) if migrant and rng.random() < 0.96 else []
    status = MemberStatus.ACTIVE if name else weighted(rng, STATUS_WEIGHTS)
    earliest = window.first
    if placements:
        earliest = max(earliest, placements[-1].end + timedelta(days=30))
    if status == MemberStatus.CANDIDATE:
        joins = (max(earliest, window.candidates), HISTORY_END)
    else:
        joins = (earliest, window.last)
    data = member_data(rng, registry, village_plan, sex=sex, birth=birth, name=name, joins=joins)
    steps = _lifecycle(rng, data.join_date, status)
    profile = _profile(rng, data.join_date, placements) if migrant else None
    return NewMember(data, steps, profile)


def _lifecycle(rng: random.Random, joined: date, status: MemberStatus) -> list[StatusStep]:
    """Activated weeks after joining; an exit at least half a year later, if there is time
    for one before DEMO_TODAY (otherwise the member stays active)."""
    if status == MemberStatus.CANDIDATE:
        return []
    activated = min(joined + timedelta(days=rng.randint(3, 45)), HISTORY_END)
    steps = [StatusStep(MemberStatus.ACTIVE, activated, rng.choice(ACTIVATION_REASONS))]
    earliest_exit = activated + timedelta(days=180)
    if status != MemberStatus.ACTIVE and earliest_exit <= HISTORY_END:
        on = between(rng, earliest_exit, HISTORY_END)
        steps.append(StatusStep(status, on, rng.choice(EXIT_REASONS[status])))
    return steps


def _profile(rng: random.Random, joined: date, placements) -> NewProfile:
    """Consent, then (for those who told their story) the profile and the placements."""
    consent = min(between(rng, joined, joined + timedelta(days=120)), DEMO_TODAY)
    if not placements:
        return NewProfile(consent)
    last = placements[-1]
    procedural = rng.random() < {"Saudi Arabia": 0.3, "Malaysia": 0.65}.get(last.country, 0.85)
    business, products = rng.choice(BUSINESSES) if rng.random() < 0.7 else (None, None)
    fields = {
        "return_date": last.end + timedelta(days=rng.randint(0, 20)),
        "procedural": procedural,
        "placement_agency": rng.choice(AGENCIES) if procedural else None,
        "family_abroad": rng.choices((0, 1, 2), weights=(6, 3, 1))[0],
        "business": business,
        "products": products,
    }
    stays = [(p.country, p.sector, p.start, p.end) for p in placements]
    return NewProfile(consent, fields, stays)
