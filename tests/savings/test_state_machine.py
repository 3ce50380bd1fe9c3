"""Property-based run over the real services (deposit, withdraw, lend, reverse, exit): after
every step the books balance, cached balances equal their lines, savings are never negative,
and a simple model of what each step should do agrees with the database."""

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.forms import MAX_RUPIAH
from coop_app.ledger.models import AccountBalance, JournalEntry, JournalLine, Unit
from coop_app.ledger.reversals import reverse_entry
from coop_app.ledger.services import credit, debit, post_entry
from coop_app.members.models import Member, MemberStatus
from coop_app.members.services import change_status, register_member
from coop_app.savings import services
from coop_app.savings.models import SavingsAccount, SavingsKind
from tests.books import account_balance
from tests.members.conftest import member_data
from tests.savings.conftest import JOINED, TODAY, account_of

MEMBERS = 3
PRINCIPAL_TOTAL = 100_000  # the bylaws' principal savings (DOMAIN.md, default products)
KINDS = (SavingsKind.PRINCIPAL, SavingsKind.MANDATORY, SavingsKind.VOLUNTARY)
#: Amounts the services must refuse: nothing, negative, absurd, not whole rupiah.
BAD_AMOUNTS = (0, -5_000, 10**15, 1.5, Decimal("20000"))
#: Mostly amounts a treasurer types, sometimes one of the bad ones.
AMOUNTS = st.tuples(st.integers(0, 11), st.integers(1, 100_000)).map(
    lambda pair: BAD_AMOUNTS[pair[0] - 7] if pair[0] >= 7 else pair[1]
)
#: Voluntary savings are where most of the movement is.
DEPOSIT_KINDS = st.sampled_from([*KINDS, SavingsKind.VOLUNTARY])
#: Withdrawals are tried mostly where they are allowed (voluntary savings).
WITHDRAW_KINDS = st.sampled_from(
    [SavingsKind.VOLUNTARY] * 3 + [SavingsKind.PRINCIPAL, SavingsKind.MANDATORY]
)
_numbers = itertools.count(1)


