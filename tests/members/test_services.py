"""Member registry services: registering, numbers, status lifecycle, consent, logins."""

from datetime import date

import pytest
import sqlalchemy as sa

from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from coop_app.members import services
from coop_app.members.models import Member, MemberStatus, MemberStatusChange
from coop_app.members.validation import FieldError
from tests.members.conftest import TODAY, member_data


@pytest.fixture
def treasurer(app, make_user):
    name = make_user(Role.TREASURER, "bendahara")
    with app.app_context():
        return db.session.execute(sa.select(User.id).where(User.username == name)).scalar()


def _register(village, **overrides) -> Member:
    data = member_data(overrides.pop("village_id", village), **overrides)
    return services.register_member(data, today=TODAY, by=None)


def _change_status(member: Member, to: MemberStatus, on: date, reason: str, by_id: int) -> None:
    """A status change by the treasurer on an up-to-date form."""
    services.change_status(
        member,
        to=to,
        on=on,
        reason=reason,
        today=TODAY,
        by=db.session.get(User, by_id),
        expected_version=member.version,
    )


def _count() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Member)).scalar()


def test_register_cleans_fields_and_numbers_members_in_order(app, villages):
    village_id, group_id = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        first = _register(village_id, group_id=group_id, name="  Siti   Aminah ")
        second = _register(village_id, nik="3307014501850002", phone="+62 812 3456 7890")
        db.session.commit()
        assert (first.number, second.number) == ("KPM-00001", "KPM-00002")
        assert first.name == "Siti Aminah" and first.phone == "081234567890"
        assert second.phone == "+6281234567890"
        assert (first.status, first.status_date) == ("candidate", date(2024, 3, 17))
        history = db.session.execute(sa.select(MemberStatusChange)).scalars().all()
        assert [(h.from_status, h.to_status) for h in history] == [(None, "candidate")] * 2


def test_numbers_kept_from_old_books_are_skipped(app, villages):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        _register(village_id, number="kpm-00002")
        assert _register(village_id, nik="3307014501850002").number == "KPM-00001"
        assert _register(village_id, nik="3307014501850003").number == "KPM-00003"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nik": "33070145018500"}, "nik", "NIK harus tepat 16 angka."),
        ({"nik": "33070145O1850001"}, "nik", "NIK harus tepat 16 angka."),
        ({"nik": "３３０７０１４５０１８５０００１"}, "nik", "NIK harus tepat 16 angka."),
        ({"phone": "08١٢٣٤٥٦٧٨٩٠"}, "phone", "Nomor HP harus diawali 08 atau +628"),
        ({"name": "   "}, "name", "Nama wajib diisi."),
        ({"name": "x" * 121}, "name", "Nama paling banyak 120 karakter."),
        ({"phone": "12345"}, "phone", "Nomor HP harus diawali 08 atau +628"),
        ({"phone": "0812<script>"}, "phone", "Nomor HP harus diawali 08 atau +628"),
        ({"sex": "X"}, "sex", "Jenis kelamin harus L (laki-laki) atau P (perempuan)."),
        ({"birth_date": date(2015, 1, 1)}, "birth_date", "Anggota harus berumur 17 sampai 110"),
        ({"join_date": date(2027, 1, 1)}, "join_date", "Tanggal masuk tidak boleh di masa depan."),
        ({"village_id": 999}, "village_id", "Pilih desa dari daftar."),
        ({"number": "A/1"}, "number", "Nomor anggota terdiri dari 3 sampai 20"),
    ],
)
def test_register_refuses_bad_fields_with_indonesian_messages(
    app, villages, overrides, field, message
):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        with pytest.raises(FieldError) as refused:
            _register(village_id, **overrides)
        db.session.rollback()
        assert (refused.value.field, refused.value.message[: len(message)]) == (field, message)
        assert _count() == 0


def test_a_group_must_belong_to_the_village(app, villages):
    village_id, _ = villages["Kalibeber"]
    _, other_group = villages["Sojokerto"]
    with (
        app.test_request_context(method="POST"),
        pytest.raises(FieldError, match="harus termasuk desa"),
    ):
        _register(village_id, group_id=other_group)


def test_a_duplicate_nik_names_the_member_who_has_it(app, villages):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        _register(village_id)
        with pytest.raises(FieldError, match="sudah terdaftar untuk anggota KPM-00001"):
            _register(village_id, name="Orang Lain")


def test_edit_is_refused_on_a_stale_form(app, villages):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        db.session.commit()
        loaded = member.version
        services.update_member(
            member, member_data(village_id, name="Siti A."), today=TODAY, expected_version=loaded
        )
        db.session.commit()
        with pytest.raises(StaleEditError):
            services.update_member(
                member, member_data(village_id, name="Lain"), today=TODAY, expected_version=loaded
            )


