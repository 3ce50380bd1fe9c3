"""Loan reports: the portfolio on any date (ageing, quality classes, PAR30) and its export,
the overdue list per village, and the board's setting of the quality classes."""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from coop_app.auth import audit
from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import id_arg, parse_day
from coop_app.i18n import local_today
from coop_app.loans import portfolio as book
from coop_app.loans.models import PPM
from coop_app.members.models import Village
from coop_app.spreadsheets import Column, Formula, Kind, Sheet, write_workbook, xlsx_download

bp = Blueprint("loan_reports", __name__)

A, T, S = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR

#: Rows of the quality-class form (the defaults have four classes).
MAX_CLASSES = 8
_DAYS = re.compile(r"[0-9]{1,5}")
TYPED_KEYS = ("name", "days", "provision")


def _filters() -> tuple[date, int | None]:
    text = request.args.get("as_of", "").strip()[:20]
    try:
        as_of = parse_day(text) if text else local_today()
    except ValueError:
        as_of = local_today()
    return as_of, id_arg("village")


def percent_of(ratio: Decimal) -> Decimal:
    """A ratio as a percentage rounded half up to two decimals (as Excel's ROUND)."""
    return (ratio * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(ratio: Decimal) -> str:
    """`54,76%` in Indonesian, `54.76%` in English."""
    return format_decimal(percent_of(ratio), format="#,##0.00", locale=get_locale()) + "%"


def _page(template: str, as_of: date, village_id: int | None, **values):
    villages = db.session.execute(sa.select(Village).order_by(Village.name)).scalars().all()
    return render_template(
        template, as_of=as_of, village_id=village_id, villages=villages, percent=percent, **values
    )


@bp.get("/")
@allow(A, T, S)
def index():
    """The portfolio on a date: ageing buckets, quality classes, PAR30 and health band."""
    as_of, village_id = _filters()
    report = book.portfolio_on(as_of, village_id)
    return _page(
        "loans/portfolio.html",
        as_of,
        village_id,
        report=report,
        buckets=book.BUCKETS,
        ratio=book.ratio,
    )


@bp.get("/portfolio.xlsx")
@allow(A, T, S)
def portfolio_export():
    """The portfolio as a workbook: a summary whose formulas read the sheet of loans."""
    as_of, village_id = _filters()
    report = book.portfolio_on(as_of, village_id)
    audit.note(
        action="loan_reports.portfolio_export",
        detail=f"{len(report.rows)} loans as of {as_of:%d/%m/%Y}",
    )
    sheets = portfolio_sheets(report)
    return xlsx_download(
        lambda handle: write_workbook(handle, sheets), f"portofolio-pinjaman-{as_of}.xlsx"
    )


@bp.get("/overdue")
@allow(A, T, S)
def overdue():
    """Loans past due on a date, per village, for the collectors."""
    as_of, village_id = _filters()
    groups = book.overdue_by_village(book.positions_as_of(as_of, village_id))
    return _page("loans/overdue.html", as_of, village_id, groups=groups)


# --- the quality classes ----------------------------------------------------------------------


def _quality_page(typed=None, loaded=None, error=None, status=200):
    classes = book.quality_classes()
    if typed is None:
        typed = [
            {"name": c.name, "days": str(c.min_days), "provision": _percent_text(c)}
            for c in classes
        ]
    blanks = max(0, min(len(typed) + 1, MAX_CLASSES) - len(typed))
    page = render_template(
        "loans/quality.html",
        classes=classes,
        typed=typed + [{"name": "", "days": "", "provision": ""}] * blanks,
        loaded=book.fingerprint(classes) if loaded is None else loaded,
        error=error,
        percent_text=_percent_text,
    )
    return page, status


def _percent_text(quality: book.Quality) -> str:
    return format_decimal(quality.provision_percent, format="#,##0.####", locale=get_locale())


def _typed_classes(form) -> list[dict]:
    """The rows as typed (blank rows dropped: clearing a row removes that class)."""
    rows = []
    for index in range(MAX_CLASSES):
        row = {key: form.get(f"{key}-{index}", "")[:60].strip() for key in TYPED_KEYS}
        if any(row.values()):
            rows.append(row)
    return rows


def _parse_classes(typed: list[dict]) -> list[book.Quality]:
    """Each row's shape: a name of at most 40 characters, whole days, a percentage."""
    classes = []
    for n, row in enumerate(typed, start=1):
        name = " ".join(row["name"].split())
        if len(name) > 40:
            raise book.QualityError(_("Row %(n)d: a name has at most 40 characters.", n=n))
        if not _DAYS.fullmatch(row["days"]):
            raise book.QualityError(
                _("Row %(n)d: write the days past due as a whole number, such as 31.", n=n)
            )
        try:
            value = Decimal(row["provision"].replace("%", "").replace(",", ".").strip())
        except InvalidOperation:
            value = Decimal("NaN")
        ppm = value * PPM / 100 if value.is_finite() else None
        if ppm is None or ppm != ppm.to_integral_value():
            raise book.QualityError(
                _("Row %(n)d: write the provision as a percentage, such as 0,5.", n=n)
            )
        classes.append(book.Quality(name, int(row["days"]), int(ppm)))
    return classes


@bp.get("/quality")
@allow(A, T, S)
def quality():
    """The loan quality classes: thresholds in days past due and provisions."""
    return _quality_page()


@bp.post("/quality")
@allow(A)
def save_quality():
    """The board replaces the quality classes, checked as a whole; all or nothing."""
    typed = _typed_classes(request.form)
    loaded = request.form.get("loaded", "")[:2000]
    try:
        classes = _parse_classes(typed)
        book.save_quality_classes(classes, loaded=loaded)
    except DomainError as error:
        db.session.rollback()
        return _quality_page(typed, loaded, error.message, REFUSED)
    db.session.commit()
    audit.note(entity="loan_quality_class", detail=book.fingerprint(classes))
    flash(_("The loan quality classes have been saved."), "success")
    return redirect(url_for("loan_reports.quality"))


# --- the workbook (headers fixed in Indonesian, like every export) ---------------------------

LOAN_COLUMNS = (
    Column("No. pinjaman", Kind.TEXT, 12),
    Column("Nomor anggota", Kind.TEXT, 14),
    Column("Nama anggota", Kind.TEXT, 28),
    Column("Desa", Kind.TEXT, 18),
    Column("Tanggal cair", Kind.DATE, 12),
    Column("Pokok pinjaman", Kind.MONEY, 16),
    Column("Sisa pokok", Kind.MONEY, 16),
    Column("Tunggakan angsuran", Kind.MONEY, 16),
    Column("Denda", Kind.MONEY, 14),
    Column("Hari tunggakan", Kind.INTEGER, 10),
    Column("Umur tunggakan", Kind.TEXT, 20),
    Column("Kolektibilitas", Kind.TEXT, 16),
    Column("Penyisihan", Kind.MONEY, 16),
)
SUMMARY_COLUMNS = (
    Column("Bagian", Kind.TEXT, 16),
    Column("Uraian", Kind.TEXT, 40),
    Column("Jumlah pinjaman", Kind.INTEGER, 12),
    Column("Sisa pokok", Kind.MONEY, 18),
    #: A formula with a number value in the general format (e.g. 54.76).
    Column("Persen dari sisa pokok", Kind.TEXT, 12),
    Column("Penyisihan", Kind.MONEY, 18),
    Column("Keterangan", Kind.TEXT, 30),
)
LOANS_SHEET = "Pinjaman"


def _loan_rows(report: book.Portfolio):
    for row in report.rows:
        loan = row.loan
        yield (
            loan.number,
            loan.member.number,
            loan.member.name,
            loan.member.village.name,
            loan.disbursed_on,
            loan.principal,
            row.outstanding,
            row.overdue,
            row.penalty,
            row.days_past_due,
            row.bucket.sheet_label,
            row.quality.name,
            row.provision,
        )
    last = len(report.rows) + 1
    total = report.total
    yield (
        f"Jumlah per {report.as_of:%d/%m/%Y}",
        "",
        f"{total.count} pinjaman",
        "",
        None,
        Formula(f"=SUM(F2:F{last})", sum(row.loan.principal for row in report.rows)),
        Formula(f"=SUM(G2:G{last})", total.outstanding),
        Formula(f"=SUM(H2:H{last})", report.overdue),
        Formula(f"=SUM(I2:I{last})", report.penalty_due),
        None,
        "",
        "",
        Formula(f"=SUM(M2:M{last})", total.provision),
    )


def _summary_rows(report: book.Portfolio):
    """Buckets, then classes, each with a total; then PAR30 and the problem-loan ratio.
    Counts and sums are SUMPRODUCTs over the loans sheet (exact matches, no wildcards)."""
    last = max(len(report.rows) + 1, 2)  # no loans: the loans sheet's total row, blank here

    def over(column: str) -> str:
        return f"{LOANS_SHEET}!${column}$2:${column}${last}"

    total_at = 2 + len(book.BUCKETS)  # the buckets' total row: every loan's principal

    def share(cell: str, amount: int) -> Formula:
        value = float(percent_of(book.ratio(amount, report.total.outstanding)))
        return Formula(f"=IF($D${total_at}=0,0,ROUND({cell}/$D${total_at}*100,2))", value)

    def tally_row(part: str, label: str, key: str, tally: book.Tally, r: int, note: str = ""):
        match = f"({over(key)}=B{r})"
        return (
            part,
            label,
            Formula(f"=SUMPRODUCT(--{match})", tally.count),
            Formula(f"=SUMPRODUCT({match}*{over('G')})", tally.outstanding),
            share(f"D{r}", tally.outstanding),
            Formula(f"=SUMPRODUCT({match}*{over('M')})", tally.provision),
            note,
        )

    def total_row(part: str, first: int, r: int, tally: book.Tally):
        return (
            part,
            f"Jumlah per {report.as_of:%d/%m/%Y}",
            Formula(f"=SUM(C{first}:C{r - 1})", tally.count),
            Formula(f"=SUM(D{first}:D{r - 1})", tally.outstanding),
            share(f"D{r}", tally.outstanding),
            Formula(f"=SUM(F{first}:F{r - 1})", tally.provision),
            "",
        )

    r = 2
    for bucket in book.BUCKETS:
        tally = report.buckets[bucket.key]
        yield tally_row("Umur tunggakan", bucket.sheet_label, "K", tally, r)
        r += 1
    yield total_row("Umur tunggakan", 2, r, report.total)
    r += 1
    first_class = r
    for quality in report.classes:
        percent_text = f"{quality.provision_percent:f}".replace(".", ",")
        note = f"mulai {quality.min_days} hari, penyisihan {percent_text}%"
        yield tally_row("Kolektibilitas", quality.name, "L", report.by_class[quality.name], r, note)
        r += 1
    yield total_row("Kolektibilitas", first_class, r, report.total)
    at_risk = [2 + i for i, b in enumerate(book.BUCKETS) if b.low > book.PAR_DAYS]
    yield (
        "Rasio",
        "PAR30: sisa pokok tunggakan lebih dari 30 hari",
        None,
        Formula(f"=SUM(D{at_risk[0]}:D{at_risk[-1]})", report.at_risk),
        share(f"D{r + 1}", report.at_risk),
        None,
        "",
    )
    problem = f"=SUM(D{first_class + 1}:D{r - 1})" if len(report.classes) > 1 else "=0"
    yield (
        "Rasio",
        "Pinjaman bermasalah: di luar kelas pertama",
        None,
        Formula(problem, report.problem),
        share(f"D{r + 2}", report.problem),
        None,
        f"Kesehatan: {report.band.sheet_label}",
    )


def portfolio_sheets(report: book.Portfolio) -> list[Sheet]:
    return [
        Sheet("Ringkasan", SUMMARY_COLUMNS, list(_summary_rows(report))),
        Sheet(LOANS_SHEET, LOAN_COLUMNS, _loan_rows(report)),
    ]
