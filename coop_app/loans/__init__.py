"""Loans: products, schedules, applications, disbursement, repayments, arrears."""
