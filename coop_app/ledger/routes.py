"""Screens of the books: trial balance, ledger, account statement, entries, months, chart."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import choice_list, parse_day
from coop_app.i18n import format_month, local_today
from coop_app.ledger import administration, exporting, queries, reversals
from coop_app.ledger.forms import KIND_LABELS, UNIT_LABELS, AccountForm, LockForm, ReverseForm
from coop_app.ledger.models import Account, AccountKind, JournalEntry, PeriodLock, Unit
from coop_app.spreadsheets import workbook_bytes, xlsx_download

bp = Blueprint("books", __name__)

A, T, S = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR


def _day_arg(name: str, default: date) -> date:
    """A date from the query string; a malformed one falls back to `default`, with a note."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_day(text[:20])
    except ValueError:
        flash(_("A date in the filter was not understood; the default was used."), "warning")
        return default


def _unit_arg() -> Unit | None:
    value = request.args.get("unit", "")
    return Unit(value) if value in Unit._value2member_map_ else None


def _period() -> tuple[date, date, Unit | None]:
    today = local_today()
    start = _day_arg("start", today.replace(day=1))
    end = _day_arg("end", today)
    if end < start:
        start, end = end, start
    return start, end, _unit_arg()


def _page_context(**extra) -> dict:
    return {"unit_labels": UNIT_LABELS, "kind_labels": KIND_LABELS, **extra}


def _send(sheet, name: str):
    return xlsx_download(lambda handle: handle.write(workbook_bytes([sheet])), name)


@bp.get("/")
@allow(A, T, S)
def trial_balance():
    """Neraca saldo: every account's balance as of a date; debits equal credits."""
    as_of, unit = _day_arg("as_of", local_today()), _unit_arg()
    rows = queries.trial_balance(as_of=as_of, unit=unit)
    return render_template(
        "books/trial_balance.html", **_page_context(rows=rows, as_of=as_of, unit=unit)
    )


@bp.get("/trial-balance.xlsx")
@allow(A, T, S)
def trial_balance_export():
    as_of, unit = _day_arg("as_of", local_today()), _unit_arg()
    rows = queries.trial_balance(as_of=as_of, unit=unit)
    return _send(exporting.trial_balance_sheet(rows, as_of), f"neraca-saldo-{as_of}.xlsx")


@bp.get("/ledger")
@allow(A, T, S)
def general_ledger():
    """Buku besar: each account's movements in a period, optionally of one unit."""
    start, end, unit = _period()
    statements = queries.general_ledger(start=start, end=end, unit=unit)
    return render_template(
        "books/general_ledger.html",
        **_page_context(statements=statements, start=start, end=end, unit=unit),
    )


@bp.get("/ledger.xlsx")
@allow(A, T, S)
def general_ledger_export():
    start, end, unit = _period()
    statements = queries.general_ledger(start=start, end=end, unit=unit)
    return _send(exporting.ledger_sheet(statements), f"buku-besar-{start}-{end}.xlsx")


@bp.get("/accounts/<int:account_id>")
@allow(A, T, S)
def account_statement(account_id: int):
    """One account's lines with opening, running and closing balance; reversals shown too."""
    account = db.get_or_404(Account, account_id)
    start, end, unit = _period()
    found = queries.statement(account, start=start, end=end, unit=unit)
    return render_template(
        "books/statement.html",
        **_page_context(statement=found, account=account, start=start, end=end, unit=unit),
    )


@bp.get("/accounts/<int:account_id>.xlsx")
@allow(A, T, S)
def account_statement_export(account_id: int):
    account = db.get_or_404(Account, account_id)
    start, end, unit = _period()
    found = queries.statement(account, start=start, end=end, unit=unit)
    sheet = exporting.ledger_sheet([found], name=f"Akun {account.code}")
    return _send(sheet, f"akun-{account.code}-{start}-{end}.xlsx")


