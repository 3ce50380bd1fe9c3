"""Loan applications and the board's decision on them: who may borrow what (the
product's terms, the open-loans limit, mandatory savings arrears), the application, and
approval or rejection by a board member other than the one who recorded it
(maker-checker). Functions flush and never commit; the money moves in `services`.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.models import User
from coop_app.auth.roles import Role
from coop_app.extensions import db
from coop_app.i18n import format_rupiah
from coop_app.loans.errors import LoanError
from coop_app.loans.models import Loan, LoanProduct, LoanStatus
from coop_app.loans.records import check_version, flush_loan
from coop_app.members.models import Member, MemberStatus
from coop_app.savings.models import SavingsKind
from coop_app.savings.queries import arrears_of, balances_as_of, bylaws_account

#: Loans that still count against the "at most K open loans" rule.
OPEN = (LoanStatus.APPLIED.value, LoanStatus.APPROVED.value, LoanStatus.ACTIVE.value)


def _open_loans(member: Member, *, besides: Loan | None = None) -> int:
    query = sa.select(sa.func.count(Loan.id)).where(
        Loan.member_id == member.id, Loan.status.in_(OPEN)
    )
    if besides is not None and besides.id is not None:
        query = query.where(Loan.id != besides.id)
    return db.session.execute(query).scalar_one()


def _arrears_months(member: Member, as_of: date) -> int:
    account = bylaws_account(member, SavingsKind.MANDATORY)
    if account is None:
        return 0
    paid = balances_as_of([account.id], as_of)[account.id]
    return arrears_of(account, paid=paid, as_of=as_of).months


def check_eligible(
    member: Member,
    product: LoanProduct,
    *,
    amount: int,
    months: int,
    as_of: date,
    loan: Loan | None = None,
) -> None:
    """The product's terms and the bylaws' eligibility, or LoanError saying which fails."""
    check_terms(member, product, amount=amount, months=months)
    check_arrears(product, _arrears_months(member, as_of))
    open_loans = _open_loans(member, besides=loan)
    if open_loans >= product.max_open_loans:
        raise LoanError(
            _(
                "The member already has %(n)d open loan(s); this product allows %(max)d.",
                n=open_loans,
                max=product.max_open_loans,
            )
        )


def check_terms(member: Member, product: LoanProduct, *, amount: int, months: int) -> None:
    """Who may borrow and on what terms: an active member, a product still offered, a tenor
    in its range, an amount up to its ceiling."""
    if member.status != MemberStatus.ACTIVE:
        raise LoanError(_("Only active members can borrow."))
    if not product.active:
        raise LoanError(_("This loan product is no longer offered."))
    if not product.min_months <= months <= product.max_months:
        raise LoanError(
            _(
                "The tenor must be %(min)d to %(max)d months.",
                min=product.min_months,
                max=product.max_months,
            )
        )
    if amount > product.ceiling:
        raise LoanError(
            _("The most this product lends is %(max)s.", max=format_rupiah(product.ceiling))
        )


def check_arrears(product: LoanProduct, behind: int) -> None:
    """The bylaws' most months of mandatory-savings arrears (`behind`) for a loan."""
    if behind > product.max_arrears_months:
        raise LoanError(
            _(
                "The member is %(n)d months behind with mandatory savings; at most %(max)d "
                "are allowed for a loan.",
                n=behind,
                max=product.max_arrears_months,
            )
        )


def apply_for_loan(
    member: Member,
    product: LoanProduct,
    *,
    amount: int,
    months: int,
    purpose: str,
    on: date,
    today: date,
    by: User,
) -> Loan:
    """Record an application (the treasurer); a board member decides on it."""
    purpose = " ".join((purpose or "").split())
    if len(purpose) < 3:
        raise LoanError(_("Write what the loan is for."))
    if on > today:
        raise LoanError(_("The date cannot be in the future."))
    check_eligible(member, product, amount=amount, months=months, as_of=on)
    loan = Loan(
        member_id=member.id,
        product_id=product.id,
        purpose=purpose[:255],
        principal=amount,
        months=months,
        method=product.method,
        rate_ppm=product.rate_ppm,
        rounding=product.rounding,
        status=LoanStatus.APPLIED.value,
        applied_on=on,
        recorded_by_id=by.id,
        outstanding=0,
    )
    db.session.add(loan)
    db.session.flush()
    audit.note(entity=f"loan:{loan.id}", detail=f"applied {amount} x {months}")
    return loan


def _decide(loan: Loan, *, by: User, on: date, today: date, note: str, expected_version) -> None:
    if by.role != Role.ADMIN:
        raise LoanError(_("Only the board approves or rejects loans."))
    check_version(loan, expected_version)
    if loan.status != LoanStatus.APPLIED:
        raise LoanError(_("This application has already been decided."))
    if loan.recorded_by_id == by.id:
        raise LoanError(_("You recorded this application; another board member must decide on it."))
    if not loan.applied_on <= on <= today:
        raise LoanError(_("The decision date must be between the application and today."))
    loan.decided_by_id, loan.decided_on = by.id, on
    loan.decision_note = " ".join((note or "").split())[:255] or None


def approve_loan(loan: Loan, *, by: User, on: date, today: date, note: str, expected_version):
    """Approve an application (maker-checker: never by the one who recorded it)."""
    _decide(loan, by=by, on=on, today=today, note=note, expected_version=expected_version)
    check_eligible(
        loan.member, loan.product, amount=loan.principal, months=loan.months, as_of=on, loan=loan
    )
    loan.status = LoanStatus.APPROVED.value
    flush_loan()
    audit.note(entity=f"loan:{loan.id}", detail="approved")


def reject_loan(loan: Loan, *, by: User, on: date, today: date, note: str, expected_version):
    """Reject an application, saying why; nothing is posted."""
    if len(" ".join((note or "").split())) < 3:
        raise LoanError(_("Write why the application is rejected."))
    _decide(loan, by=by, on=on, today=today, note=note, expected_version=expected_version)
    loan.status = LoanStatus.REJECTED.value
    flush_loan()
    audit.note(entity=f"loan:{loan.id}", detail="rejected")
