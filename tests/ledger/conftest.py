"""The ledger's tests use the savings tests' fixtures: a request context and active members."""

from tests.savings.conftest import ctx, group, make_member, treasurer

__all__ = ["ctx", "group", "make_member", "treasurer"]
