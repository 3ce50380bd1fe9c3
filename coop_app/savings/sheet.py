"""The collection sheet's form: an amount box per member and column, a date, a one-time key.

The boxes are named after the column and the member (`mandatory-12`), and a part's boxes
after the item too (`installment-12-7`: member 12's loan 7), each item with the version
the sheet showed (`version-loans-7`). The sheet has as many fields as the group has
members; WTForms' fixed fields do not fit, so the reading is done here, with the same
amount parser and messages as every other money field.
"""

import re
from datetime import date
from typing import NamedTuple

from flask_babel import gettext as _

from coop_app.errors import DomainError
from coop_app.forms import RupiahError, parse_day, parse_rupiah
from coop_app.i18n import format_rupiah
from coop_app.ledger import idempotency
from coop_app.savings.collection import (
    COLUMNS,
    PARTS,
    Box,
    SheetColumn,
    SheetItem,
    SheetPart,
    SheetRow,
    box_name,
    sheet_day,
)
from coop_app.savings.forms import MAX_TRANSACTION
from coop_app.savings.models import SavingsKind

_PART_BOX = re.compile(r"^([a-z_]+)-(\d{1,12})-(\d{1,12})$")
_VERSION = re.compile(r"^version-([a-z_]+)-(\d{1,12})$")


class ShownBox(NamedTuple):
    """An amount box as the page shows it: its name, label, text and refusal (if any)."""

    name: str
    label: str
    value: str
    error: str


class ShownItem(NamedTuple):
    """A part's item under its member's row, e.g. a running loan, with its boxes."""

    item: SheetItem
    version_name: str
    #: (column label, box) in the part's column order.
    boxes: list[tuple[str, ShownBox]]


class ShownRow(NamedTuple):
    """A member's rows on the page: ready text, so that the template only writes it out."""

    name: str
    number: str
    #: "behind Rp 40.000", or "" for a member who is paid up.
    behind: str
    #: A box per savings column, None where the member has no such account.
    savings: list[ShownBox | None]
    items: list[ShownItem]


