"""The loans' refusal: a loan rule refused the action, and nothing was written."""

from coop_app.errors import DomainError


class LoanError(DomainError):
    """A loan rule refused the action; nothing was written."""
