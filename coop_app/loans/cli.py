"""Flask command `loan-schedule`: print a loan's schedule as CSV (reads and writes nothing)."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import click
from flask import Flask

from coop_app.i18n import local_today
from coop_app.loans.schedule import MAX_MONTHS, Method, build_schedule

HEADER = ("no", "due_date", "principal", "interest", "installment", "balance")


def _percent(ctx: click.Context, param: click.Parameter, value: str) -> Decimal:
    """`1.5` (percent per month) -> Decimal("0.015"); from 0 to below 100."""
    try:
        percent = Decimal(value.strip())
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number such as 1.5") from None
    if not percent.is_finite() or not 0 <= percent < 100:
        raise click.BadParameter("the rate must be from 0 to below 100 (percent per month)")
    return percent / 100


@click.command("loan-schedule")
@click.option("--principal", required=True, type=click.IntRange(min=1), help="Rupiah.")
@click.option("--months", required=True, type=click.IntRange(1, MAX_MONTHS))
@click.option("--rate", required=True, callback=_percent, help="Percent per month, e.g. 1.5.")
@click.option("--method", required=True, type=click.Choice([method.value for method in Method]))
@click.option(
    "--round",
    "rounding",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Round installments up to this multiple of rupiah.",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Disbursement date, YYYY-MM-DD (default: today in Jakarta); the first "
    "installment is due one month later.",
)
def loan_schedule_command(
    principal: int, months: int, rate: Decimal, method: str, rounding: int, start: datetime | None
):
    """Print the installment schedule of a loan as CSV."""
    on: date = start.date() if start else local_today()
    try:
        schedule = build_schedule(
            principal=principal,
            months=months,
            monthly_rate=rate,
            method=Method(method),
            start=on,
            rounding=rounding,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for item in schedule:
        writer.writerow(
            (
                item.no,
                item.due_date.isoformat(),
                item.principal,
                item.interest,
                item.installment,
                item.balance,
            )
        )
    click.echo(out.getvalue(), nl=False)


def register_loan_commands(app: Flask) -> None:
    app.cli.add_command(loan_schedule_command)
