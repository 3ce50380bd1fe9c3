"""Users, roles, login sessions, access control and the audit log."""
