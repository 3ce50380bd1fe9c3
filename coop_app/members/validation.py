"""Rules for one member's fields, shared by the screens and the spreadsheet import.

Each function takes what was typed and returns the clean value, or raises FieldError
with the field's name and an Indonesian message (the import shows it per row and column).
"""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from coop_app.errors import DomainError

#: ASCII digits only ([0-9], not \d): fullwidth or Arabic-Indic digits would let one NIK
#: be registered twice under two spellings.
NIK_RE = re.compile(r"^[0-9]{16}$")
PHONE_RE = re.compile(r"^(08[0-9]{7,11}|\+628[0-9]{7,11})$")
NAME_MAX = 120
#: Members are adults; anybody said to be older than this is a typing slip.
OLDEST_AGE = 110
YOUNGEST_AGE = 17


class FieldError(DomainError):
    """A value that breaks a rule of one field (`field` names it)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class MemberData:
    """What the registry needs to know about a member (as typed, before cleaning)."""

    nik: str
    name: str
    sex: str
    birth_date: date | None
    village_id: int | None
    join_date: date | None
    group_id: int | None = None
    address: str = ""
    phone: str = ""
    heir: str = ""
    number: str = ""


def clean_nik(text: str) -> str:
    nik = (text or "").strip().replace(" ", "")
    if not NIK_RE.match(nik):
        raise FieldError("nik", _("The NIK must be exactly 16 digits."))
    return nik


def clean_name(text: str, field: str = "name") -> str:
    name = " ".join((text or "").split())
    if not name:
        raise FieldError(field, _("The name is required."))
    if len(name) > NAME_MAX:
        raise FieldError(field, _("The name may have at most %(n)d characters.", n=NAME_MAX))
    return name


ADDRESS_MAX = 255


def clean_address(text: str) -> str:
    """Spaces folded; refused when too long (never cut short without saying so)."""
    address = " ".join((text or "").split())
    if len(address) > ADDRESS_MAX:
        raise FieldError(
            "address", _("The address may have at most %(n)d characters.", n=ADDRESS_MAX)
        )
    return address


def clean_phone(text: str) -> str | None:
    """`0812-3456-789` -> `08123456789`; `+62 812...` kept with its plus; empty -> None."""
    phone = re.sub(r"[\s.\-()]", "", text or "")
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise FieldError(
            "phone", _("The phone number must start with 08 or +628 and have 9 to 14 digits.")
        )
    return phone


def clean_sex(text: str) -> str:
    sex = (text or "").strip().upper()[:1]
    if sex not in ("L", "P"):
        raise FieldError("sex", _("Sex must be L (male) or P (female)."))
    return sex


def check_birth_date(birth: date | None, today: date) -> date:
    if birth is None:
        raise FieldError("birth_date", _("The birth date is required."))
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if not YOUNGEST_AGE <= age <= OLDEST_AGE:
        raise FieldError(
            "birth_date",
            _(
                "A member must be %(young)d to %(old)d years old.",
                young=YOUNGEST_AGE,
                old=OLDEST_AGE,
            ),
        )
    return birth


def check_join_date(joined: date | None, birth: date, today: date) -> date:
    if joined is None:
        raise FieldError("join_date", _("The join date is required."))
    if joined > today:
        raise FieldError("join_date", _("The join date cannot be in the future."))
    if joined <= birth:
        raise FieldError("join_date", _("The join date must be after the birth date."))
    return joined


def clean_member_number(text: str) -> str:
    number = (text or "").strip().upper()
    # It becomes the member's username, so only characters a username may have.
    if number and not re.match(r"^[A-Z0-9][A-Z0-9.-]{2,19}$", number):
        raise FieldError(
            "number", _("A member number has 3 to 20 letters, digits, dots or dashes.")
        )
    return number
