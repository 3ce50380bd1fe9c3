"""posting_ratio: deposits per second through the savings service / the same rows in raw SQL.

Run as a worker process on a seeded bench database (`python -m benchmarks.posting`, with
the app's environment from benchmarks.datasets); prints one JSON object.

Both sides write one deposit per transaction, with its own commit, on the app's engine,
so with the same connection settings (on SQLite the app's pragmas, WAL and
synchronous=FULL, and its BEGIN IMMEDIATE):
- the service: load the savings account (with what the deposit view loads with it),
  `savings.services.deposit(...)`, commit, as the deposit view does (the view's form,
  template and audit row are not part of it);
- raw SQL: what `ledger.services.post_entry` writes for a deposit and nothing else: one
  journal_entry, its two journal_lines, the conditional UPDATE of the savings sub-ledger
  balance, the two account_balance UPDATEs and, where the schema has them (period_total,
  migration 0006), the upsert of the two accounts' day and month totals, in the service's
  order; account ids, member numbers and descriptions are looked up once beforehand (the
  ceiling).
The two sides run in alternating batches, so that drift of a shared machine (and WAL
checkpoints) fall on both alike. Before timing, one deposit of each kind goes to the same
account and their rows are compared, so the baseline provably writes the same rows; and
the harness runs `flask verify-books` afterwards, which fails if the baseline has missed a
derived row (a cached balance or a total) that post_entry has learnt to keep.
"""

import argparse
import json
import time
import uuid

import sqlalchemy as sa

from coop_app import create_app
from coop_app.auth.models import User
from coop_app.db import UTCDateTime, utcnow
from coop_app.extensions import db
from coop_app.i18n import local_today
from coop_app.ledger.models import Account, Unit
from coop_app.members.models import Member, MemberStatus
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct
from coop_app.savings.queries import FOR_MONEY
from coop_app.savings.services import deposit

AMOUNT = 25_000
BATCHES = 3
#: What one deposit writes: an entry, two lines, three balance updates (and four totals).
ROWS_PER_DEPOSIT = 6

INSERT_ENTRY = sa.text(
    "INSERT INTO journal_entry (entry_date, description, unit, source, source_ref,"
    " idempotency_key, created_by_id, created_at)"
    " VALUES (:entry_date, :description, :unit, 'savings.deposit', :source_ref,"
    " :key, :by, :created_at) RETURNING id"
).bindparams(
    sa.bindparam("entry_date", type_=sa.Date()), sa.bindparam("created_at", type_=UTCDateTime())
)
INSERT_LINE = sa.text(
    "INSERT INTO journal_line (entry_id, account_id, unit, side, amount, member_id, subaccount)"
    " VALUES (:entry_id, :account_id, :unit, :side, :amount, :member_id, :subaccount)"
)
MOVE_SAVINGS = sa.text(
    "UPDATE savings_account SET balance = balance + :amount"
    " WHERE id = :id AND closed_on IS NULL AND balance + :amount >= 0"
)
MOVE_ACCOUNT = sa.text(
    "UPDATE account_balance SET balance = balance + :delta WHERE account_id = :account_id"
)
ADD_TOTALS = sa.text(
    "INSERT INTO period_total (account_id, unit, span, starts_on, net) VALUES"
    " (:a1, :unit, 'day', :day, :n1), (:a1, :unit, 'month', :month, :n1),"
    " (:a2, :unit, 'day', :day, :n2), (:a2, :unit, 'month', :month, :n2)"
    " ON CONFLICT (account_id, unit, span, starts_on)"
    " DO UPDATE SET net = period_total.net + excluded.net"
).bindparams(sa.bindparam("day", type_=sa.Date()), sa.bindparam("month", type_=sa.Date()))


def plan(count: int) -> list[dict]:
    """Voluntary savings accounts of active members, with what raw SQL needs to know."""
    rows = db.session.execute(
        sa.select(SavingsAccount.id, Member.id, Member.number, Member.name, SavingsProduct)
        .join(SavingsProduct, SavingsAccount.product_id == SavingsProduct.id)
        .join(Member, SavingsAccount.member_id == Member.id)
        .where(
            SavingsProduct.kind == SavingsKind.VOLUNTARY.value,
            SavingsAccount.closed_on.is_(None),
            Member.status == MemberStatus.ACTIVE.value,
        )
        .order_by(SavingsAccount.id)
        .limit(count)
    ).all()
    if not rows:
        raise RuntimeError("no open voluntary savings account to deposit to")
    return [
        {
            "account_id": account_id,
            "member_id": member_id,
            "source_ref": number,
            "product_account_id": product.account_id,
            "description": f"Setoran ke {product.name}, {name}"[:255],
        }
        for account_id, member_id, number, name, product in rows
    ]


def by_service(target: dict, *, key: str, user: User) -> None:
    today = local_today()
    account = db.session.get(SavingsAccount, target["account_id"], options=FOR_MONEY)
    deposit(account, amount=AMOUNT, on=today, today=today, by=user, key=key)
    db.session.commit()


