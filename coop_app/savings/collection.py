"""The treasurer's monthly collection sheet: one village group, one row per member, one submit.

Everything a sheet carries is posted in one transaction: one balanced entry (and so one
receipt) per member who paid, all or nothing. Savings are the sheet's own columns; other
features add theirs through `register_part` (the loans unit adds installment and penalty),
so that savings never imports them.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import Line, debit, month_start, post_entry
from coop_app.members.models import Member, VillageGroup
from coop_app.savings.collection_queries import active_members, balances_on
from coop_app.savings.errors import SavingsError
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind
from coop_app.savings.queries import arrears_of, bylaws_accounts
from coop_app.savings.services import check_usable, savings_line

#: The sheet's money columns for savings, in order.
COLUMNS = (SavingsKind.MANDATORY, SavingsKind.VOLUNTARY)


# --- what other features add to the sheet --------------------------------------------------


@dataclass(frozen=True)
class SheetColumn:
    """A money column of a part; its boxes are named `<key>-<member id>-<item ref>`."""

    key: str
    label: str


@dataclass(frozen=True)
class SheetItem:
    """Something of one member's that a part's boxes pay, e.g. one running loan."""

    ref: int
    title: str
    #: The record's version as the sheet shows it; the sheet sends it back with the boxes.
    version: int
    #: Column key -> the amount suggested (what is due); the box starts with it.
    suggested: Mapping[str, int]
    note: str = ""
    warning: str = ""


@dataclass(frozen=True)
class Settlement:
    """What a part makes of a member's boxes: credit lines for the member's one entry, and
    what to do once the entry is posted (e.g. close a loan that is paid up)."""

    lines: list[Line]
    after: Callable[[JournalEntry], None] = lambda entry: None


@dataclass(frozen=True)
class ReceiptPart:
    """A part's block on a member's receipt: its lines and a balance after the payment."""

    title: str
    lines: list[tuple[str, int]]
    #: (label, amount), e.g. the principal still owed.
    balance: tuple[str, int] | None = None


@dataclass(frozen=True)
class SheetPart:
    """What a feature adds to the sheet.

    - items(member ids, *, month, as_of) -> {member id: [SheetItem]}: who has something,
      with what is suggested for `month` as of the sheet's date `as_of`;
    - settle(ref, {column key: amount}, *, on, today, expected_version) -> Settlement, or a
      DomainError; it may claim its record (a conditional version update) but posts nothing;
    - receipt(entry) -> [ReceiptPart]: the part's lines of a posted entry;
    - gone: what to say when a box's item has gone since the sheet was opened.
    """

    name: str
    columns: tuple[SheetColumn, ...]
    items: Callable[..., dict[int, list[SheetItem]]]
    settle: Callable[..., Settlement]
    receipt: Callable[[JournalEntry], list[ReceiptPart]]
    gone: str


#: The registered parts, in the order their columns appear.
PARTS: dict[str, SheetPart] = {}


def register_part(part: SheetPart) -> None:
    taken = {kind.value for kind in SavingsKind} | {
        column.key
        for other in PARTS.values()
        if other.name != part.name
        for column in other.columns
    }
    keys = {column.key for column in part.columns}
    if keys & taken or any("-" in name or not name for name in {part.name, *keys}):
        raise ValueError(f"sheet part {part.name}: a column key is taken or has a dash")
    PARTS[part.name] = part


class Box(NamedTuple):
    """The key of a part's amount in `collect`'s amounts: a column and the item's ref."""

    column: str
    ref: int


def box_name(column: str, member_id: int, ref: int | None = None) -> str:
    return f"{column}-{member_id}" if ref is None else f"{column}-{member_id}-{ref}"


class CollectionError(SavingsError):
    """The sheet was refused because of one box, named so that the form can mark it."""

    def __init__(self, message: str, *, box: str | None = None):
        super().__init__(message)
        self.box = box


