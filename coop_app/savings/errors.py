"""The savings' refusal: a savings rule refused the action, and nothing was written."""

from coop_app.errors import DomainError


class SavingsError(DomainError):
    """A savings rule refused the action; nothing was written."""
