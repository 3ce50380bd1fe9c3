"""One import point for every feature's models (used by migrations and the CLI)."""

from coop_app.auth.models import AuditEvent, LoginSession, LoginThrottle, User
from coop_app.ledger.models import (
    Account,
    AccountBalance,
    FormSubmission,
    JournalEntry,
    JournalLine,
    PeriodLock,
)
from coop_app.loans.models import (
    Loan,
    LoanEvent,
    LoanInstallment,
    LoanProduct,
    QualityClass,
)
from coop_app.members.import_models import MemberImport
from coop_app.members.models import (
    Member,
    MemberNumberCounter,
    MemberStatusChange,
    MigrantProfile,
    Placement,
    Village,
    VillageGroup,
)
from coop_app.savings.models import CollectionBatch, SavingsAccount, SavingsProduct

__all__ = [
    "Account",
    "AccountBalance",
    "AuditEvent",
    "CollectionBatch",
    "FormSubmission",
    "JournalEntry",
    "JournalLine",
    "Loan",
    "LoanEvent",
    "LoanInstallment",
    "LoanProduct",
    "LoginSession",
    "LoginThrottle",
    "Member",
    "MemberImport",
    "MemberNumberCounter",
    "MemberStatusChange",
    "MigrantProfile",
    "PeriodLock",
    "Placement",
    "QualityClass",
    "SavingsAccount",
    "SavingsProduct",
    "User",
    "Village",
    "VillageGroup",
]
