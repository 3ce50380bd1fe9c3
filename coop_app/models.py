"""One import point for every feature's models (used by migrations and the CLI)."""

from coop_app.auth.models import AuditEvent, LoginSession, LoginThrottle, User

__all__ = ["AuditEvent", "LoginSession", "LoginThrottle", "User"]
