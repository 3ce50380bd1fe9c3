"""A district-scale demo (`flask seed-demo --members N --years Y`): valid, and books that hold.

One small district is seeded per database and read by one test (seeding is most of the
time); the expectations are computed from the rows themselves and the bylaws' amounts,
not from the code that seeds them.
"""

import re
import shutil
from collections import Counter, defaultdict
from datetime import date

import pytest
import sqlalchemy as sa

from coop_app.extensions import db
from coop_app.ledger.models import JournalEntry, JournalLine
from coop_app.loans.models import Loan, LoanEvent, LoanInstallment
from coop_app.loans.queries import positions_of
from coop_app.members.models import Member, MemberStatusChange
from coop_app.savings.models import SavingsAccount, SavingsProduct
from tests.helpers import only_sqlite, planner_statistics

MEMBERS, YEARS = 300, 2
TODAY = date(2026, 11, 1)
FIRST_DAY = date(2024, 11, 1)
#: The bylaws' amounts (the savings products the migration inserts).
PRINCIPAL, MONTHLY = 100_000, 20_000
#: Loans still counting against "one open loan at a time".
OPEN = ("applied", "approved", "active")


def _seed(app, *args: str):
    return app.test_cli_runner().invoke(args=["seed-demo", *args])


def _all(statement) -> list:
    return db.session.execute(statement).all()


def test_a_district_is_seeded_and_its_books_verify(app):
    result = _seed(app, "--members", str(MEMBERS), "--years", str(YEARS))
    assert result.exit_code == 0, result.output
    assert f"district of {MEMBERS} members over {YEARS} years" in result.output
    verified = app.test_cli_runner().invoke(args=["verify-books"])
    assert verified.exit_code == 0, verified.output
    _check_planner_statistics(app)
    with app.app_context():
        _check_members()
        _check_savings()
        _check_loans()
        _check_history()


def _check_planner_statistics(app) -> None:
    """PostgreSQL has analyzed the journal once it is loaded (its plans need the figures)."""
    assert planner_statistics(app, "journal_line") in (None, len(JournalLine.__table__.c))


def _check_members() -> None:
    members = db.session.execute(sa.select(Member)).scalars().all()
    assert len(members) == MEMBERS
    niks = [m.nik for m in members]
    assert len(set(niks)) == MEMBERS and all(re.fullmatch(r"3307\d{12}", n) for n in niks)
    assert len({m.number for m in members}) == MEMBERS
    statuses = Counter(m.status for m in members)
    assert statuses["active"] > 0.75 * MEMBERS and statuses["candidate"] >= 1
    for member in members:
        assert FIRST_DAY <= member.join_date < TODAY and member.status_date < TODAY
        assert member.group.village_id == member.village_id
        assert member.phone is None or re.fullmatch(r"08\d{10}", member.phone)
    steps = defaultdict(list)
    for change in db.session.execute(
        sa.select(MemberStatusChange).order_by(MemberStatusChange.id)
    ).scalars():
        steps[change.member_id].append(change)
    for member in members:
        path = [(c.from_status, c.to_status) for c in steps[member.id]]
        assert path[0] == (None, "candidate") and path[-1][1] == member.status
        assert steps[member.id][-1].effective_on == member.status_date
        assert member.version == len(path) + (member.user_id is not None)
    own = db.session.execute(sa.select(Member).where(Member.user_id.is_not(None))).scalar_one()
    assert own.name == "Tuti Handayani" and own.user.username == "anggota"


def _months_to_october(day: date) -> int:
    """Months from `day`'s month through October 2026, both counted."""
    return (2026 - day.year) * 12 + 10 - day.month + 1


def _check_savings() -> None:
    """Principal paid in full; mandatory savings every month since joining (those behind are
    a minority, none ahead); leavers paid out; candidates without accounts."""
    lines = dict(
        _all(
            sa.select(
                JournalLine.subaccount,
                sa.func.sum(
                    sa.case(
                        (JournalLine.side == "C", JournalLine.amount), else_=-JournalLine.amount
                    )
                ),
            )
            .where(JournalLine.subaccount.like("savings:%"))
            .group_by(JournalLine.subaccount)
        )
    )
    rows = _all(
        sa.select(Member, SavingsAccount, SavingsProduct.code)
        .join(SavingsAccount, SavingsAccount.member_id == Member.id)
        .join(SavingsProduct, SavingsProduct.id == SavingsAccount.product_id)
    )
    accounts = defaultdict(dict)
    for member, account, code in rows:
        assert account.balance == lines.get(account.subaccount, 0) >= 0
        accounts[member.id][code] = (member, account)
    members = db.session.execute(sa.select(Member)).scalars().all()
    behind = 0
    for member in members:
        own = accounts.get(member.id, {})
        if member.status == "candidate":
            assert not own
            continue
        assert set(own) == {"SP", "SW", "SS"}
        if member.status != "active":
            assert all(a.balance == 0 and a.closed_on for _m, a in own.values())
            continue
        assert own["SP"][1].balance == PRINCIPAL
        mandatory, due = own["SW"][1].balance, _months_to_october(member.join_date) * MONTHLY
        assert mandatory % MONTHLY == 0 and 0 < mandatory <= due
        behind += mandatory < due
    active = sum(m.status == "active" for m in members)
    assert 0.05 * active <= behind <= 0.35 * active


