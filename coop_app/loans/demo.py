"""The demo's loans: three products and three years of applications, repayments and arrears.

Deterministic from the random generator and DEMO_TODAY only. Applications, decisions,
disbursements, payoffs, reschedules and the write-off go through the loan services, dated
on the day simulated, so the demo keeps the rules the screens keep: eligibility
(mandatory-savings arrears, one open loan at a time), maker-checker (the treasurer
records, the chair decides), the loans' versions, one journal entry per movement of money
and the loan sub-ledger. The ordinary repayments, about 1,300, are split exactly as
`repay_loan` splits them but posted per loan through the ledger's bulk path (see
`Lender._pay`). Most borrowers pay near the due date; some pay late with a penalty, some
pay off early; a few borrowers' last loan falls behind so that DEMO_TODAY shows every
ageing bucket; one loan is written off, two are rescheduled; a few applications wait for
a decision or for the money. Everything is dated before the demo's months are locked.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _

from coop_app.auth.models import User
from coop_app.extensions import db
from coop_app.ledger.bulk import BulkEntry, post_entries_bulk
from coop_app.ledger.models import Unit
from coop_app.ledger.services import debit
from coop_app.loans import applications, measures, services
from coop_app.loans.demo_plan import CLOSED, PAYOFF, TERMS, loan_amount, plan_repayments
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanProduct
from coop_app.loans.position import Due, Split
from coop_app.loans.products import add_loan_product
from coop_app.loans.queries import position_of, schedule_of, terms_of
from coop_app.members.demo import DEMO_TODAY, LOGIN_MEMBER_NAME
from coop_app.members.models import Member, MemberStatus
from coop_app.savings.demo import HISTORY_END
from coop_app.savings.models import SavingsAccount, SavingsKind, SavingsProduct

#: The cooperative began lending three years before DEMO_TODAY.
FIRST_LOAN = date(2023, 11, 1)
#: Share of the active members who borrow at some time.
BORROWERS = 0.55
_SAME = {"allocation_order": "penalty,interest,principal", "overpayment": "refuse",
         "savings_ppm": 0, "max_arrears_months": 3, "max_open_loans": 1}  # fmt: skip
#: code, name, terms: business loans (flat), larger annuity loans, small emergency loans.
PRODUCTS = (
    ("PU", "Pinjaman Usaha", _SAME | {
        "method": "flat", "rate_ppm": 15_000, "min_months": 3, "max_months": 24,
        "ceiling": 10_000_000, "admin_fee_ppm": 10_000, "rounding": 1_000,
        "penalty_kind": "percent", "penalty_rate_ppm": 1_000, "grace_days": 5,
        "penalty_cap": 100_000, "early_payoff": "current_interest"}),
    ("PA", "Pinjaman Anuitas", _SAME | {
        "method": "annuity", "rate_ppm": 12_500, "min_months": 6, "max_months": 36,
        "ceiling": 25_000_000, "admin_fee_ppm": 10_000, "rounding": 1_000,
        "penalty_kind": "percent", "penalty_rate_ppm": 1_000, "grace_days": 5,
        "penalty_cap": 250_000, "early_payoff": "principal"}),
    ("PD", "Pinjaman Darurat", _SAME | {
        "method": "declining", "rate_ppm": 10_000, "min_months": 1, "max_months": 6,
        "ceiling": 2_000_000, "admin_fee_ppm": 0, "rounding": 500,
        "penalty_kind": "fixed", "penalty_per_day": 1_000, "grace_days": 3,
        "penalty_cap": 30_000, "early_payoff": "principal"}),
)  # fmt: skip
PURPOSES = {
    "PU": ("Tambahan modal produksi keripik", "Bahan baku batik tulis", "Modal warung kelontong",
           "Beli mesin sangrai kopi", "Bibit dan pakan kambing etawa", "Beli mesin jahit",
           "Modal olahan carica", "Kemasan dan label produk", "Modal budidaya jamur tiram"),
    "PA": ("Renovasi tempat usaha", "Beli sepeda motor untuk berdagang", "Perluasan kandang",
           "Sewa kios di pasar Kertek", "Beli lahan kopi"),
    "PD": ("Biaya berobat keluarga", "Biaya sekolah anak", "Perbaikan atap rumah",
           "Biaya persalinan", "Biaya pemakaman orang tua"),
}  # fmt: skip
APPROVAL_NOTES = ("Disetujui rapat pengurus", "Survei usaha baik", "", "Disetujui")
REJECTIONS = ("Angsuran melebihi kemampuan bayar menurut survei",
              "Usaha belum berjalan; silakan mengajukan lagi tiga bulan lagi",
              "Suami/istri belum menandatangani persetujuan",
              "Dana pinjaman bulan ini sudah habis tersalurkan")  # fmt: skip
RESCHEDULE = "Gagal panen; angsuran diperpanjang atas keputusan rapat pengurus"
WRITE_OFF = "Tidak dapat ditagih lebih dari setahun; dihapusbukukan oleh rapat pengurus"
#: How many borrowers' last loan is overdue on DEMO_TODAY, by days past due (least, most).
OVERDUE = {(1, 30): 5, (31, 60): 3, (61, 90): 2, (91, 180): 3, (181, 420): 2}
#: The fates of some borrowers' last application or loan.
SPECIAL = (
    *[("overdue", days) for days, count in OVERDUE.items() for _n in range(count)],
    ("write_off", None), ("reschedule", "closed"), ("reschedule", "running"),
    *[("applied", None)] * 4, *[("approved", None)] * 3, *[("rejected", None)] * 2,
)  # fmt: skip


@dataclass
class _Borrower:
    member: Member
    #: When the member became active (their mandatory savings account opened).
    active_from: date


def seed_loans(rng: random.Random) -> None:
    """Products, then each borrower's loans one after the other, oldest first."""
    users = {u.username: u for u in db.session.execute(sa.select(User)).scalars()}
    lender = Lender(rng, staff=users["bendahara"], board=users["ketua"])
    for code, name, terms in PRODUCTS:
        lender.products[code] = add_loan_product(code=code, name=name, **terms)
    borrowers = _borrowers()
    own = [b for b in borrowers if b.member.name == LOGIN_MEMBER_NAME]
    others = [b for b in borrowers if b not in own]
    chosen = own + rng.sample(others, round(BORROWERS * len(others)))
    specials = list(SPECIAL)
    for borrower in chosen:
        fate = lender.fate(borrower, specials) if borrower not in own else None
        lender.history(borrower, fate)


