"""Loan quality classes (kolektibilitas): defaults every installation starts with.

Each cooperative sets its own thresholds and provisions (DOMAIN.md); these follow common
practice for savings-and-loan cooperatives: current up to a month late, then worse by the
quarter. The board changes them on the loan quality page.
"""

import sqlalchemy as sa

#: name, lowest days past due, provision (parts per million of the principal owed).
DEFAULT_CLASSES = (
    ("Lancar", 0, 5_000),
    ("Kurang Lancar", 31, 100_000),
    ("Diragukan", 91, 500_000),
    ("Macet", 181, 1_000_000),
)


def insert_default_classes(connection) -> None:
    """Insert the default classes into an empty `loan_quality_class` table."""
    table = sa.table(
        "loan_quality_class", sa.column("name"), sa.column("min_days"), sa.column("provision_ppm")
    )
    connection.execute(
        sa.insert(table),
        [
            {"name": name, "min_days": days, "provision_ppm": provision}
            for name, days, provision in DEFAULT_CLASSES
        ],
    )
