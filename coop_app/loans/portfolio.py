"""The loan portfolio on any date: each running loan's position, ageing bucket, quality
class (kolektibilitas) and provision, and the totals: PAR30 and the problem-loan ratio
with the ministry's health band. Also the board's setting of the quality classes.

Every figure is rebuilt from the schedules and the journal as they stood on the date (see
loans.queries), so the report of 31 December reads the same in March. The quality classes
are a setting, not history: a changed threshold applies to every date.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from coop_app.errors import DomainError, StaleEditError
from coop_app.extensions import db
from coop_app.loans.models import PPM, Loan, QualityClass
from coop_app.loans.position import Position
from coop_app.loans.quality import DEFAULT_CLASSES
from coop_app.loans.queries import positions_of
from coop_app.members.models import Member, Village

# --- buckets, classes, bands ------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """An ageing bucket: loans `low` to `high` days past due (no upper end if None)."""

    key: str
    low: int
    high: int | None
    label: str
    #: The export's fixed Indonesian words.
    sheet_label: str


BUCKETS = (
    Bucket("current", 0, 0, _l("Current"), "Tidak menunggak"),
    Bucket("1-30", 1, 30, _l("1-30 days"), "1-30 hari"),
    Bucket("31-60", 31, 60, _l("31-60 days"), "31-60 hari"),
    Bucket("61-90", 61, 90, _l("61-90 days"), "61-90 hari"),
    Bucket("91-180", 91, 180, _l("91-180 days"), "91-180 hari"),
    Bucket("180+", 181, None, _l("Over 180 days"), "Lebih dari 180 hari"),
)

#: PAR30 counts the loans more than this many days past due.
PAR_DAYS = 30


def bucket_of(days_past_due: int) -> Bucket:
    return next(b for b in reversed(BUCKETS) if days_past_due >= b.low)


@dataclass(frozen=True)
class Quality:
    """A quality class as the settings table holds it."""

    name: str
    min_days: int
    provision_ppm: int

    @property
    def provision_percent(self) -> Decimal:
        return Decimal(self.provision_ppm) * 100 / PPM


def quality_classes() -> list[Quality]:
    """The settings table by threshold (the shipped defaults if somebody emptied it)."""
    rows = db.session.execute(
        sa.select(QualityClass.name, QualityClass.min_days, QualityClass.provision_ppm).order_by(
            QualityClass.min_days
        )
    ).all()
    return [Quality(*row) for row in rows or DEFAULT_CLASSES]


def class_of(days_past_due: int, classes: Sequence[Quality]) -> Quality:
    """The class with the highest threshold the loan has reached (the first if none)."""
    reached = [c for c in classes if c.min_days <= days_past_due]
    return reached[-1] if reached else classes[0]


def provision_of(outstanding: int, ppm: int) -> int:
    """`ppm` of the principal owed, rounded half up to whole rupiah."""
    value = Decimal(outstanding) * ppm / PPM
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Band:
    """A band of the ministry's health assessment: problem-loan ratios up to `upto`."""

    key: str
    upto: Decimal | None
    label: str
    sheet_label: str


BANDS = (
    Band("healthy", Decimal("0.05"), _l("Healthy"), "Sehat"),
    Band("fair", Decimal("0.10"), _l("Fairly healthy"), "Cukup sehat"),
    Band("weak", Decimal("0.15"), _l("Less healthy"), "Kurang sehat"),
    Band("unhealthy", None, _l("Unhealthy"), "Tidak sehat"),
)


def band_of(ratio: Decimal) -> Band:
    return next(b for b in BANDS if b.upto is None or ratio <= b.upto)


def ratio(part: int, whole: int) -> Decimal:
    """`part / whole` (0 when there is nothing)."""
    return Decimal(part) / Decimal(whole) if whole else Decimal(0)


# --- positions of every running loan ----------------------------------------------------------


@dataclass(frozen=True)
class LoanPosition:
    """A running loan on the report's date; the figures are the position's, taken once."""

    loan: Loan
    position: Position
    bucket: Bucket
    quality: Quality
    days_past_due: int
    #: Principal still owed.
    outstanding: int
    #: Principal and interest of installments past their date, unpaid.
    overdue: int
    penalty: int
    provision: int

    @classmethod
    def of(cls, loan: Loan, pos: Position, classes: Sequence[Quality]) -> "LoanPosition":
        dpd, outstanding = pos.days_past_due, pos.outstanding_principal
        quality = class_of(dpd, classes)
        provision = provision_of(outstanding, quality.provision_ppm)
        return cls(
            loan,
            pos,
            bucket_of(dpd),
            quality,
            dpd,
            outstanding,
            pos.overdue,
            pos.penalty_due,
            provision,
        )


def _running(as_of: date) -> tuple:
    """Disbursed by `as_of` and not closed or written off by then."""
    return (
        Loan.disbursed_on.is_not(None),
        Loan.disbursed_on <= as_of,
        sa.or_(Loan.closed_on.is_(None), Loan.closed_on > as_of),
    )


def _running_ids(as_of: date, village_id: int | None):
    query = sa.select(Loan.id).where(*_running(as_of))
    if village_id is not None:
        query = query.join(Member, Member.id == Loan.member_id).where(
            Member.village_id == village_id
        )
    return query


