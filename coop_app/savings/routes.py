"""Screens of savings: passbook, deposit, withdrawal, receipts, collection sheet, arrears, exit."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from coop_app.auth import audit
from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.forms import choice_list, id_arg, parse_day
from coop_app.i18n import local_today
from coop_app.ledger import idempotency
from coop_app.ledger.models import Account, AccountKind, JournalEntry
from coop_app.members.models import Member, Village, VillageGroup
from coop_app.members.queries import active_villages
from coop_app.once import post_once
from coop_app.savings import (
    collection,
    queries,
    sections,  # noqa: F401  (adds the member page's savings section)
    services,
)
from coop_app.savings.exporting import arrears_sheet
from coop_app.savings.forms import KIND_LABELS, ExitForm, MoneyForm, OpenAccountForm, ProductForm
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsProduct
from coop_app.savings.products import add_product
from coop_app.savings.sheet import SheetForm
from coop_app.spreadsheets import workbook_bytes, xlsx_download

bp = Blueprint("savings", __name__)

A, T, S, M = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR, Role.MEMBER


def _own_or_404(member_id: int) -> None:
    """A member sees only their own savings; others' records do not exist for them."""
    if current_user.role == M:
        owner = db.session.get(Member, member_id)
        if owner is None or owner.user_id != current_user.id:
            abort(404)


def _account_or_404(account_id: int, *, options=()) -> SavingsAccount:
    account = db.get_or_404(SavingsAccount, account_id, options=options)
    _own_or_404(account.member_id)
    return account


def _user():
    return current_user._get_current_object()


@bp.get("/")
@allow(A, T, S)
def index():
    """The treasurer's start: collection sheets by village group, and the savings reports."""
    villages = active_villages()
    products = db.session.execute(sa.select(SavingsProduct).order_by(SavingsProduct.id)).scalars()
    return render_template(
        "savings/index.html", villages=villages, products=list(products), kind_labels=KIND_LABELS
    )


@bp.get("/accounts/<int:account_id>")
@allow(A, T, S, M)
def passbook(account_id: int):
    """Buku simpanan: every movement with the running balance."""
    account = _account_or_404(account_id)
    rows = queries.passbook(account)
    return render_template(
        "savings/passbook.html", account=account, rows=rows, kind_labels=KIND_LABELS
    )


def _money_view(account: SavingsAccount, move, title: str):
    form = MoneyForm(on=local_today())
    if request.method == "GET":
        form.form_key.data = idempotency.new_key()
    elif form.validate_on_submit():

        def act() -> str:
            entry = move(
                account,
                amount=form.amount.data,
                on=form.on.data,
                today=local_today(),
                by=_user(),
                key=f"form:{form.form_key.data}",
            )
            return url_for("savings.receipt", entry_id=entry.id)

        try:
            return redirect(post_once(form.form_key.data, act))
        except DomainError as error:
            db.session.rollback()
            form.amount.errors = [*form.amount.errors, error.message]
    status = REFUSED if form.is_submitted() else 200
    page = render_template("savings/money.html", form=form, account=account, title=title)
    return page, status


@bp.route("/accounts/<int:account_id>/deposit", methods=["GET", "POST"])
@allow(A, T)
def deposit(account_id: int):
    account = _account_or_404(account_id, options=queries.FOR_MONEY)
    return _money_view(account, services.deposit, _("Deposit"))


@bp.route("/accounts/<int:account_id>/withdraw", methods=["GET", "POST"])
@allow(A, T)
def withdraw(account_id: int):
    account = _account_or_404(account_id, options=queries.FOR_MONEY)
    return _money_view(account, services.withdraw, _("Withdrawal"))


@bp.get("/receipts/<int:entry_id>")
@allow(A, T, S, M)
def receipt(entry_id: int):
    """A printable receipt (kuitansi) of one member's savings movement."""
    entry = db.get_or_404(JournalEntry, entry_id)
    member_ids = {line.member_id for line in entry.lines if line.member_id}
    if len(member_ids) != 1:
        abort(404)
    member = db.session.get(Member, member_ids.pop())
    _own_or_404(member.id)
    return render_template(
        "savings/receipt.html", entries=[_receipt_row(entry, member)], number=queries.receipt_number
    )


def _receipt_row(entry: JournalEntry, member: Member) -> tuple:
    """What a receipt shows: the savings moved, and the sheet parts' lines (e.g. a loan's)."""
    return entry, member, queries.receipt_lines(entry), collection.receipt_parts(entry)


@bp.route("/collection/<int:group_id>", methods=["GET", "POST"])
@allow(A, T)
def collection_sheet(group_id: int):
    """One village group's month: one row per member (savings, and each running loan's
    installment and penalty), one submit, one entry and one receipt each."""
    group = db.get_or_404(VillageGroup, group_id, options=[joinedload(VillageGroup.village)])
    month, today = _month_arg(), local_today()
    day = collection.sheet_day(month, today)
    form = SheetForm(collection.sheet_rows(group, month, as_of=day), month=month, today=today)
    if request.method == "POST":
        try:
            amounts = form.read(request.form)

            def act() -> str:
                batch = collection.collect(
                    group,
                    month=month,
                    on=form.on,
                    amounts=amounts,
                    today=today,
                    by=_user(),
                    key=f"sheet:{form.form_key}",
                    versions=form.versions,
                )
                return url_for("savings.collection_receipts", batch_id=batch.id)

            return redirect(post_once(form.form_key, act))
        except DomainError as error:
            db.session.rollback()
            _sheet_refused(form, error)
            # Shown again with the figures and versions of now: what changed is visible.
            form.rows = collection.sheet_rows(group, month, as_of=day)
    page = render_template(
        "savings/collection.html", group=group, month=month, form=form, rows=form.rows
    )
    return page, REFUSED if request.method == "POST" else 200


