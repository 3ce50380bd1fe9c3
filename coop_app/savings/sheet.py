"""The collection sheet's form: an amount box per member and column, a date, a one-time key.

The boxes are named after the member and the column, so the sheet has as many fields as
the group has members; WTForms' fixed fields do not fit, so the reading is done here, with
the same amount parser and messages as every other money field.
"""

from datetime import date

from flask_babel import gettext as _

from coop_app.errors import DomainError
from coop_app.forms import RupiahError, parse_day, parse_rupiah
from coop_app.i18n import format_rupiah
from coop_app.ledger import idempotency
from coop_app.savings.collection import COLUMNS, SheetRow, _month_end
from coop_app.savings.forms import MAX_TRANSACTION
from coop_app.savings.models import SavingsKind


class SheetForm:
    def __init__(self, rows: list[SheetRow], *, month: date, today: date):
        self.rows = rows
        self.on = min(today, _month_end(month)) if month <= today else today
        self.on_text = self.on.strftime("%d/%m/%Y")
        self.form_key = idempotency.new_key()
        #: What was typed (re-shown after a refusal) and the message of each refused box.
        self.typed: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    @staticmethod
    def name(row: SheetRow, kind: SavingsKind) -> str:
        return f"{kind.value}-{row.member.id}"

    def value(self, row: SheetRow, kind: SavingsKind) -> str:
        """The box's text: what was typed, else the suggested mandatory amount."""
        name = self.name(row, kind)
        if name in self.typed:
            return self.typed[name]
        if kind == SavingsKind.MANDATORY and row.suggested:
            return format_rupiah(row.suggested, symbol=False)
        return ""

    def read(self, form) -> dict[int, dict[SavingsKind, int]]:
        """Amounts per member and column; raises DomainError (with every box marked) if any
        box or the date is not right."""
        self.form_key = form.get("form_key", "")
        self.on_text = form.get("on", "")[:20]
        try:
            self.on = parse_day(self.on_text)
        except ValueError as error:
            self.errors["on"] = str(error)
        amounts = {}
        for row in self.rows:
            amounts[row.member.id] = {
                kind: self._amount(form, row, kind) for kind in COLUMNS if kind in row.accounts
            }
        expected = {self.name(row, kind) for row in self.rows for kind in COLUMNS}
        if any(
            name not in expected and form.get(name, "").strip()
            for name in form
            if name.split("-")[0] in {kind.value for kind in COLUMNS}
        ):
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

    def _amount(self, form, row: SheetRow, kind: SavingsKind) -> int:
        name = self.name(row, kind)
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
