"""Checking the rows of a member import against the registry's own rules.

Every cell is read as text (dates as real dates or dd/mm/yyyy), every problem is kept with
the row number the user sees and the column header, and duplicates are found inside the
file and against the database. Used at preview and again at confirm.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.members.exporting import MEMBER_COLUMNS
from coop_app.members.models import Member, MemberStatus, Village, VillageGroup
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
from coop_app.uploads import Table

#: Longer cells are cut here when stored; the field rules still see them as too long.
MAX_CELL = 1000

HEADERS = {column.key: column.header for column in MEMBER_COLUMNS}
#: Cells that must be typed as text: a number loses leading zeros and digits past 15.
TEXT_ONLY = ("number", "nik", "phone")
#: The field names of FieldError, mapped to the file's columns.
FIELD_COLUMNS = {"village_id": "village", "group_id": "group"} | {key: key for key in HEADERS}
STATUS_WORDS = {
    "calon": MemberStatus.CANDIDATE,
    "candidate": MemberStatus.CANDIDATE,
    "aktif": MemberStatus.ACTIVE,
    "active": MemberStatus.ACTIVE,
}
_DATE_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, order=True)
class RowProblem:
    """One problem: the row as the spreadsheet numbers it, the column header, the message."""

    row: int
    column: str
    message: str


@dataclass
class Candidate:
    """A row that passed every check, ready to register."""

    row: int
    data: MemberData
    status: MemberStatus


# --- reading the file -------------------------------------------------------------------


def _normalise(header: str) -> str:
    return _SPACES.sub(" ", header.casefold()).strip()


_KEYS_BY_HEADER = {_normalise(header): key for key, header in HEADERS.items()} | {
    "no anggota": "number",
    "nama lengkap": "name",
    "jenis kelamin l p": "sex",
    "tgl lahir": "birth_date",
    "tgl masuk": "join_date",
    "nomor hp": "phone",
    "no telp": "phone",
}


def _column_keys(header: list[str]) -> dict[int, str]:
    """Which file column holds which field; refuses a file without the needed columns."""
    keys: dict[int, str] = {}
    for index, name in enumerate(header):
        key = _KEYS_BY_HEADER.get(_normalise(name))
        if key is None:
            continue
        if key in keys.values():
            raise DomainError(_("The column %(name)s appears twice.", name=HEADERS[key]))
        keys[index] = key
    missing = [c.header for c in MEMBER_COLUMNS if c.required and c.key not in keys.values()]
    if missing:
        raise DomainError(
            _("The first row lacks the columns: %(names)s.", names=", ".join(missing))
        )
    return keys


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:MAX_CELL]


def stored_rows(table: Table) -> list[dict]:
    """The table's rows as text keyed by field, with the fields that were numbers."""
    keys = _column_keys(table.header)
    rows = []
    for number, values in table.rows:
        cells = {key: _as_text(values[index]) for index, key in keys.items()}
        numeric = [
            key
            for index, key in keys.items()
            if key in TEXT_ONLY and isinstance(values[index], int | float)
        ]
        rows.append({"row": number, "cells": cells, "numeric": numeric})
    return rows


# --- checking the rows ------------------------------------------------------------------


def _parse_date(text: str) -> date | None:
    """dd/mm/yyyy (or a real spreadsheet date, stored the same way); empty -> None."""
    text = text.strip()
    if not text:
        return None
    if match := _DATE_DMY.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _DATE_ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise FieldError("date", _("Write the date as dd/mm/yyyy, for example 05/01/1985."))
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError("date", _("%(text)s is not a real date.", text=text)) from None


def _number_cell_message() -> str:
    return _(
        "This cell is a number, which loses leading zeros and digits past the 15th. "
        "Format the column as Text and type it again."
    )


class _RowChecker:
    """Checks one row field by field, keeping every problem instead of stopping at one."""

    def __init__(self, row: dict):
        self.number = row["row"]
        self.cells = row["cells"]
        self.numeric = set(row.get("numeric", ()))
        self.problems: list[RowProblem] = []
        self.failed: set[str] = set()

    def add(self, key: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, HEADERS[key], message))
        self.failed.add(key)

    def text(self, key: str) -> str:
        value = self.cells.get(key, "")
        if _CONTROL.search(value):
            self.add(key, _("What you sent contains characters that are not allowed."))
            return ""
        if key in self.numeric:
            self.add(key, _number_cell_message())
            return ""
        return value

    def date(self, key: str) -> tuple[bool, date | None]:
        """(whether the cell is empty or a real date, the date)."""
        value = self.clean(key, _parse_date, self.text(key))
        return key not in self.failed, value

    def clean(self, key: str, rule, *args):
        """`rule(*args)`, or None with the problem noted (one problem per cell)."""
        if key in self.failed:
            return None
        try:
            return rule(*args)
        except FieldError as error:
            self.add(key, error.message)
            return None