class SheetForm:
    def __init__(self, rows: list[SheetRow], *, month: date, today: date):
        self.rows = rows
        self.on = sheet_day(month, today)
        self.on_text = self.on.strftime("%d/%m/%Y")
        self.form_key = idempotency.new_key()
        #: What was typed (re-shown after a refusal) and the message of each refused box.
        self.typed: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        #: (part name, item ref) -> the version the sheet showed, as sent back.
        self.versions: dict[tuple[str, int], int] = {}

    @property
    def parts(self) -> list[SheetPart]:
        return list(PARTS.values())

    @staticmethod
    def name(row: SheetRow, kind: SavingsKind) -> str:
        return box_name(kind.value, row.member.id)

    @staticmethod
    def box(row: SheetRow, column: SheetColumn, item: SheetItem) -> str:
        return box_name(column.key, row.member.id, item.ref)

    @staticmethod
    def version_name(part: SheetPart, item: SheetItem) -> str:
        return f"version-{part.name}-{item.ref}"

    def value(self, row: SheetRow, kind: SavingsKind) -> str:
        """The box's text: what was typed, else the suggested mandatory amount."""
        name = self.name(row, kind)
        if name in self.typed:
            return self.typed[name]
        if kind == SavingsKind.MANDATORY and row.suggested:
            return format_rupiah(row.suggested, symbol=False)
        return ""

    def box_value(self, row: SheetRow, column: SheetColumn, item: SheetItem) -> str:
        """A part's box: what was typed, else what is due (the part's suggestion)."""
        name = self.box(row, column, item)
        if name in self.typed:
            return self.typed[name]
        suggested = item.suggested.get(column.key, 0)
        return format_rupiah(suggested, symbol=False) if suggested else ""

    def savings_labels(self) -> list[str]:
        """The savings columns' headings, in the order of `COLUMNS`."""
        return [_("Mandatory (Rp)"), _("Voluntary (Rp)")]

    def shown(self) -> list[ShownRow]:
        """Every row as the page shows it. Labels are translated once for the sheet, not
        once per box: a sheet has a few hundred boxes."""
        savings = list(zip(COLUMNS, self.savings_labels(), strict=True))
        columns = {part.name: [(c, str(c.label)) for c in part.columns] for part in self.parts}
        return [self._shown_row(row, savings, columns) for row in self.rows]

    def _shown_row(self, row: SheetRow, savings, columns) -> ShownRow:
        name = row.member.name
        behind = _("behind %(amount)s", amount=format_rupiah(row.arrears)) if row.arrears else ""
        boxes = [
            self._box(self.name(row, kind), f"{name}: {label}", self.value(row, kind))
            if kind in row.accounts
            else None
            for kind, label in savings
        ]
        items = [
            self._shown_item(row, part, item, columns[part.name])
            for part in self.parts
            for item in row.items.get(part.name, ())
        ]
        return ShownRow(name, row.member.number, behind, boxes, items)

    def _shown_item(self, row: SheetRow, part: SheetPart, item: SheetItem, columns) -> ShownItem:
        boxes = [
            (
                label,
                self._box(
                    self.box(row, column, item),
                    f"{row.member.name}, {item.title}: {label}",
                    self.box_value(row, column, item),
                ),
            )
            for column, label in columns
        ]
        return ShownItem(item, self.version_name(part, item), boxes)

    def _box(self, name: str, label: str, value: str) -> ShownBox:
        return ShownBox(name, label, value, self.errors.get(name, ""))

    def read(self, form) -> dict[int, dict[SavingsKind | Box, int]]:
        """Amounts per member and column; raises DomainError (with every box marked) if any
        box or the date is not right.

        A part's box whose item is no longer on the sheet (e.g. a loan paid off since) is
        read all the same: `collect` refuses it after the one-time key is claimed, so that
        the same sheet sent twice still leads to the first sending's receipts."""
        self.form_key = form.get("form_key", "")
        self.on_text = form.get("on", "")[:20]
        try:
            self.on = parse_day(self.on_text)
        except ValueError as error:
            self.errors["on"] = str(error)
        amounts = {}
        for row in self.rows:
            amounts[row.member.id] = {
                kind: self._amount(form, self.name(row, kind))
                for kind in COLUMNS
                if kind in row.accounts
            }
        expected = {self.name(row, kind) for row in self.rows for kind in COLUMNS}
        changed = any(
            name not in expected and form.get(name, "").strip()
            for name in form
            if name.split("-")[0] in {kind.value for kind in COLUMNS}
        )
        keys = {column.key for part in self.parts for column in part.columns}
        for name in form:
            match = _PART_BOX.match(name)
            if not match or match.group(1) not in keys:
                continue
            column, member_id, ref = match.group(1), int(match.group(2)), int(match.group(3))
            if member_id not in amounts:
                changed = changed or bool(form.get(name, "").strip())
                continue
            amount = self._amount(form, name)
            if amount:
                amounts[member_id][Box(column, ref)] = amount
        for name in form:
            match = _VERSION.match(name)
            if match:
                text = form.get(name, "")
                version = int(text) if text.isdigit() and len(text) < 10 else -1
                self.versions[(match.group(1), int(match.group(2)))] = version
        if changed:
            raise DomainError(
                _(
                    "The sheet has changed since it was opened (a member joined or left the "
                    "group). Reload it; nothing was saved."
                )
            )
        if self.errors:
            raise DomainError(
                _("Some boxes are not right. Check the marked ones; nothing was saved.")
            )
        return amounts

    def _amount(self, form, name: str) -> int:
        text = form.get(name, "")[:40]
        self.typed[name] = text
        if not text.strip():
            return 0
        try:
            amount = parse_rupiah(text)
        except RupiahError as error:
            self.errors[name] = str(error)
            return 0
        if amount > MAX_TRANSACTION:
            maximum = format_rupiah(MAX_TRANSACTION)
            self.errors[name] = _("The amount is too large (at most %(max)s).", max=maximum)
        return amount
