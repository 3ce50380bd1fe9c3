"""Fixtures for the member registry: villages and a way to register members."""

from datetime import date

import pytest

from coop_app.extensions import db
from coop_app.members.models import Village, VillageGroup
from coop_app.members.validation import MemberData

TODAY = date(2026, 11, 22)


@pytest.fixture
def villages(app):
    """Two villages with a group each; returns {name: (village_id, group_id)}."""
    with app.app_context():
        made = {}
        for name in ("Kalibeber", "Sojokerto"):
            village = Village(name=name, subdistrict="Mojotengah")
            group = VillageGroup(village=village, name=f"Kelompok {name} 1")
            db.session.add_all([village, group])
            db.session.flush()
            made[name] = (village.id, group.id)
        db.session.commit()
        return made


def member_data(village_id: int, **overrides) -> MemberData:
    """A valid member's data; override any field."""
    fields = {
        "nik": "3307014501850001",
        "name": "Siti Aminah",
        "sex": "P",
        "birth_date": date(1985, 1, 5),
        "village_id": village_id,
        "join_date": date(2024, 3, 17),
        "address": "RT 02 RW 03",
        "phone": "0812-3456-7890",
        "heir": "Ahmad Fauzi",
    }
    return MemberData(**(fields | overrides))