def _check_loans() -> None:
    """A third of the active members borrow; positions rebuilt from the journal equal the
    cached principal; one open loan at a time; maker-checker; every loan has its schedule."""
    loans = db.session.execute(sa.select(Loan).order_by(Loan.id)).scalars().all()
    statuses = Counter(loan.status for loan in loans)
    assert statuses["active"] >= 10 and statuses["closed"] >= 10 and statuses["rejected"] >= 1
    active = db.session.execute(
        sa.select(sa.func.count(Member.id)).where(Member.status == "active")
    ).scalar()
    borrowers = {loan.member_id for loan in loans}
    assert 0.25 * active <= len(borrowers) <= 0.45 * active
    positions = positions_of(sa.select(Loan.id).where(Loan.status == "active"), TODAY)
    open_per_member = Counter(loan.member_id for loan in loans if loan.status in OPEN)
    assert max(open_per_member.values()) == 1
    scheduled = dict(
        _all(sa.select(LoanInstallment.loan_id, sa.func.sum(LoanInstallment.principal)).group_by(
            LoanInstallment.loan_id
        ))
    )  # fmt: skip
    for loan in loans:
        assert loan.member.status == "active" and loan.decided_by_id != loan.recorded_by_id
        assert loan.applied_on >= FIRST_DAY and (loan.closed_on or loan.applied_on) < TODAY
        if loan.status == "active":
            assert loan.outstanding == positions[loan.id].outstanding_principal > 0
        else:
            assert loan.outstanding == 0
        if loan.disbursed_on:
            assert scheduled[loan.id] == loan.principal
    late = [p for p in positions.values() if p.days_past_due > 0]
    assert 0 < len(late) < len(positions) / 2, "most borrowers are current, some are not"
    events = dict(_all(sa.select(LoanEvent.kind, sa.func.count()).group_by(LoanEvent.kind)))
    assert events["disbursed"] == sum(1 for loan in loans if loan.disbursed_on)


def _check_history() -> None:
    """The history spans the years asked for, month after month, and the keys are unique."""
    first, last = db.session.execute(
        sa.select(sa.func.min(JournalEntry.entry_date), sa.func.max(JournalEntry.entry_date))
    ).one()
    assert FIRST_DAY <= first < date(2025, 1, 1) and last <= TODAY
    months = {(d.year, d.month) for (d,) in _all(sa.select(JournalEntry.entry_date).distinct())}
    assert len(months) >= 12 * YEARS - 1
    sources = Counter(dict(_all(sa.select(JournalEntry.source, sa.func.count()).group_by(
        JournalEntry.source
    ))))  # fmt: skip
    assert sources["savings.collection"] > 10 * sources["loans.disbursement"] > 0
    assert sources["loans.repayment"] > 2 * sources["loans.disbursement"]


@only_sqlite
def test_the_same_seed_gives_the_same_district(app, make_app, sqlite_template, tmp_path):
    """Deterministic from --seed and the demo's today, not from the clock."""
    path = tmp_path / "again.db"
    shutil.copy(sqlite_template, path)
    again = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    args = ("--members", "40", "--years", "1", "--seed", "3")
    first = _district(app, *args)
    assert first == _district(again, *args)
    assert len(first["members"]) == 40 and first["lines"]


def _district(app, *args: str) -> dict:
    result = _seed(app, *args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        return {
            "members": _all(sa.select(Member.number, Member.nik, Member.name).order_by(Member.id)),
            "entries": _all(
                sa.select(
                    JournalEntry.id, JournalEntry.entry_date, JournalEntry.idempotency_key
                ).order_by(JournalEntry.id)
            ),
            "lines": _all(
                sa.select(
                    JournalLine.entry_id, JournalLine.amount, JournalLine.subaccount
                ).order_by(JournalLine.id)
            ),
        }


@only_sqlite
def test_a_district_of_one_member_seeds_too(app):
    result = _seed(app, "--members", "1", "--years", "1")
    assert result.exit_code == 0, result.output
    assert "district of 1 member over 1 year (seed 1)" in result.output
    assert app.test_cli_runner().invoke(args=["verify-books"]).exit_code == 0
    with app.app_context():
        (member,) = db.session.execute(sa.select(Member)).scalars().all()
        assert member.name == "Tuti Handayani" and member.status == "active"


@only_sqlite
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--members", "0"], "the number of members must be at least 1 (got 0)"),
        (["--members", "-5", "--years", "3"], "the number of members must be at least 1"),
        (["--years", "0"], "the history is 1 to 10 years long (got 0)"),
        (["--members", "50", "--years", "11"], "the history is 1 to 10 years long (got 11)"),
    ],
)
def test_sizes_out_of_range_are_refused_with_a_clear_message(app, args, message):
    result = _seed(app, *args)
    assert result.exit_code == 2 and message in result.output
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Member.id))).scalar() == 0
