"""Savings: principal, mandatory and voluntary savings, variants, deposits, withdrawals, exit."""