class _Registry:
    """What the checks need from the database, read once per file."""

    def __init__(self, rows: list[dict]):
        villages = db.session.execute(sa.select(Village).where(Village.active.is_(True)))
        self.villages = {_normalise(v.name): v.id for v in villages.scalars()}
        groups = db.session.execute(
            sa.select(VillageGroup).where(VillageGroup.active.is_(True))
        ).scalars()
        self.groups = {(g.village_id, _normalise(g.name)): g.id for g in groups}
        niks = {r["cells"].get("nik", "").strip().replace(" ", "") for r in rows}
        numbers = {r["cells"].get("number", "").strip().upper() for r in rows}
        self.nik_owner = self._existing(Member.nik, niks)
        self.numbers = set(self._existing(Member.number, numbers))

    @staticmethod
    def _existing(column, values: set[str]) -> dict[str, str]:
        """{value: member number} for the values already registered."""
        found: dict[str, str] = {}
        values = sorted(value for value in values if value)
        for start in range(0, len(values), 500):
            query = sa.select(column, Member.number).where(column.in_(values[start : start + 500]))
            found.update(dict(db.session.execute(query).all()))
        return found


def _check_row(row: dict, registry: _Registry, today: date) -> tuple[list, Candidate | None]:
    check = _RowChecker(row)
    number = check.clean("number", clean_member_number, check.text("number"))
    nik = check.clean("nik", clean_nik, check.text("nik"))
    name = check.clean("name", clean_name, check.text("name"))
    sex = check.clean("sex", clean_sex, check.text("sex"))
    parsed, birth = check.date("birth_date")
    if parsed:
        birth = check.clean("birth_date", check_birth_date, birth, today)
    parsed, joined = check.date("join_date")
    if parsed:
        joined = check.clean("join_date", check_join_date, joined, birth or date.min, today)
    village_id, group_id = _place(check, registry)
    address = check.text("address")
    check.clean("address", clean_address, address)
    phone_text = check.text("phone")
    check.clean("phone", clean_phone, phone_text)
    heir = check.text("heir")
    if heir.strip():
        check.clean("heir", clean_name, heir, "heir")
    status = STATUS_WORDS.get(check.text("status").strip().casefold() or "calon")
    if status is None:
        check.add("status", _("The status must be calon or aktif (empty means calon)."))
    if nik and nik in registry.nik_owner:
        owner = registry.nik_owner[nik]
        check.add("nik", _("This NIK is already registered for member %(number)s.", number=owner))
    if number and number in registry.numbers:
        check.add("number", _("Member number %(number)s is taken.", number=number))
    if check.problems:
        return check.problems, None
    data = MemberData(
        nik=nik,
        name=name,
        sex=sex,
        birth_date=birth,
        village_id=village_id,
        join_date=joined,
        group_id=group_id,
        address=address,
        phone=phone_text,
        heir=heir,
        number=number,
    )
    return [], Candidate(check.number, data, status)


def _place(check: _RowChecker, registry: _Registry) -> tuple[int | None, int | None]:
    village_text, group_text = check.text("village").strip(), check.text("group").strip()
    if not village_text:
        check.add("village", _("The village is required."))
        return None, None
    village_id = registry.villages.get(_normalise(village_text))
    if village_id is None:
        check.add("village", _("There is no village named %(name)s.", name=village_text))
        return None, None
    if not group_text:
        return village_id, None
    group_id = registry.groups.get((village_id, _normalise(group_text)))
    if group_id is None:
        check.add(
            "group",
            _(
                "Village %(village)s has no group named %(name)s.",
                village=village_text,
                name=group_text,
            ),
        )
    return village_id, group_id


def _duplicates_in_file(rows: list[dict]) -> list[RowProblem]:
    problems = []
    for key, clean in (("nik", lambda t: t.strip().replace(" ", "")), ("number", str.upper)):
        first_row: dict[str, int] = {}
        for row in rows:
            value = clean(row["cells"].get(key, "").strip())
            if not value:
                continue
            if value in first_row:
                message = _("The same value is already on row %(row)d.", row=first_row[value])
                problems.append(RowProblem(row["row"], HEADERS[key], message))
            else:
                first_row[value] = row["row"]
    return problems


def check_rows(rows: list[dict], *, today: date) -> tuple[list[Candidate], list[RowProblem]]:
    """Every row checked with the registry's rules; every problem of every row, sorted."""
    registry = _Registry(rows)
    candidates, problems = [], _duplicates_in_file(rows)
    for row in rows:
        row_problems, candidate = _check_row(row, registry, today)
        problems += row_problems
        if candidate is not None:
            candidates.append(candidate)
    order = {column.header: index for index, column in enumerate(MEMBER_COLUMNS)}
    problems.sort(key=lambda p: (p.row, order[p.column], p.message))
    return candidates, problems