def by_raw_sql(target: dict, *, key: str, user_id: int, cash_id: int, totals: bool) -> None:
    with db.engine.begin() as connection:
        entry_id = connection.execute(
            INSERT_ENTRY,
            {
                "entry_date": local_today(),
                "description": target["description"],
                "unit": Unit.SAVINGS_LOANS.value,
                "source_ref": target["source_ref"],
                "key": key,
                "by": user_id,
                "created_at": utcnow(),
            },
        ).scalar_one()
        line = {"entry_id": entry_id, "unit": Unit.SAVINGS_LOANS.value, "amount": AMOUNT}
        connection.execute(
            INSERT_LINE,
            [
                line | {"account_id": cash_id, "side": "D", "member_id": None, "subaccount": None},
                line
                | {
                    "account_id": target["product_account_id"],
                    "side": "C",
                    "member_id": target["member_id"],
                    "subaccount": f"savings:{target['account_id']}",
                },
            ],
        )
        moved = connection.execute(MOVE_SAVINGS, {"amount": AMOUNT, "id": target["account_id"]})
        if moved.rowcount != 1:
            raise RuntimeError(f"savings account {target['account_id']} did not move")
        deltas = {cash_id: AMOUNT, target["product_account_id"]: -AMOUNT}
        ordered = sorted(deltas)
        for account_id in ordered:
            connection.execute(
                MOVE_ACCOUNT, {"delta": deltas[account_id], "account_id": account_id}
            )
        if totals:
            day = local_today()
            connection.execute(
                ADD_TOTALS,
                {
                    "unit": Unit.SAVINGS_LOANS.value,
                    "day": day,
                    "month": day.replace(day=1),
                    "a1": ordered[0],
                    "n1": deltas[ordered[0]],
                    "a2": ordered[1],
                    "n2": deltas[ordered[1]],
                },
            )


def _rows_of(key: str) -> tuple:
    """An entry's columns and lines, without ids and times (to compare the two sides)."""
    entry = db.session.execute(
        sa.text(
            "SELECT id, entry_date, unit, source, source_ref, created_by_id, reverses_id"
            " FROM journal_entry WHERE idempotency_key = :key"
        ),
        {"key": key},
    ).one()
    lines = db.session.execute(
        sa.text(
            "SELECT account_id, unit, side, amount, member_id, subaccount FROM journal_line"
            " WHERE entry_id = :id ORDER BY side, account_id"
        ),
        {"id": entry[0]},
    ).all()
    return tuple(entry[1:]), tuple(tuple(line) for line in lines)


def _count() -> tuple[int, int]:
    return (
        db.session.execute(sa.text("SELECT count(*) FROM journal_entry")).scalar_one(),
        db.session.execute(sa.text("SELECT count(*) FROM journal_line")).scalar_one(),
    )


def measure(deposits: int) -> dict:
    targets = plan(deposits)
    user = db.session.execute(sa.select(User).where(User.username == "bendahara")).scalar_one()
    user_id = user.id
    cash_id = db.session.execute(sa.select(Account.id).where(Account.purpose == "cash")).scalar()
    db.session.commit()  # on SQLite the session's transaction holds the write lock
    totals = sa.inspect(db.engine).has_table("period_total")
    raw = {"user_id": user_id, "cash_id": cash_id, "totals": totals}
    run = uuid.uuid4().hex[:10]
    entries_before, lines_before = _count()

    # The same account by both ways: the rows must be the same.
    by_service(targets[0], key=f"bench:{run}:service:check", user=user)
    by_raw_sql(targets[0], key=f"bench:{run}:raw:check", **raw)
    service_rows, raw_rows = (
        _rows_of(f"bench:{run}:service:check"),
        _rows_of(f"bench:{run}:raw:check"),
    )
    db.session.commit()
    if service_rows != raw_rows:
        raise RuntimeError(
            f"raw SQL wrote other rows than the service:\n{service_rows}\n{raw_rows}"
        )

    timed = {"service": 0.0, "raw": 0.0}
    for batch in range(BATCHES):
        chosen = range(batch, deposits, BATCHES)
        started = time.perf_counter()
        for index in chosen:
            target = targets[index % len(targets)]
            by_service(target, key=f"bench:{run}:service:{index}", user=user)
        timed["service"] += time.perf_counter() - started
        started = time.perf_counter()
        for index in chosen:
            target = targets[index % len(targets)]
            by_raw_sql(target, key=f"bench:{run}:raw:{index}", **raw)
        timed["raw"] += time.perf_counter() - started

    entries_after, lines_after = _count()
    written = 2 * (deposits + 1)
    if (entries_after - entries_before, lines_after - lines_before) != (written, 2 * written):
        raise RuntimeError("the posting runs did not write the rows they should have")
    service_rate, raw_rate = deposits / timed["service"], deposits / timed["raw"]
    return {
        "deposits": deposits,
        "accounts": len(targets),
        "rows_per_deposit": ROWS_PER_DEPOSIT + (4 if totals else 0),
        "period_totals": totals,
        "service_seconds": timed["service"],
        "raw_seconds": timed["raw"],
        "service_deposits_per_s": service_rate,
        "raw_deposits_per_s": raw_rate,
        "posting_ratio": service_rate / raw_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deposits", type=int, default=300)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = measure(args.deposits)
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
