"""The treasurer's monthly collection sheet: one village group, one row per member, one submit.

Everything a sheet carries is posted in one transaction: one balanced entry (and so one
receipt) per member who paid, all or nothing. The loans unit adds its columns later.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, Side, Unit
from coop_app.ledger.services import debit, month_start, post_entry
from coop_app.members.models import Member, MemberStatus, VillageGroup
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsKind
from coop_app.savings.queries import arrears_of, balances_as_of
from coop_app.savings.services import SavingsError, check_usable, savings_line

#: The sheet's money columns for savings, in order.
COLUMNS = (SavingsKind.MANDATORY, SavingsKind.VOLUNTARY)


@dataclass
class SheetRow:
    member: Member
    accounts: dict[SavingsKind, SavingsAccount] = field(default_factory=dict)
    #: Suggested mandatory amount: one month's, if the member is behind at the month's end.
    suggested: int = 0
    arrears: int = 0


def sheet_rows(group: VillageGroup, month: date) -> list[SheetRow]:
    """The active members of `group` with their mandatory and voluntary accounts."""
    members = db.session.execute(
        sa.select(Member)
        .where(Member.group_id == group.id, Member.status == MemberStatus.ACTIVE.value)
        .order_by(Member.name, Member.id)
    ).scalars()
    rows = {member.id: SheetRow(member) for member in members}
    accounts = db.session.execute(
        sa.select(SavingsAccount).where(
            SavingsAccount.member_id.in_(rows), SavingsAccount.closed_on.is_(None)
        )
    ).scalars()
    for account in accounts:
        kind = account.product.savings_kind
        if kind in COLUMNS and account.product.automatic:
            rows[account.member_id].accounts[kind] = account
    month_end = _month_end(month)
    mandatory = [
        row.accounts[SavingsKind.MANDATORY]
        for row in rows.values()
        if SavingsKind.MANDATORY in row.accounts
    ]
    paid = balances_as_of([account.id for account in mandatory], month_end)
    for account in mandatory:
        # Including the sheet's own month: as of the first day of the next one.
        arrears = arrears_of(account, paid=paid[account.id], as_of=month_end + timedelta(days=1))
        row = rows[account.member_id]
        row.arrears = arrears.rupiah
        row.suggested = min(arrears.rupiah, account.product.amount or 0)
    return list(rows.values())


def _month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def collect(
    group: VillageGroup,
    *,
    month: date,
    on: date,
    amounts: dict[int, dict[SavingsKind, int]],
    today: date,
    by: User | None,
    key: str,
) -> CollectionBatch:
    """Post a submitted sheet: per member who paid, one entry (cash against their savings).

    `amounts` maps member id -> kind -> rupiah (> 0). Members outside the group or
    without the account are refused; any refusal leaves nothing written (the caller
    rolls back the whole request).
    """
    rows = {row.member.id: row for row in sheet_rows(group, month_start(month))}
    paying = {member_id: kinds for member_id, kinds in amounts.items() if any(kinds.values())}
    if not paying:
        raise SavingsError(_("Nothing to post: fill in at least one amount."))
    batch = CollectionBatch(
        group_id=group.id,
        month=month_start(month),
        collected_on=on,
        created_by_id=by.id if by else None,
    )
    db.session.add(batch)
    db.session.flush()
    for member_id in sorted(paying):
        row = rows.get(member_id)
        if row is None:
            raise SavingsError(
                _("A member on the sheet is no longer active in this group. Reload the sheet.")
            )
        _post_row(
            row, paying[member_id], batch=batch, on=on, today=today, by=by, key=f"{key}:{member_id}"
        )
    audit.note(entity=f"collection_batch:{batch.id}", detail=f"{len(paying)} members")
    return batch


def _post_row(
    row: SheetRow, kinds: dict[SavingsKind, int], *, batch, on, today, by, key
) -> JournalEntry:
    lines = []
    for kind, amount in kinds.items():
        if not amount:
            continue
        account = row.accounts.get(kind)
        if account is None:
            raise SavingsError(
                _("%(member)s has no account for this savings.", member=row.member.name)
            )
        check_usable(account, on, today)
        lines.append(savings_line(account, Side.CREDIT, amount))
    total = sum(line.amount for line in lines)
    return post_entry(
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