# --- the sheet ------------------------------------------------------------------------------


@dataclass
class SheetRow:
    member: Member
    accounts: dict[SavingsKind, SavingsAccount] = field(default_factory=dict)
    #: Suggested mandatory amount: one month's, if the member is behind at the month's end.
    suggested: int = 0
    arrears: int = 0
    #: Part name -> the member's items in it (e.g. "loans" -> one per running loan).
    items: dict[str, list[SheetItem]] = field(default_factory=dict)


def month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def sheet_day(month: date, today: date) -> date:
    """The date a sheet starts with: the month's last day, or today if that is earlier."""
    return min(today, month_end(month)) if month <= today else today


def sheet_rows(group: VillageGroup, month: date, *, as_of: date | None = None) -> list[SheetRow]:
    """The active members of `group` with their mandatory and voluntary accounts, and the
    parts' items as of `as_of` (the sheet's date; the month's end if not given).

    One query per kind of data for the whole group (see `collection_queries`), and none
    that reads the members' history when the month is the current one."""
    rows = {member.id: SheetRow(member) for member in active_members(group.id)}
    for account in bylaws_accounts(list(rows), COLUMNS):
        rows[account.member_id].accounts[account.product.savings_kind] = account
    last = month_end(month)
    mandatory = [
        row.accounts[SavingsKind.MANDATORY]
        for row in rows.values()
        if SavingsKind.MANDATORY in row.accounts
    ]
    paid = balances_on(mandatory, last)
    for account in mandatory:
        # Including the sheet's own month: as of the first day of the next one.
        arrears = arrears_of(account, paid=paid[account.id], as_of=last + timedelta(days=1))
        row = rows[account.member_id]
        row.arrears = arrears.rupiah
        row.suggested = min(arrears.rupiah, account.product.amount or 0)
    for part in PARTS.values():
        found = part.items(list(rows), month=month_start(month), as_of=as_of or last)
        for member_id, items in found.items():
            rows[member_id].items[part.name] = items
    return list(rows.values())


def collect(
    group: VillageGroup,
    *,
    month: date,
    on: date,
    amounts: dict[int, dict[SavingsKind | Box, int]],
    today: date,
    by: User | None,
    key: str,
    versions: Mapping[tuple[str, int], int] | None = None,
) -> CollectionBatch:
    """Post a submitted sheet: per member who paid, one entry (cash against their savings
    and the parts' lines, e.g. a loan's penalty, interest and principal).

    `amounts` maps member id -> savings kind or Box -> rupiah. `versions` maps (part name,
    item ref) to the version the sheet showed: a record changed since is refused (without
    it, the record is taken as it stands now). Members outside the group, savings without
    the account and any part's refusal refuse the sheet; the caller rolls back the whole
    request, so nothing is written.
    """
    rows = {row.member.id: row for row in sheet_rows(group, month_start(month), as_of=on)}
    paying = {member_id: boxes for member_id, boxes in amounts.items() if any(boxes.values())}
    if not paying:
        raise SavingsError(_("Nothing to post: fill in at least one amount."))
    if any(member_id not in rows for member_id in paying):
        raise SavingsError(
            _("A member on the sheet is no longer active in this group. Reload the sheet.")
        )
    batch = CollectionBatch(
        group_id=group.id,
        month=month_start(month),
        collected_on=on,
        created_by_id=by.id if by else None,
    )
    db.session.add(batch)
    db.session.flush()
    settled = _settle_parts(rows, paying, on=on, today=today, versions=versions or {})
    for member_id in sorted(paying):
        _post_row(
            rows[member_id],
            paying[member_id],
            settled[member_id],
            batch=batch,
            on=on,
            today=today,
            by=by,
            key=f"{key}:{member_id}",
        )
    audit.note(entity=f"collection_batch:{batch.id}", detail=f"{len(paying)} members")
    return batch


