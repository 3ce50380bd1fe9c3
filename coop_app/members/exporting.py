"""The member list as a workbook, and the import template (both share one column layout).

The columns are those of the import, so an export can be edited and imported elsewhere.
Nothing of the migrant profile is ever written: the rows are built from the member
record's own columns only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.extensions import db
from coop_app.members.models import Member, MemberStatus, Village, VillageGroup
from coop_app.members.queries import member_list_query
from coop_app.spreadsheets import Column, Kind, Sheet, write_workbook


@dataclass(frozen=True)
class MemberColumn:
    """A column of the member sheet: its key, its fixed header, and how it is written."""

    key: str
    header: str
    kind: Kind = Kind.TEXT
    width: float = 16
    #: Whether an imported file must have this column.
    required: bool = False

    def as_column(self) -> Column:
        return Column(self.header, self.kind, self.width)


#: The file format of member lists, in and out. Headers are fixed Indonesian words (a file
#: format, not interface text): a file keeps working whatever language its maker uses.
MEMBER_COLUMNS = (
    MemberColumn("number", "Nomor anggota", width=15),
    MemberColumn("nik", "NIK", width=19, required=True),
    MemberColumn("name", "Nama", width=28, required=True),
    MemberColumn("sex", "Jenis kelamin", width=8, required=True),
    MemberColumn("birth_date", "Tanggal lahir", Kind.DATE, width=13, required=True),
    MemberColumn("village", "Desa", width=18, required=True),
    MemberColumn("group", "Kelompok", width=20),
    MemberColumn("address", "Alamat", width=30),
    MemberColumn("phone", "No HP", width=16),
    MemberColumn("join_date", "Tanggal masuk", Kind.DATE, width=13, required=True),
    MemberColumn("heir", "Ahli waris", width=24),
    MemberColumn("status", "Status", width=10),
)

#: Status words of the file (the import accepts calon and aktif).
STATUS_WORDS = {
    MemberStatus.CANDIDATE: "calon",
    MemberStatus.ACTIVE: "aktif",
    MemberStatus.RESIGNED: "keluar",
    MemberStatus.DECEASED: "meninggal",
}

SHEET_NAME = "Anggota"


def _member_row(member: Member) -> tuple:
    return (
        member.number,
        member.nik,
        member.name,
        member.sex,
        member.birth_date,
        member.village.name,
        member.group.name if member.group else None,
        member.address,
        member.phone,
        member.join_date,
        member.heir,
        STATUS_WORDS[MemberStatus(member.status)],
    )


def _member_rows(query) -> Iterator[tuple]:
    """Members streamed from the database in batches, one sheet row each."""
    result = db.session.execute(query.execution_options(yield_per=500)).scalars()
    for member in result:
        yield _member_row(member)


def write_member_list(
    target: str | IO[bytes], *, text: str = "", status: str = "", village_id: int | None = None
) -> int:
    """Write the member list, filtered as on the list screen; returns the member count."""
    query = member_list_query(text=text, status=status, village_id=village_id, by_nik=True)
    columns = [column.as_column() for column in MEMBER_COLUMNS]
    (count,) = write_workbook(target, [Sheet(SHEET_NAME, columns, _member_rows(query))])
    return count


def _example_row() -> tuple:
    """A row that imports as it is, in the first village that has a group if any."""
    found = db.session.execute(
        sa.select(Village.name, VillageGroup.name)
        .outerjoin(VillageGroup, (VillageGroup.village_id == Village.id) & VillageGroup.active)
        .where(Village.active.is_(True))
        .order_by(VillageGroup.id.is_(None), Village.name, VillageGroup.name)
        .limit(1)
    ).first()
    village, group = found if found else ("Kalibeber", None)
    return (
        "",
        "3307014501850001",
        "Siti Aminah",
        "P",
        date(1985, 1, 5),
        village,
        group,
        "RT 02 RW 03",
        "081234567890",
        date(2024, 3, 17),
        "Ahmad Fauzi",
        "calon",
    )


def _instructions() -> list[tuple]:
    required, optional = _("Required"), _("Optional")
    notes = {
        "number": _("Empty: the next number is given. Filled: kept from the old books."),
        "nik": _("Exactly 16 digits. Keep the column formatted as Text."),
        "name": _("At most 120 characters."),
        "sex": _("L (male) or P (female)."),
        "birth_date": _("dd/mm/yyyy, for example 05/01/1985, or a spreadsheet date."),
        "village": _("A village name exactly as in the application."),
        "group": _("A group of that village, or empty."),
        "address": _("Free text."),
        "phone": _("Starts with 08 or +628. Keep the column formatted as Text."),
        "join_date": _("dd/mm/yyyy, not in the future and after the birth date."),
        "heir": _("Who receives the savings if the member dies."),
        "status": _("calon or aktif; empty means calon."),
    }
    rows = [
        (column.header, required if column.required else optional, notes[column.key])
        for column in MEMBER_COLUMNS
    ]
    rows.append(("", "", _("Replace the example row with your members; one member per row.")))
    return rows


def write_import_template(target: str | IO[bytes]) -> None:
    """The workbook people fill in to import members: the columns, an example, a guide."""
    columns = [column.as_column() for column in MEMBER_COLUMNS]
    guide = [
        Column(_("Column"), width=16),
        Column(_("Required?"), width=12),
        Column(_("How to fill it in"), width=70),
    ]
    write_workbook(
        target,
        [
            Sheet(SHEET_NAME, columns, [_example_row()]),
            Sheet(_("Guide"), guide, _instructions()),
        ],
    )
