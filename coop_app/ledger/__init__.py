"""The books: chart of accounts, journal, posting, reversal, period lock and their reports."""
