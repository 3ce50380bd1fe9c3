"""Rows every installation starts with: the chart, savings products, loan quality classes.

Inserted by the migration that creates their tables, and again by the tests after they
empty a PostgreSQL database, so that both begin from the same books.
"""

from coop_app.ledger.chart import insert_chart
from coop_app.loans.quality import insert_default_classes
from coop_app.savings.products import insert_default_products


def insert_reference_data(connection) -> None:
    """Every table's starting rows, in the order of the migrations that create them."""
    insert_chart(connection)
    insert_default_products(connection)
    insert_default_classes(connection)