def _settle_parts(rows, paying, *, on, today, versions) -> dict[int, list[Settlement]]:
    """Let each part settle the items paid on the sheet, by ref, before anything is posted.

    Records are thus claimed in one order, and before the balances that every posting
    touches, as their own screens do (a loan, then the books): two sheets, or a sheet and
    a loan's own repayment, wait for each other instead of deadlocking."""
    _check_boxes(paying)
    settled: dict[int, list[Settlement]] = defaultdict(list)
    for part in PARTS.values():
        claims = _claims(part, rows, paying)
        for ref in sorted(claims):
            member_id, item, name, by_column = claims[ref]
            version = versions.get((part.name, ref), item.version)
            try:
                settlement = part.settle(
                    ref, by_column, on=on, today=today, expected_version=version
                )
            except DomainError as error:
                raise CollectionError(error.message, box=name) from error
            settled[member_id].append(settlement)
    return settled


def _check_boxes(paying) -> None:
    known = {column.key for part in PARTS.values() for column in part.columns}
    for member_id, boxes in paying.items():
        for box, amount in boxes.items():
            if not isinstance(box, Box):
                continue
            name = box_name(box.column, member_id, box.ref)
            if box.column not in known:
                raise CollectionError(_("This box is not on the sheet."), box=name)
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise CollectionError(_("Amounts must be whole rupiah."), box=name)
            if amount < 0:
                raise CollectionError(_("Every amount must be more than zero."), box=name)


def _claims(part: SheetPart, rows, paying) -> dict[int, tuple]:
    """Item ref -> (member id, item, the name of its first box, {column key: amount})."""
    keys = {column.key for column in part.columns}
    claims: dict[int, tuple] = {}
    for member_id, boxes in paying.items():
        items = {item.ref: item for item in rows[member_id].items.get(part.name, ())}
        for box, amount in boxes.items():
            if not (isinstance(box, Box) and box.column in keys and amount):
                continue
            name = box_name(box.column, member_id, box.ref)
            if box.ref not in items:
                raise CollectionError(str(part.gone), box=name)
            claim = claims.setdefault(box.ref, (member_id, items[box.ref], name, {}))
            claim[3][box.column] = amount
    return claims


def _post_row(
    row: SheetRow, boxes: dict, settlements: list[Settlement], *, batch, on, today, by, key
) -> JournalEntry:
    lines = []
    for kind, amount in boxes.items():
        if isinstance(kind, Box) or not amount:
            continue
        account = row.accounts.get(kind)
        if account is None:
            raise CollectionError(
                _("%(member)s has no account for this savings.", member=row.member.name),
                box=box_name(SavingsKind(kind).value, row.member.id),
            )
        check_usable(account, on, today)
        lines.append(savings_line(account, Side.CREDIT, amount))
    for settlement in settlements:
        lines.extend(settlement.lines)
    total = sum(line.amount if line.side == Side.CREDIT else -line.amount for line in lines)
    entry = post_entry(
        on=on,
        description=_(
            "Collection %(group)s, %(member)s", group=batch.group.name, member=row.member.name
        ),
        unit=Unit.SAVINGS_LOANS,
        lines=[debit("cash", total, member_id=row.member.id), *lines],
        source="savings.collection",
        source_ref=f"collection:{batch.id}",
        key=key,
        by=by,
    )
    for settlement in settlements:
        settlement.after(entry)
    return entry


def batch_entries(batch: CollectionBatch) -> list[JournalEntry]:
    return list(
        db.session.execute(
            sa.select(JournalEntry)
            .where(
                JournalEntry.source_ref == f"collection:{batch.id}",
                JournalEntry.reverses_id.is_(None),
            )
            .order_by(JournalEntry.id)
        ).scalars()
    )


def receipt_parts(entry: JournalEntry) -> list[ReceiptPart]:
    """The parts' blocks of a member's receipt (none for a plain savings movement)."""
    return [block for part in PARTS.values() for block in part.receipt(entry)]
