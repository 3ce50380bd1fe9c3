"""The funder report: members counted by village, sex, status, return year and placement.

Only counts and shares ever reach the page: no name, NIK, number, phone or date of a
person. Countries and sectors are stored in English and shown through the labels below.
"""

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Blueprint, render_template, request
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from coop_app.db import utcnow
from coop_app.members.models import MemberStatus, Sex
from coop_app.members.places import COUNTRY_LABELS, SECTOR_LABELS
from coop_app.reports import queries
from coop_app.reports.charts import Bar, bar_chart

bp = Blueprint("reports", __name__)

ALL = "all"

STATUS_LABELS = {
    MemberStatus.CANDIDATE.value: _l("Candidate"),
    MemberStatus.ACTIVE.value: _l("Active"),
    MemberStatus.RESIGNED.value: _l("Resigned"),
    MemberStatus.DECEASED.value: _l("Deceased"),
}
SEX_LABELS = {Sex.FEMALE.value: _l("Female"), Sex.MALE.value: _l("Male")}


@dataclass(frozen=True)
class Row:
    label: str
    count: str
    share: str


@dataclass(frozen=True)
class Section:
    """One breakdown: a table of categories and the same numbers as a chart."""

    key: str
    title: str
    heading: str
    note: str
    rows: list[Row]
    total: str
    chart: Markup


def _number(value: int) -> str:
    return format_decimal(value, format="#,##0", locale=str(get_locale()))


def _percent(tenths: int) -> str:
    return format_decimal(Decimal(tenths) / 10, format="#,##0.0", locale=str(get_locale())) + "%"


def _label(labels: dict, unknown: str):
    """Display name of a stored category; stored values without a label are shown as they are."""
    return lambda category: unknown if category is None else str(labels.get(category, category))


def _section(key, title, heading, counts, label_of, *, scope: str, note: str = "") -> Section:
    shares = queries.shares(counts)
    rows = [Row(label_of(s.category), _number(s.count), _percent(s.tenths)) for s in shares]
    total = sum(share.count for share in shares)
    bars = [
        Bar(row.label, share.count, f"{row.count} · {row.share}")
        for row, share in zip(rows, shares, strict=True)
    ]
    chart_title = _("%(title)s (%(scope)s)", title=title, scope=scope)
    chart = bar_chart(chart_title, bars, empty=_("No members to count."))
    return Section(key, title, heading, note, rows, _number(total), chart)


def _sections(status: str | None, members: int) -> list[Section]:
    scope = str(STATUS_LABELS[status]) if status else _("all members")
    profiles = queries.count_profiles(status=status)
    migrants = _(
        "Members with a migrant profile (consent recorded): %(n)s of %(total)s.",
        n=_number(profiles),
        total=_number(members),
    )
    unrecorded, no_placement = _("Not recorded"), _("No placement recorded")
    plain = _label({}, unrecorded)
    return [
        _section("village", _("Members by village"), _("Village (kecamatan)"),
                 queries.by_village(status=status), plain, scope=scope),
        _section("sex", _("Members by sex"), _("Sex"),
                 queries.by_sex(status=status), _label(SEX_LABELS, unrecorded), scope=scope),
        _section("status", _("Members by status"), _("Status"), queries.by_status(),
                 _label(STATUS_LABELS, unrecorded), scope=_("all members"),
                 note=_("All members, whatever is chosen above.")),
        _section("return-year", _("Year of return home"), _("Year"),
                 queries.by_return_year(status=status), plain, scope=scope, note=migrants),
        _section("country", _("Country of last placement"), _("Country"),
                 queries.by_last_placement("country", status=status),
                 _label(COUNTRY_LABELS, no_placement), scope=scope, note=migrants),
        _section("sector", _("Work in the last placement"), _("Sector"),
                 queries.by_last_placement("sector", status=status),
                 _label(SECTOR_LABELS, no_placement), scope=scope, note=migrants),
    ]  # fmt: skip


@bp.get("/members")
@allow(Role.ADMIN, Role.TREASURER, Role.SUPERVISOR)
def funder_members():
    """Members counted per category (active members unless another status is chosen)."""
    status = request.args.get("status", MemberStatus.ACTIVE.value)
    if status != ALL and status not in STATUS_LABELS:
        status = MemberStatus.ACTIVE.value
    chosen = None if status == ALL else status
    members = queries.count_members(status=chosen)
    return render_template(
        "reports/funder_members.html",
        status=status,
        choices=[*STATUS_LABELS.items(), (ALL, _l("All members"))],
        counted=ngettext(
            "%(n)s member counted", "%(n)s members counted", members, n=_number(members)
        ),
        sections=_sections(chosen, members),
        as_of=utcnow(),
    )