def test_status_lifecycle_needs_date_and_reason_and_keeps_history(app, villages, treasurer):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        user = db.session.get(User, treasurer)

        def change(to, on, reason="Disetujui rapat pengurus"):
            services.change_status(
                member,
                to=to,
                on=on,
                reason=reason,
                today=TODAY,
                by=user,
                expected_version=member.version,
            )

        with pytest.raises(FieldError, match="Tulis alasan"):
            change(MemberStatus.ACTIVE, date(2024, 4, 1), reason=" ")
        with pytest.raises(FieldError, match="sebelum status sekarang"):
            change(MemberStatus.ACTIVE, date(2024, 1, 1))
        with pytest.raises(FieldError, match="masa depan"):
            change(MemberStatus.ACTIVE, date(2027, 1, 1))
        change(MemberStatus.ACTIVE, date(2024, 4, 1))
        change(MemberStatus.DECEASED, date(2025, 6, 1), reason="Meninggal dunia")
        with pytest.raises(DomainError, match="tidak dapat dilakukan"):
            change(MemberStatus.ACTIVE, date(2025, 7, 1))
        steps = [(c.from_status, c.to_status, c.by_user_id) for c in member.status_changes]
        assert steps == [
            (None, "candidate", None),
            ("candidate", "active", treasurer),
            ("active", "deceased", treasurer),
        ]


def test_the_migrant_profile_needs_consent_first(app, villages, treasurer):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        user = db.session.get(User, treasurer)
        with pytest.raises(DomainError, match="persetujuan"):
            services.update_profile(member, expected_version=1, business="Keripik")
        with pytest.raises(DomainError, match="persetujuan"):
            services.add_placement(
                member, country="Taiwan", sector="Pabrik", start=date(2010, 1, 1), end=None,
                today=TODAY,
            )  # fmt: skip
        profile = services.record_consent(member, on=date(2024, 3, 17), today=TODAY, by=user)
        services.update_profile(member, expected_version=profile.version, business="Keripik")
        services.add_placement(
            member, country="Hong Kong", sector="Rumah tangga", start=date(2008, 2, 1),
            end=date(2014, 6, 30), today=TODAY,
        )  # fmt: skip
        db.session.commit()
        assert profile.consent_recorded_by_id == treasurer
        assert [p.country for p in profile.placements] == ["Hong Kong"]
        with pytest.raises(DomainError, match="sudah dicatat"):
            services.record_consent(member, on=date(2024, 3, 17), today=TODAY, by=user)


def test_a_member_login_uses_the_member_number(app, villages):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        user, temporary = services.create_member_login(member)
        db.session.commit()
        assert (user.username, user.role, user.full_name) == ("kpm-00001", "member", "Siti Aminah")
        assert user.must_change_password and temporary
        with pytest.raises(DomainError, match="sudah punya akun"):
            services.create_member_login(member)


def test_resigning_ends_the_members_login(app, villages, treasurer):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        user, _temporary = services.create_member_login(member)
        _change_status(
            member, MemberStatus.RESIGNED, date(2025, 1, 1), "Pindah ke luar kota", treasurer
        )
        db.session.commit()
        assert not user.active


def test_a_member_in_a_retired_village_can_still_be_corrected(app, villages):
    village_id, group_id = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id, group_id=group_id)
        services.set_village_active(member.village, active=False)
        db.session.commit()
        services.update_member(
            member,
            member_data(village_id, group_id=group_id, phone="081299998888"),
            today=TODAY,
            expected_version=member.version,
        )
        assert member.phone == "081299998888"
        with pytest.raises(FieldError, match="Pilih desa"):
            _register(village_id, nik="3307014501850009")


def test_the_join_date_cannot_move_after_the_status_history(app, villages, treasurer):
    village_id, _ = villages["Kalibeber"]
    with app.test_request_context(method="POST"):
        member = _register(village_id)
        _change_status(
            member, MemberStatus.ACTIVE, date(2024, 4, 1), "Disetujui rapat pengurus", treasurer
        )
        with pytest.raises(FieldError, match="1 April 2024"):
            services.update_member(
                member,
                member_data(village_id, join_date=date(2025, 1, 1)),
                today=TODAY,
                expected_version=member.version,
            )
        services.update_member(
            member,
            member_data(village_id, join_date=date(2024, 3, 1)),
            today=TODAY,
            expected_version=member.version,
        )
        assert member.join_date == date(2024, 3, 1)
