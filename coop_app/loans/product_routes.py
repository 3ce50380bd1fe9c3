"""Screens of loan products: the list of products with their terms, and adding one."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.errors import REFUSED, DomainError
from coop_app.extensions import db
from coop_app.loans import forms
from coop_app.loans.models import LoanProduct
from coop_app.loans.products import add_loan_product

bp = Blueprint("loan_products", __name__)

A, T, S = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR


def _products_page(form: forms.ProductForm, status: int = 200):
    products = db.session.execute(sa.select(LoanProduct).order_by(LoanProduct.code)).scalars()
    page = render_template(
        "loans/products.html",
        form=form,
        products=list(products),
        penalty_labels=forms.PENALTY_LABELS,
        order_labels=forms.ORDER_LABELS,
        **forms.labels(),
    )
    return page, status


@bp.get("")
@allow(A, T, S)
def index():
    """The loan products, and the form to add one (the board's)."""
    return _products_page(forms.ProductForm())


@bp.post("")
@allow(A)
def add():
    """Add a loan product; its terms are checked against the bylaws' limits."""
    form = forms.ProductForm()
    if not form.validate_on_submit():
        return _products_page(form, REFUSED)
    try:
        product = add_loan_product(
            code=form.code.data,
            name=form.name.data,
            method=form.method.data,
            rate_ppm=form.rate.data,
            min_months=form.min_months.data,
            max_months=form.max_months.data,
            ceiling=form.ceiling.data,
            admin_fee_ppm=form.admin_fee.data or 0,
            savings_ppm=form.savings.data or 0,
            rounding=form.rounding.data,
            penalty_kind=form.penalty_kind.data,
            penalty_rate_ppm=form.penalty_rate.data or 0,
            penalty_per_day=form.penalty_per_day.data or 0,
            grace_days=form.grace_days.data or 0,
            penalty_cap=form.penalty_cap.data,
            early_payoff=form.early_payoff.data,
            allocation_order=form.allocation_order.data,
            overpayment=form.overpayment.data,
            max_arrears_months=form.max_arrears_months.data,
            max_open_loans=form.max_open_loans.data,
        )
    except DomainError as error:
        db.session.rollback()
        form.code.errors = [error.message]
        return _products_page(form, REFUSED)
    db.session.commit()
    flash(_("The loan product %(name)s has been added.", name=product.name), "success")
    return redirect(url_for("loan_products.index"))