def fresh(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def valid(amount) -> bool:
    return type(amount) is int and 0 < amount <= MAX_RUPIAH


@dataclass
class Posted:
    """An entry the model knows, with what it moved (savings credit-positive, cash and
    loans receivable debit-positive)."""

    entry_id: int
    savings: dict[int, int] = field(default_factory=dict)
    cash: int = 0
    loans: int = 0
    #: The member a loan was made to (a loan's reversal cancels that debt).
    borrower: int | None = None
    is_reversal: bool = False
    reversed: bool = False


class SavingsMachine(RuleBasedStateMachine):
    """Each example gets members of its own; the database carries on between examples,
    so the global invariants hold over everything posted so far."""

    #: Set by the test: the village group and the treasurer who records exits.
    group = None
    treasurer = None
    #: The running machine, for the exit-offset provider registered by the test.
    current = None

    def __init__(self):
        super().__init__()
        SavingsMachine.current = self
        self.members: list[Member] = []
        for index in range(MEMBERS):
            data = member_data(
                self.group.village_id,
                nik=f"3309{next(_numbers):012d}",
                name=f"Anggota {'ABC'[index]}",
                group_id=self.group.id,
                join_date=JOINED,
            )
            self.members.append(
                register_member(data, today=TODAY, by=None, status=MemberStatus.ACTIVE)
            )
        db.session.commit()
        self.accounts = {
            (index, kind): account_of(member, kind).id
            for index, member in enumerate(self.members)
            for kind in KINDS
        }
        self.expected = dict.fromkeys(self.accounts.values(), 0)
        self.closed: set[int] = set()
        self.exited: set[int] = set()
        self.debt = dict.fromkeys(range(MEMBERS), 0)
        self.cash_start, self.cash = account_balance("cash"), 0
        self.loans_start, self.loans = account_balance("loans_receivable"), 0
        self.posted: list[Posted] = []

    @initialize(voluntary=st.lists(st.integers(0, 200_000), min_size=MEMBERS, max_size=MEMBERS))
    def opening_balances(self, voluntary):
        """Every member starts with their principal, two months of mandatory savings and
        some voluntary savings, so that each example begins with money to move."""
        for member, extra in enumerate(voluntary):
            for kind, amount in (
                (SavingsKind.PRINCIPAL, PRINCIPAL_TOTAL),
                (SavingsKind.MANDATORY, 40_000),
                (SavingsKind.VOLUNTARY, extra),
            ):
                if amount:
                    self.deposit(member, kind, amount)

    # --- doing a step the way a view does: commit, or roll back on a refusal --------------

    def attempt(self, action, *, refused: bool):
        """Run `action`; the model says whether it must be refused. A refusal must leave
        nothing written even before the rollback (the invariants are checked first)."""
        try:
            result = action()
        except DomainError:
            assert refused, "refused although the model allows it"
            self.check_model()
            db.session.rollback()
            return None
        assert not refused, "allowed although the model refuses it"
        db.session.commit()
        return result

    def account(self, member: int, kind: SavingsKind) -> SavingsAccount:
        return db.session.get(SavingsAccount, self.accounts[(member, kind)])

    def usable(self, member: int) -> bool:
        return member not in self.exited

    # --- rules ------------------------------------------------------------------------------

    @rule(member=st.integers(0, MEMBERS - 1), kind=DEPOSIT_KINDS, amount=AMOUNTS)
    def deposit(self, member, kind, amount):
        account_id = self.accounts[(member, kind)]
        over_principal = (
            kind == SavingsKind.PRINCIPAL and self.expected[account_id] + amount > PRINCIPAL_TOTAL
        )
        refused = not (self.usable(member) and valid(amount)) or over_principal
        entry = self.attempt(
            lambda: services.deposit(
                self.account(member, kind),
                amount=amount,
                on=TODAY,
                today=TODAY,
                by=None,
                key=fresh("deposit"),
            ),
            refused=refused,
        )
        if entry is not None:
            self.expected[account_id] += amount
            self.cash += amount
            self.posted.append(Posted(entry.id, {account_id: amount}, cash=amount))

    @rule(
        member=st.integers(0, MEMBERS - 1),
        kind=WITHDRAW_KINDS,
        percent=st.integers(1, 130),
        bad=st.integers(0, 11),
    )
    def withdraw(self, member, kind, percent, bad):
        """Withdraw a share of the balance (over 100%: more than there is) or a bad amount,
        mostly from a member who has something to withdraw."""
        savers = [m for m in range(MEMBERS) if self.expected[self.accounts[(m, kind)]] > 0]
        if savers:
            member = savers[member % len(savers)]
        account_id = self.accounts[(member, kind)]
        if bad >= 7:
            amount = BAD_AMOUNTS[bad - 7]
        else:
            amount = max(1, self.expected[account_id] * percent // 100)
        refused = (
            not self.usable(member)
            or kind != SavingsKind.VOLUNTARY
            or not valid(amount)
            or amount > self.expected[account_id]
        )
        entry = self.attempt(
            lambda: services.withdraw(
                self.account(member, kind),
                amount=amount,
                on=TODAY,
                today=TODAY,
                by=None,
                key=fresh("withdrawal"),
            ),
            refused=refused,
        )
        if entry is not None:
            self.expected[account_id] -= amount
            self.cash -= amount
            self.posted.append(Posted(entry.id, {account_id: -amount}, cash=-amount))

    @rule(member=st.integers(0, MEMBERS - 1), amount=st.integers(1, 300_000))
    def lend(self, member, amount):
        """A loan paid out in cash (a stand-in for the loans unit): a debt offset at exit."""
        entry = self.attempt(
            lambda: post_entry(
                on=TODAY,
                description="Pinjaman",
                unit=Unit.SAVINGS_LOANS,
                lines=[
                    debit("loans_receivable", amount, member_id=self.members[member].id),
                    credit("cash", amount),
                ],
                source="test.loan",
                key=fresh("loan"),
                by=None,
            ),
            refused=False,
        )
        self.debt[member] += amount
        self.cash -= amount
        self.loans += amount
        self.posted.append(Posted(entry.id, cash=-amount, loans=amount, borrower=member))

    @rule(pick=st.integers(0, 10_000))
    def reverse(self, pick):
        if not self.posted:
            return
        posted = self.posted[-1 - pick % len(self.posted)]  # small picks: recent entries
        refused = (
            posted.is_reversal
            or posted.reversed
            or any(account_id in self.closed for account_id in posted.savings)
            or any(self.expected[a] - delta < 0 for a, delta in posted.savings.items())
        )
        entry = self.attempt(
            lambda: reverse_entry(
                db.session.get(JournalEntry, posted.entry_id),
                on=TODAY,
                reason="Koreksi salah catat",
                by=None,
            ),
            refused=refused,
        )
        if entry is None:
            return
        posted.reversed = True
        for account_id, delta in posted.savings.items():
            self.expected[account_id] -= delta
        self.cash -= posted.cash
        self.loans -= posted.loans
        if posted.borrower is not None:
            self.debt[posted.borrower] -= posted.loans
        self.posted.append(
            Posted(
                entry.id,
                {a: -delta for a, delta in posted.savings.items()},
                cash=-posted.cash,
                loans=-posted.loans,
                is_reversal=True,
            )
        )

    @precondition(lambda self: len(self.exited) < MEMBERS - 1)
    @rule(pick=st.integers(0, 99))
    def leave(self, pick):
        """A member resigns and is paid their savings minus their debt; now and then a
        member who has left already is settled again (refused). One member always stays."""
        if pick < 10 and self.exited:
            member = sorted(self.exited)[pick % len(self.exited)]
        else:
            staying = [index for index in range(MEMBERS) if index not in self.exited]
            member = staying[pick % len(staying)]
        record = self.members[member]
        if member not in self.exited:
            change_status(
                record,
                to=MemberStatus.RESIGNED,
                on=TODAY,
                reason="Mengundurkan diri",
                today=TODAY,
                by=self.treasurer,
                expected_version=record.version,
            )
        entry = self.attempt(
            lambda: services.settle_exit(
                record, on=TODAY, today=TODAY, by=self.treasurer, key=fresh("exit")
            ),
            refused=member in self.exited,  # a second settlement
        )
        if member in self.exited:
            return
        mine = [self.accounts[(member, kind)] for kind in KINDS]
        saved = sum(self.expected[account_id] for account_id in mine)
        taken = min(saved, max(self.debt[member], 0))
        paid_out = saved - taken
        if entry is not None:
            self.posted.append(
                Posted(
                    entry.id,
                    {a: -self.expected[a] for a in mine if self.expected[a]},
                    cash=-paid_out,
                    loans=-taken,
                )
            )
        else:  # nothing saved and nothing to offset: no entry, only the accounts close
            assert saved == 0
        self.cash -= paid_out
        self.loans -= taken
        self.debt[member] -= taken
        for account_id in mine:
            self.expected[account_id] = 0
        self.closed.update(mine)
        self.exited.add(member)

    # --- what must hold after every step ----------------------------------------------------

    @invariant()
    def every_entry_balances(self):
        signed = sa.case((JournalLine.side == "D", JournalLine.amount), else_=-JournalLine.amount)
        unbalanced = db.session.execute(
            sa.select(JournalLine.entry_id)
            .group_by(JournalLine.entry_id)
            .having(sa.or_(sa.func.sum(signed) != 0, sa.func.count() < 2))
        ).all()
        assert unbalanced == []
        lineless = db.session.execute(
            sa.select(JournalEntry.id).where(
                ~sa.exists().where(JournalLine.entry_id == JournalEntry.id)
            )
        ).all()
        assert lineless == []

    @invariant()
    def account_balances_equal_their_lines(self):
        signed = sa.case((JournalLine.side == "D", JournalLine.amount), else_=-JournalLine.amount)
        sums = dict(
            db.session.execute(
                sa.select(JournalLine.account_id, sa.func.sum(signed)).group_by(
                    JournalLine.account_id
                )
            ).all()
        )
        cached = dict(
            db.session.execute(sa.select(AccountBalance.account_id, AccountBalance.balance)).all()
        )
        assert cached == {account_id: sums.get(account_id, 0) for account_id in cached}

    @invariant()
    def savings_balances_equal_their_lines_and_are_not_negative(self):
        signed = sa.case((JournalLine.side == "C", JournalLine.amount), else_=-JournalLine.amount)
        sums = dict(
            db.session.execute(
                sa.select(JournalLine.subaccount, sa.func.sum(signed))
                .where(JournalLine.subaccount.like("savings:%"))
                .group_by(JournalLine.subaccount)
            ).all()
        )
        for account_id, cached in db.session.execute(
            sa.select(SavingsAccount.id, SavingsAccount.balance)
        ):
            assert cached >= 0
            assert cached == sums.get(f"savings:{account_id}", 0)

    @invariant()
    def check_model(self):
        actual = dict(
            db.session.execute(
                sa.select(SavingsAccount.id, SavingsAccount.balance).where(
                    SavingsAccount.id.in_(self.expected)
                )
            ).all()
        )
        assert actual == self.expected
        closed = set(
            db.session.execute(
                sa.select(SavingsAccount.id).where(
                    SavingsAccount.id.in_(self.expected), SavingsAccount.closed_on.is_not(None)
                )
            ).scalars()
        )
        assert closed == self.closed
        assert account_balance("cash") == self.cash_start + self.cash
        assert account_balance("loans_receivable") == self.loans_start + self.loans


def offsets_from_the_model(member: Member, on) -> list[services.Owed]:
    """What the running machine says `member` owes (registered as an exit offset)."""
    machine = SavingsMachine.current
    for index, record in enumerate(machine.members):
        if record.id == member.id and machine.debt[index] > 0:
            return [services.Owed("Sisa pinjaman", "loans_receivable", machine.debt[index])]
    return []


def test_savings_ledger_state_machine(ctx, group, treasurer):
    SavingsMachine.group, SavingsMachine.treasurer = group, treasurer
    services.EXIT_OFFSETS.append(offsets_from_the_model)
    try:
        run_state_machine_as_test(
            SavingsMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        services.EXIT_OFFSETS.remove(offsets_from_the_model)
        SavingsMachine.group = SavingsMachine.treasurer = SavingsMachine.current = None
