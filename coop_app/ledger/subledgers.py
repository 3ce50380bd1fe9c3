"""Member-level accounts kept beside the journal: savings accounts now, loans later.

A journal line may name a sub-account ("savings:12"); `post_entry` hands the line's
amount to the sub-ledger registered for that prefix, which moves its cached balance with
a conditional UPDATE in the same transaction (and refuses, e.g., an overdraft). The
ledger does not import the features that register here.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Subledger:
    prefix: str
    #: apply([(record id, debit-positive delta), ...]): move the cached balances, in that
    #: order, or raise DomainError (a posting moves one or two records, a bulk posting many).
    apply: Callable[[list[tuple[int, int]]], None]
    #: verify() -> list of problems (cached balance differs from its lines, negative balance).
    verify: Callable[[], list[str]]
    #: The total of the cached balances, for the control totals of a backup.
    total: Callable[[], int]
    #: check_reversal(entry, [record id, ...]): raise DomainError if reversing `entry`
    #: would leave the records it names out of step with their lines (e.g. a loan whose
    #: status the entry changed); None if every reversal the balances allow is fine.
    check_reversal: Callable[[object, list[int]], None] | None = None


SUBLEDGERS: dict[str, Subledger] = {}


def register(subledger: Subledger) -> None:
    SUBLEDGERS[subledger.prefix] = subledger


def subaccount(prefix: str, record_id: int) -> str:
    return f"{prefix}:{record_id}"


def split(name: str) -> tuple[Subledger, int]:
    """The sub-ledger and record id of a sub-account name; unknown prefixes are a bug."""
    prefix, _, record_id = name.partition(":")
    return SUBLEDGERS[prefix], int(record_id)