def _sheet_refused(form: SheetForm, error: DomainError) -> None:
    """Say why the sheet was refused, and mark the box it was refused for (if one)."""
    box = getattr(error, "box", None)
    if box:
        form.errors[box] = error.message
    flash(error.message, "danger")


def _month_arg() -> date:
    """The month of a sheet from `?month=2026-11` (this month if absent or malformed)."""
    text = request.args.get("month", "")[:7]
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        return local_today().replace(day=1)


@bp.get("/collections/<int:batch_id>")
@allow(A, T, S)
def collection_receipts(batch_id: int):
    """Every receipt of a submitted sheet, to print and hand out."""
    batch = db.get_or_404(CollectionBatch, batch_id)
    entries = []
    for entry in collection.batch_entries(batch):
        member = db.session.get(
            Member, next(line.member_id for line in entry.lines if line.member_id)
        )
        entries.append(_receipt_row(entry, member))
    return render_template(
        "savings/receipt.html", entries=entries, batch=batch, number=queries.receipt_number
    )


def _arrears_filters() -> tuple[date, int | None]:
    text = request.args.get("as_of", "").strip()[:20]
    try:
        as_of = parse_day(text) if text else local_today()
    except ValueError:
        as_of = local_today()
    return as_of, id_arg("village")


@bp.get("/arrears")
@allow(A, T, S)
def arrears():
    """Members behind with mandatory savings: months and rupiah, by village."""
    as_of, village_id = _arrears_filters()
    rows = queries.arrears_list(as_of=as_of, village_id=village_id)
    return render_template(
        "savings/arrears.html",
        rows=rows,
        as_of=as_of,
        village_id=village_id,
        villages=db.session.execute(sa.select(Village).order_by(Village.name)).scalars().all(),
    )


@bp.get("/arrears.xlsx")
@allow(A, T, S)
def arrears_export():
    as_of, village_id = _arrears_filters()
    rows = queries.arrears_list(as_of=as_of, village_id=village_id)
    audit.note(action="savings.arrears_export", detail=f"{len(rows)} members")
    sheet = arrears_sheet(rows, as_of)
    return xlsx_download(
        lambda h: h.write(workbook_bytes([sheet])), f"tunggakan-wajib-{as_of}.xlsx"
    )


def _product_form() -> ProductForm:
    form = ProductForm()
    accounts = db.session.execute(
        sa.select(Account)
        .where(Account.kind == AccountKind.LIABILITY.value, Account.active.is_(True))
        .order_by(Account.code)
    ).scalars()
    form.account_id.choices = choice_list((a.id, f"{a.code} {a.name}") for a in accounts)
    return form


def _products_page(form: ProductForm, status: int = 200):
    products = db.session.execute(sa.select(SavingsProduct).order_by(SavingsProduct.id)).scalars()
    page = render_template(
        "savings/products.html", form=form, products=list(products), kind_labels=KIND_LABELS
    )
    return page, status


@bp.get("/products")
@allow(A, T, S)
def products():
    return _products_page(_product_form())


@bp.post("/products")
@allow(A)
def add_product_view():
    form = _product_form()
    if not form.validate_on_submit():
        return _products_page(form, REFUSED)
    try:
        product = add_product(
            code=form.code.data,
            name=form.name.data,
            account=db.session.get(Account, form.account_id.data),
            target=form.target.data,
            lock_months=form.lock_months.data or 0,
        )
    except DomainError as error:
        db.session.rollback()
        form.code.errors = [error.message]
        return _products_page(form, REFUSED)
    db.session.commit()
    flash(_("The savings product %(name)s has been added.", name=product.name), "success")
    return redirect(url_for("savings.products"))


@bp.post("/members/<int:member_id>/accounts")
@allow(A, T)
def open_account(member_id: int):
    """Open a variant account (e.g. remittance savings) for a member who asks for one."""
    member = db.get_or_404(Member, member_id)
    form = OpenAccountForm()
    form.product_id.choices = choice_list(
        (p.id, p.name) for p in db.session.execute(sa.select(SavingsProduct)).scalars()
    )
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Choose a savings product."))
        product = db.session.get(SavingsProduct, form.product_id.data)
        services.open_account(member, product, on=local_today())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("members.show", member_id=member.id) + "#section-savings")
    audit.note(entity=f"member:{member.id}", detail=f"savings account {product.code}")
    db.session.commit()
    flash(_("The account has been opened."), "success")
    return redirect(url_for("members.show", member_id=member.id) + "#section-savings")


@bp.route("/members/<int:member_id>/exit", methods=["GET", "POST"])
@allow(A, T)
def exit_settlement(member_id: int):
    """Pay a former member's savings out, minus what they owe, and close the accounts."""
    member = db.get_or_404(Member, member_id)
    form = ExitForm(on=local_today())
    if request.method == "GET":
        form.form_key.data = idempotency.new_key()
    elif form.validate_on_submit():

        def act() -> str:
            entry = services.settle_exit(
                member,
                on=form.on.data,
                today=local_today(),
                by=_user(),
                key=f"form:{form.form_key.data}",
            )
            if entry is None:
                return url_for("members.show", member_id=member.id)
            return url_for("savings.receipt", entry_id=entry.id)

        try:
            return redirect(post_once(form.form_key.data, act))
        except DomainError as error:
            db.session.rollback()
            form.on.errors = [*form.on.errors, error.message]
    settlement = services.exit_settlement(member, form.on.data or local_today())
    page = render_template("savings/exit.html", form=form, member=member, settlement=settlement)
    return page, REFUSED if form.is_submitted() else 200