def _borrowers() -> list[_Borrower]:
    """Active members by id, with the day they became active."""
    rows = db.session.execute(
        sa.select(Member, SavingsAccount.opened_on)
        .join(SavingsAccount, SavingsAccount.member_id == Member.id)
        .join(SavingsAccount.product)
        .where(
            Member.status == MemberStatus.ACTIVE.value,
            SavingsProduct.kind == SavingsKind.MANDATORY.value,
            SavingsProduct.automatic.is_(True),
        )
        .order_by(Member.id)
    ).all()
    return [_Borrower(member, opened) for member, opened in rows]


class Lender:
    def __init__(self, rng: random.Random, *, staff: User, board: User):
        self.rng, self.staff, self.board = rng, staff, board
        self.products: dict[str, LoanProduct] = {}

    # --- what happens to a borrower --------------------------------------------------------

    def fate(self, borrower: _Borrower, specials: list) -> tuple | None:
        """Take the first special fate whose last loan this borrower can have, if any."""
        for index, (kind, detail) in enumerate(specials):
            plan = self.final_plan(kind, detail)
            earliest = max(FIRST_LOAN, borrower.active_from + timedelta(days=90))
            if plan["applied"] >= earliest and self._eligible(borrower.member, plan):
                specials.pop(index)
                return kind, detail, plan
        return None

    def final_plan(self, kind: str, detail) -> dict:
        """When the special last application is made, and its product and tenor."""
        rng = self.rng
        if kind == "overdue":
            least, most = detail
            code = rng.choice(("PU", "PU", "PU", "PD"))
            months = rng.choice(TERMS[code][4][1:])
            stop = rng.randint(2, months - 1)  # the first installment not paid
            due = DEMO_TODAY - timedelta(days=rng.randint(least + 3, most - 3))
            paid_out = due - relativedelta(months=stop)
        elif kind == "write_off":
            code, months, stop = "PU", 12, rng.randint(3, 5)
            paid_out = day_within(rng, date(2024, 4, 1), 150)
        elif kind == "reschedule":
            code, months, stop = "PU", 12, rng.randint(3, 5)
            first = date(2024, 3, 1) if detail == "closed" else date(2025, 8, 1)
            paid_out = day_within(rng, first, 120)
        elif kind == "applied":
            return {"code": "PU", "months": 12, "applied": day_within(rng, date(2026, 10, 14), 17)}
        elif kind == "approved":
            return {"code": "PU", "months": 12, "applied": day_within(rng, date(2026, 10, 5), 15)}
        else:  # rejected
            return {"code": "PU", "months": 12, "applied": day_within(rng, date(2026, 6, 1), 120)}
        applied = paid_out - timedelta(days=rng.randint(4, 14))
        return {"code": code, "months": months, "applied": applied, "paid_out": paid_out,
                "stop": stop}  # fmt: skip

    def _eligible(self, member: Member, plan: dict) -> bool:
        product = self.products[plan["code"]]
        decided = plan.get("paid_out", plan["applied"] + timedelta(days=7))
        amount = TERMS[plan["code"]][1]
        try:
            for on in (plan["applied"], min(decided, HISTORY_END)):
                applications.check_eligible(
                    member, product, amount=amount, months=plan["months"], as_of=on
                )
        except LoanError:
            return False
        return True

    def history(self, borrower: _Borrower, fate: tuple | None) -> None:
        """Loans one after the other from a random start; the fate's loan comes last."""
        rng = self.rng
        start = max(FIRST_LOAN, borrower.active_from + timedelta(days=90))
        span = 30 if borrower.member.name == LOGIN_MEMBER_NAME else (HISTORY_END - start).days
        day = start + timedelta(days=rng.randint(0, max(0, span * 4 // 5)))
        last = fate[2]["applied"] - timedelta(days=30) if fate else HISTORY_END
        while day <= last:
            code = rng.choices(list(TERMS), [terms[0] for terms in TERMS.values()])[0]
            months = rng.choice(TERMS[code][4])
            if fate and day + relativedelta(months=months + 1) > last:
                code, months = "PD", 3
                if day + relativedelta(months=months + 1) > last:
                    break
            closed = self._regular(borrower.member, code, months, day)
            if closed is None:
                return
            day = closed + timedelta(days=rng.randint(7, 150))
        if fate:
            self.special(borrower.member, *fate)

    # --- one loan ---------------------------------------------------------------------------

    def _regular(self, member: Member, code: str, months: int, on: date) -> date | None:
        """An ordinary loan applied for on `on`; the day it ended (None: it still runs, or
        the member could not apply)."""
        rng = self.rng
        if not self._can_apply(member, code, months, on):
            return on + timedelta(days=30) if on + timedelta(days=30) <= HISTORY_END else None
        loan = self._apply(member, code, months, on)
        decided = min(on + timedelta(days=rng.randint(1, 6)), HISTORY_END)
        if rng.random() < 0.08:
            self._reject(loan, decided)
            return decided
        self._approve(loan, decided)
        paid_out = min(decided + timedelta(days=rng.randint(0, 5)), HISTORY_END)
        self._disburse(loan, paid_out)
        behaviour = rng.choices(("punctual", "late", "payoff"), (65, 20, 15))[0]
        payoff = rng.randint(2, months // 2 + 1) if behaviour == "payoff" and months >= 4 else None
        self._pay(loan, late=0.35 if behaviour == "late" else 0.0, payoff=payoff)
        return loan.closed_on

    def special(self, member: Member, kind: str, detail, plan: dict) -> None:
        rng = self.rng
        loan = self._apply(member, plan["code"], plan["months"], plan["applied"])
        if kind == "applied":
            return
        decided = plan.get("paid_out", loan.applied_on + timedelta(days=rng.randint(2, 7)))
        if kind == "rejected":
            self._reject(loan, min(decided, HISTORY_END))
            return
        self._approve(loan, min(decided, HISTORY_END))
        if kind == "approved":
            return
        self._disburse(loan, plan["paid_out"])
        stopped = self._pay(loan, stop=plan["stop"])
        if kind == "overdue" and rng.random() < 0.6:
            self._part_payment(loan, stopped)
        elif kind == "write_off":
            self._part_payment(loan, stopped)
            on = day_within(rng, stopped + timedelta(days=400), 120)
            measures.write_off_loan(
                loan,
                on=on,
                reason=WRITE_OFF,
                today=on,
                by=self.board,
                key=f"demo:loan:{loan.id}:write-off",
                expected_version=loan.version,
            )
        elif kind == "reschedule":
            on = stopped + timedelta(days=rng.randint(45, 75))
            left = loan.months - plan["stop"] + 1
            measures.reschedule_loan(
                loan,
                on=on,
                months=left + 6,
                reason=RESCHEDULE,
                today=on,
                by=self.board,
                expected_version=loan.version,
            )
            self._pay(loan)

    def _can_apply(self, member: Member, code: str, months: int, on: date) -> bool:
        try:
            applications.check_eligible(
                member, self.products[code], amount=TERMS[code][1], months=months, as_of=on
            )
        except LoanError:
            return False
        return True

    def _apply(self, member: Member, code: str, months: int, on: date) -> Loan:
        amount = loan_amount(self.rng, code)
        return applications.apply_for_loan(
            member,
            self.products[code],
            amount=amount,
            months=months,
            purpose=self.rng.choice(PURPOSES[code]),
            on=on,
            today=on,
            by=self.staff,
        )

    def _approve(self, loan: Loan, on: date) -> None:
        applications.approve_loan(
            loan,
            by=self.board,
            on=on,
            today=on,
            note=self.rng.choice(APPROVAL_NOTES),
            expected_version=loan.version,
        )

    def _reject(self, loan: Loan, on: date) -> None:
        applications.reject_loan(
            loan,
            by=self.board,
            on=on,
            today=on,
            note=self.rng.choice(REJECTIONS),
            expected_version=loan.version,
        )

    def _disburse(self, loan: Loan, on: date) -> None:
        services.disburse_loan(
            loan,
            on=on,
            today=on,
            by=self.staff,
            key=f"demo:loan:{loan.id}:disbursement",
            expected_version=loan.version,
        )

    def _pay(self, loan: Loan, *, late: float = 0.0, payoff=None, stop=None) -> date:
        """Repay the schedule in force as `plan_repayments` plans it (near each due date, a
        `late` share late with the penalty, up to installment `stop` or the end of the
        history, paid off at installment `payoff`). Returns the due date of the first
        unpaid installment, or the day the loan was closed.

        The repayments are posted in one batch per loan (see `_post`) before anything else
        touches the loan; a payoff and the closing go through the loan services. Through
        `repay_loan`, which reads the position from the journal three times per payment,
        the loans took about 25 s to seed on SQLite instead of 3 s, with the same journal
        to the rupiah."""
        schedule = [
            Due(item.no, item.due_date, item.principal, item.interest)
            for item in schedule_of(loan, loan.schedule_version)
        ]
        plan = plan_repayments(
            self.rng,
            schedule,
            terms_of(loan.product),
            loan.product.order,
            since=loan.disbursed_on,
            until=HISTORY_END,
            late=late,
            payoff=payoff,
            stop=stop,
        )
        key = f"demo:loan:{loan.id}:{loan.schedule_version}"
        self._post(
            loan,
            [self._repayment(loan, r.split, on=r.on, key=f"{key}:{r.no}") for r in plan.repayments],
        )
        if plan.end == PAYOFF:
            services.pay_off_loan(
                loan,
                on=plan.on,
                today=plan.on,
                by=self.staff,
                key=f"{key}:{plan.no}",
                expected_version=loan.version,
            )
        elif plan.end == CLOSED and not services.close_if_paid_up(loan, plan.on):
            raise RuntimeError(f"the demo's payments do not close loan {loan.id}")
        return plan.on

    def _repayment(self, loan: Loan, split: Split, *, on: date, key: str) -> BulkEntry:
        """The entry `repay_loan` posts: cash in, penalty, interest and principal out."""
        text = _(
            "Repayment of loan %(number)s, %(member)s", number=loan.number, member=loan.member.name
        )
        lines = [debit("cash", split.total, member_id=loan.member_id)]
        lines += services.repayment_lines(loan, split)
        return BulkEntry(
            on, text, Unit.SAVINGS_LOANS, lines, "loans.repayment", key, self.staff.id, loan.number
        )

    @staticmethod
    def _post(loan: Loan, entries: list[BulkEntry]) -> None:
        """Post a loan's repayments (the same checks as `post_entry`: balanced, open month,
        new key; the loan's principal owed moves by a conditional update and never goes
        below zero), then reread the loan's cached principal."""
        post_entries_bulk(entries)
        db.session.expire(loan, ["outstanding"])

    def _part_payment(self, loan: Loan, due: date) -> None:
        """Something paid after falling behind: less than the oldest installment asks."""
        on = day_within(self.rng, due + timedelta(days=20), 60)
        if on > HISTORY_END:
            return
        now = position_of(loan, on)
        oldest = next(state for state in now.installments if state.unpaid)
        amount = min(
            self.rng.choice((100_000, 150_000, 200_000, 250_000)),
            now.penalty_due + oldest.unpaid - 1_000,
        )
        if amount > 0:
            services.repay_loan(
                loan,
                amount=amount,
                on=on,
                today=on,
                by=self.staff,
                key=f"demo:loan:{loan.id}:part",
                expected_version=loan.version,
            )


def day_within(rng: random.Random, first: date, days: int) -> date:
    return first + timedelta(days=rng.randint(0, days))