def loans_running_on(as_of: date, village_id: int | None = None) -> list[Loan]:
    """Loans running on `as_of` (a loan closed in February counts on 31 December), with
    their member and village, by village, member and loan."""
    query = (
        sa.select(Loan)
        .join(Loan.member)
        .join(Member.village)
        .options(contains_eager(Loan.member).contains_eager(Member.village))
        .where(*_running(as_of))
        .order_by(Village.name, Member.name, Loan.id)
    )
    if village_id is not None:
        query = query.where(Member.village_id == village_id)
    return list(db.session.execute(query).scalars())


def positions_as_of(
    as_of: date, village_id: int | None = None, classes: Sequence[Quality] | None = None
) -> list[LoanPosition]:
    """Every running loan's position on `as_of` (from a handful of set-based queries, see
    `positions_of`), with its bucket and quality class (from `classes` or the table)."""
    loans = loans_running_on(as_of, village_id)
    positions = positions_of(_running_ids(as_of, village_id), as_of)
    classes = classes or quality_classes()
    rows = []
    for loan in loans:
        pos = positions.get(loan.id)
        if pos is not None:  # None: no schedule in force (cannot happen once disbursed)
            rows.append(LoanPosition.of(loan, pos, classes))
    return rows


# --- totals -----------------------------------------------------------------------------------


@dataclass
class Tally:
    count: int = 0
    outstanding: int = 0
    provision: int = 0

    def add(self, row: LoanPosition) -> None:
        self.count += 1
        self.outstanding += row.outstanding
        self.provision += row.provision


@dataclass
class Portfolio:
    as_of: date
    rows: list[LoanPosition]
    classes: list[Quality]
    buckets: dict[str, Tally] = field(default_factory=dict)
    by_class: dict[str, Tally] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)
    overdue: int = 0
    penalty_due: int = 0
    #: Principal owed on loans more than 30 days past due.
    at_risk: int = 0
    #: Principal owed on loans outside the first quality class.
    problem: int = 0

    @property
    def par30(self) -> Decimal:
        return ratio(self.at_risk, self.total.outstanding)

    @property
    def problem_ratio(self) -> Decimal:
        return ratio(self.problem, self.total.outstanding)

    @property
    def band(self) -> Band:
        return band_of(self.problem_ratio)


def portfolio_on(as_of: date, village_id: int | None = None) -> Portfolio:
    """The running loans on `as_of` with their totals per bucket and per class."""
    classes = quality_classes()
    rows = positions_as_of(as_of, village_id, classes)
    report = Portfolio(as_of, rows, classes)
    report.buckets = {b.key: Tally() for b in BUCKETS}
    report.by_class = {c.name: Tally() for c in classes}
    for row in rows:
        report.buckets[row.bucket.key].add(row)
        report.by_class[row.quality.name].add(row)
        report.total.add(row)
        report.overdue += row.overdue
        report.penalty_due += row.penalty
        if row.days_past_due > PAR_DAYS:
            report.at_risk += row.outstanding
        if row.quality != classes[0]:
            report.problem += row.outstanding
    return report


@dataclass(frozen=True)
class VillageArrears:
    village: Village
    rows: list[LoanPosition]

    @property
    def overdue(self) -> int:
        return sum(row.overdue for row in self.rows)

    @property
    def penalty(self) -> int:
        return sum(row.penalty for row in self.rows)


def overdue_by_village(rows: Sequence[LoanPosition]) -> list[VillageArrears]:
    """Loans past due, per village (by name), the longest overdue first within each."""
    villages: dict[int, list[LoanPosition]] = {}
    for row in rows:
        if row.days_past_due > 0:
            villages.setdefault(row.loan.member.village_id, []).append(row)
    return [
        VillageArrears(
            late[0].loan.member.village,
            sorted(late, key=lambda r: (-r.days_past_due, r.loan.member.name, r.loan.id)),
        )
        for late in villages.values()
    ]


# --- the quality classes setting --------------------------------------------------------------


class QualityError(DomainError):
    """The quality classes sent are not a valid setting; nothing was changed."""


def fingerprint(classes: Sequence[Quality]) -> str:
    """The setting as text, to tell whether it changed since a form was shown."""
    return "|".join(f"{c.name}:{c.min_days}:{c.provision_ppm}" for c in classes)


def check_quality_classes(classes: Sequence[Quality]) -> None:
    """The rules of the setting: a name each, names unique, the first class from 0 days past
    due, thresholds strictly increasing, provisions from 0 to 100 %."""
    if not classes:
        raise QualityError(_("Keep at least one class, starting at 0 days past due."))
    if any(not c.name.strip() for c in classes):
        raise QualityError(_("Give every class a name."))
    if len({c.name.strip().casefold() for c in classes}) != len(classes):
        raise QualityError(_("Two classes have the same name; give each its own."))
    if classes[0].min_days != 0:
        raise QualityError(_("The first class must start at 0 days past due."))
    if any(later.min_days <= c.min_days for c, later in pairwise(classes)):
        raise QualityError(
            _("Each class must start at more days past due than the class before it.")
        )
    if any(not 0 <= c.provision_ppm <= PPM for c in classes):
        raise QualityError(_("A provision must be from 0 to 100%."))


def save_quality_classes(classes: Sequence[Quality], *, loaded: str) -> None:
    """Replace the quality classes with `classes` (in order), checked as a whole; refused
    if someone changed the setting since the form (whose fingerprint is `loaded`) was
    shown. Flushes, never commits."""
    check_quality_classes(classes)
    if fingerprint(quality_classes()) != loaded:
        raise StaleEditError()
    db.session.execute(sa.delete(QualityClass))
    db.session.add_all(
        QualityClass(name=c.name.strip(), min_days=c.min_days, provision_ppm=c.provision_ppm)
        for c in classes
    )
    db.session.flush()
