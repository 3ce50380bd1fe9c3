"""The district-scale demo's borrowers: loan after loan, and how the last one ends.

Told as the demo tells its own borrowers (`Lender.history`, `_regular`, `final_plan`) but
in memory, each loan a `LoanStory` for `loans.bulk`; a borrower's eligibility is read
from their mandatory savings in memory (`loans.demo_scale.Borrower`).
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from coop_app.loans.applications import check_arrears, check_terms
from coop_app.loans.bulk import LoanStory, Paid
from coop_app.loans.demo import (
    APPROVAL_NOTES,
    LOGIN_MEMBER_NAME,
    OVERDUE,
    PURPOSES,
    REJECTIONS,
    Lender,
    day_within,
)
from coop_app.loans.demo_plan import CLOSED, PAYOFF, TERMS, loan_amount, plan_repayments
from coop_app.loans.errors import LoanError
from coop_app.loans.models import EarlyPayoff, LoanProduct, LoanStatus, rate
from coop_app.loans.position import Due, Payment, allocate, payoff, position
from coop_app.loans.queries import terms_of
from coop_app.loans.schedule import Method, build_schedule
from coop_app.members.demo import DEMO_TODAY
from coop_app.savings.queries import arrears_of

HISTORY_END = DEMO_TODAY - timedelta(days=1)
#: How a borrower's last loan ends (weights): as any other; behind with its installments
#: (in an ageing bucket of OVERDUE); an application waiting for a decision or for the
#: money, or rejected; written off or rescheduled through the services (while the ones
#: the size allows last).
ENDINGS = {"regular": 860, "overdue": 100, "applied": 12, "approved": 8, "rejected": 6,
           "special": 14}  # fmt: skip


@dataclass(frozen=True)
class Ending:
    """A last loan's end: `kind` and `detail` as `Lender.final_plan` takes them, its plan,
    and whether the loan services tell it (a write-off or a reschedule)."""

    kind: str
    detail: object
    plan: dict
    by_services: bool = False


class Storyteller:
    """Tells batch after batch of borrowers' loans with one generator; hands out the
    write-offs and reschedules the size allows (`specials`) until they run out."""

    def __init__(self, rng: random.Random, lender: Lender, first_day: date, specials: list):
        self.rng, self.lender, self.first_day, self.specials = rng, lender, first_day, specials
        self.products: dict[str, LoanProduct] = lender.products

    def tell(self, borrowers) -> tuple[list[LoanStory], list[tuple]]:
        """The batch's loans, and the endings left to the services (member, kind, detail,
        plan), in the borrowers' order."""
        stories, later = [], []
        for borrower in borrowers:
            ending = self._ending(borrower)
            told = self._history(borrower, ending)
            if ending and told and not _over_before(told[-1], ending.plan["applied"]):
                if ending.by_services:  # for another borrower
                    self.specials.insert(0, (ending.kind, ending.detail))
                ending = None
            stories += told
            if ending and ending.by_services:
                later.append((borrower.member, ending.kind, ending.detail, ending.plan))
            elif ending:
                stories.append(self._last(borrower, ending))
        return stories, later

    # --- loan after loan --------------------------------------------------------------------

    def _start(self, borrower) -> date:
        """Members borrow from three months after becoming active."""
        return max(self.first_day, borrower.active_from + timedelta(days=90))

    def _history(self, borrower, ending: Ending | None) -> list[LoanStory]:
        """Loans one after the other from a random start, ending before the last one."""
        rng, start = self.rng, self._start(borrower)
        own = borrower.member.name == LOGIN_MEMBER_NAME
        span = 30 if own else (HISTORY_END - start).days
        day = start + timedelta(days=rng.randint(0, max(0, span * 4 // 5)))
        last = ending.plan["applied"] - timedelta(days=30) if ending else HISTORY_END
        told: list[LoanStory] = []
        while day <= last:
            code = rng.choices(list(TERMS), [terms[0] for terms in TERMS.values()])[0]
            months = rng.choice(TERMS[code][4])
            if ending and day + relativedelta(months=months + 1) > last:
                code, months = "PD", 3
                if day + relativedelta(months=months + 1) > last:
                    break
            if not self._eligible(borrower, code, months, day):
                day += timedelta(days=30)
                continue
            story = self._regular(borrower, code, months, day)
            told.append(story)
            if story.status == LoanStatus.ACTIVE:
                break  # still running at the end of the history
            day = (story.closed or story.decided) + timedelta(days=rng.randint(7, 150))
        return told

    def _regular(self, borrower, code: str, months: int, on: date) -> LoanStory:
        """An ordinary loan: decided within days (a few refused), paid out, then repaid on
        time, late with penalties, or paid off early."""
        rng = self.rng
        story = self._applied(borrower, code, months, on)
        story.decided = min(on + timedelta(days=rng.randint(1, 6)), HISTORY_END)
        if rng.random() < 0.08 or not self._eligible(borrower, code, months, story.decided):
            story.status, story.note = LoanStatus.REJECTED, rng.choice(REJECTIONS)
            return story
        story.note = rng.choice(APPROVAL_NOTES) or None
        paid_out = min(story.decided + timedelta(days=rng.randint(0, 5)), HISTORY_END)
        behaviour = rng.choices(("punctual", "late", "payoff"), (65, 20, 15))[0]
        early = rng.randint(2, months // 2 + 1) if behaviour == "payoff" and months >= 4 else None
        self._pay_out(story, paid_out, late=0.35 if behaviour == "late" else 0.0, payoff_at=early)
        return story

    # --- the last loan ----------------------------------------------------------------------

    def _ending(self, borrower) -> Ending | None:
        """How the borrower's last loan ends, if specially and if the borrower can apply
        for it then (as `Lender.fate` finds out)."""
        rng = self.rng
        kind = rng.choices(list(ENDINGS), weights=list(ENDINGS.values()))[0]
        if kind == "regular" or borrower.member.name == LOGIN_MEMBER_NAME:
            return None
        if kind == "special" and not self.specials:
            return None
        detail = None
        if kind == "special":
            kind, detail = self.specials[0]
        elif kind == "overdue":
            detail = rng.choices(list(OVERDUE), list(OVERDUE.values()))[0]
        plan = self.lender.final_plan(kind, detail)
        decided = min(plan.get("paid_out", plan["applied"] + timedelta(days=7)), HISTORY_END)
        if plan["applied"] < self._start(borrower) or not all(
            self._eligible(borrower, plan["code"], plan["months"], on)
            for on in (plan["applied"], decided)
        ):
            return None
        by_services = kind in ("write_off", "reschedule")
        if by_services:
            self.specials.pop(0)
        return Ending(kind, detail, plan, by_services)

    def _last(self, borrower, ending: Ending) -> LoanStory:
        """Behind since installment `stop` (some paid a little since), or an application
        waiting or refused."""
        rng, plan, kind = self.rng, ending.plan, ending.kind
        story = self._applied(borrower, plan["code"], plan["months"], plan["applied"])
        if kind == "applied":
            return story
        decided = plan.get("paid_out", story.applied + timedelta(days=rng.randint(2, 7)))
        story.decided = min(decided, HISTORY_END)
        if not self._eligible(borrower, plan["code"], plan["months"], story.decided):
            kind = "rejected"  # fell behind with the savings meanwhile
        if kind == "rejected":
            story.status, story.note = LoanStatus.REJECTED, rng.choice(REJECTIONS)
            return story
        story.note = rng.choice(APPROVAL_NOTES) or None
        if kind == "approved":
            story.status = LoanStatus.APPROVED
            return story
        self._pay_out(story, plan["paid_out"], stop=plan["stop"])
        if rng.random() < 0.6:
            self._part_payment(story, plan["stop"])
        return story

    # --- one loan ---------------------------------------------------------------------------

    def _applied(self, borrower, code: str, months: int, on: date) -> LoanStory:
        amount = loan_amount(self.rng, code)
        purpose = self.rng.choice(PURPOSES[code])
        return LoanStory(
            borrower.member, self.products[code], amount, months, purpose, on, LoanStatus.APPLIED
        )

    def _pay_out(self, story: LoanStory, on: date, *, late=0.0, payoff_at=None, stop=None):
        """Paid out on `on`, with its schedule, then repaid as `plan_repayments` plans."""
        product = story.product
        story.paid_out, story.status = on, LoanStatus.ACTIVE
        story.schedule = [
            Due(item.no, item.due_date, item.principal, item.interest)
            for item in build_schedule(
                principal=story.amount,
                months=story.months,
                monthly_rate=rate(product.rate_ppm),
                method=Method(product.method),
                start=on,
                rounding=product.rounding,
            )
        ]
        outcome = plan_repayments(
            self.rng,
            story.schedule,
            terms_of(product),
            product.order,
            since=on,
            until=HISTORY_END,
            late=late,
            payoff=payoff_at,
            stop=stop,
        )
        story.paid = [Paid(r.no, r.on, r.split) for r in outcome.repayments]
        if outcome.end == PAYOFF:
            now = position(story.schedule, _payments(story), terms_of(product), outcome.on)
            split = payoff(now, EarlyPayoff(product.early_payoff))
            story.paid.append(Paid(outcome.no, outcome.on, split, payoff=True))
        if outcome.end in (CLOSED, PAYOFF):
            story.status, story.closed = LoanStatus.CLOSED, outcome.on

    def _part_payment(self, story: LoanStory, stop: int) -> None:
        """Something paid after falling behind: less than the oldest installment asks
        (as the demo's `Lender._part_payment`), for installment `stop` (in its key)."""
        due = next(item.due_date for item in story.schedule if item.no == stop)
        on = day_within(self.rng, due + timedelta(days=20), 60)
        if on > HISTORY_END:
            return
        now = position(story.schedule, _payments(story), terms_of(story.product), on)
        oldest = next(state for state in now.installments if state.unpaid)
        amount = min(
            self.rng.choice((100_000, 150_000, 200_000, 250_000)),
            now.penalty_due + oldest.unpaid - 1_000,
        )
        if amount > 0:
            story.paid.append(Paid(stop, on, allocate(now, amount, story.product.order)))

    def _eligible(self, borrower, code: str, months: int, on: date) -> bool:
        """`check_eligible` for the product's least amount, on the savings in memory."""
        product = self.products[code]
        account = borrower.account
        behind = arrears_of(account, paid=borrower.paid_by(on), as_of=on).months
        try:
            check_terms(borrower.member, product, amount=TERMS[code][1], months=months)
            check_arrears(product, behind)
        except LoanError:
            return False
        return True


def _over_before(story: LoanStory, day: date) -> bool:
    """Whether the loan was closed or refused before `day` (one open loan at a time)."""
    over = story.closed if story.status == LoanStatus.CLOSED else None
    if story.status == LoanStatus.REJECTED:
        over = story.decided
    return over is not None and over < day


def _payments(story: LoanStory) -> list[Payment]:
    return [Payment(p.on, p.split.principal, p.split.interest, p.split.penalty) for p in story.paid]
