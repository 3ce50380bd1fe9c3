"""Loan reports in the role x route matrix (see tests/test_access.py)."""

from coop_app.auth.roles import Role

A, T, S = Role.ADMIN, Role.TREASURER, Role.SUPERVISOR

LOAN_REPORT_ROUTES = {
    "loan_reports.index": ("GET", "/loans/reports/", (A, T, S), 200, 302),
    "loan_reports.portfolio_export": ("GET", "/loans/reports/portfolio.xlsx", (A, T, S), 200, 302),
    "loan_reports.overdue": ("GET", "/loans/reports/overdue", (A, T, S), 200, 302),
    "loan_reports.quality": ("GET", "/loans/reports/quality", (A, T, S), 200, 302),
    "loan_reports.save_quality#post": ("POST", "/loans/reports/quality", (A,), 422, 302),
}

#: GETs handing out members' data in bulk, audited like a change.
LOAN_REPORT_AUDITED_READS = {"loan_reports.portfolio_export"}