@bp.get("/entries/<int:entry_id>")
@allow(A, T, S)
def entry(entry_id: int):
    """A journal entry with its lines; the treasurer or the board reverse it from here."""
    return _entry_page(db.get_or_404(JournalEntry, entry_id), ReverseForm(on=local_today()))


def _entry_page(found: JournalEntry, form: ReverseForm, status: int = 200):
    reversal = queries.reversal_of(found)
    reversible = reversal is None and found.reverses_id is None
    return render_template(
        "books/entry.html",
        entry=found,
        form=form,
        reversal=reversal,
        refused=reversals.reversal_refused(found) if reversible else None,
        reversed_entry=db.session.get(JournalEntry, found.reverses_id)
        if found.reverses_id
        else None,
        **_page_context(),
    ), status


@bp.post("/entries/<int:entry_id>/reverse")
@allow(A, T)
def reverse(entry_id: int):
    found = db.get_or_404(JournalEntry, entry_id)
    form = ReverseForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Give the date and the reason of the reversal."))
        reversal = reversals.reverse_entry(
            found,
            on=form.on.data,
            reason=form.reason.data,
            by=current_user._get_current_object(),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _entry_page(found, form, REFUSED)
    db.session.commit()
    flash(_("The entry has been reversed by entry %(number)s.", number=reversal.id), "success")
    return redirect(url_for("books.entry", entry_id=reversal.id))


def _months_to_lock(today: date) -> list[date]:
    """Ended months since the first entry that are still open, oldest first."""
    first = db.session.execute(sa.select(sa.func.min(JournalEntry.entry_date))).scalar()
    locked = set(db.session.execute(sa.select(PeriodLock.month)).scalars())
    months, month = [], (first or today).replace(day=1)
    while month < today.replace(day=1):
        if month not in locked:
            months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


@bp.get("/periods")
@allow(A, T, S)
def periods():
    """Closed months, and the board's way to close the next one."""
    return _periods_page(_lock_form(local_today()))


def _lock_form(today: date) -> LockForm:
    form = LockForm()
    months = _months_to_lock(today)
    form.month.choices = choice_list((m.isoformat(), format_month(m)) for m in months)
    return form


def _periods_page(form: LockForm, status: int = 200):
    locks = db.session.execute(sa.select(PeriodLock).order_by(PeriodLock.month.desc())).scalars()
    return render_template("books/periods.html", form=form, locks=list(locks)), status


@bp.post("/periods")
@allow(A)
def lock_period():
    today = local_today()
    form = _lock_form(today)
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Choose a month to close."))
        month = date.fromisoformat(form.month.data)
        administration.lock_period(month, today=today, by=current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _periods_page(form, REFUSED)
    db.session.commit()
    flash(_("The books of %(month)s are closed.", month=format_month(month)), "success")
    return redirect(url_for("books.periods"))


@bp.get("/accounts")
@allow(A, T, S)
def accounts():
    """The chart of accounts with each cached balance; the board adds accounts here."""
    return _accounts_page(AccountForm())


def _accounts_page(form: AccountForm, status: int = 200):
    rows = db.session.execute(
        sa.select(Account).options(sa.orm.selectinload(Account.balance)).order_by(Account.code)
    ).scalars()
    page = render_template("books/accounts.html", **_page_context(form=form, accounts=list(rows)))
    return page, status


@bp.post("/accounts")
@allow(A)
def add_account():
    form = AccountForm()
    if not form.validate_on_submit():
        return _accounts_page(form, REFUSED)
    try:
        account = administration.add_account(
            code=form.code.data,
            name=form.name.data,
            kind=AccountKind(form.kind.data),
            unit=Unit(form.unit.data) if form.unit.data else None,
        )
    except DomainError as error:
        db.session.rollback()
        form.code.errors = [error.message]
        return _accounts_page(form, REFUSED)
    db.session.commit()
    flash(_("Account %(code)s has been added.", code=account.code), "success")
    return redirect(url_for("books.accounts"))
