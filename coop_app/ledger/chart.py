"""The seeded chart of accounts of a cooperative and the purposes programs post to."""

from coop_app.ledger.models import AccountKind as K
from coop_app.ledger.models import Unit as U

#: code, name (the cooperative's own bookkeeping language), kind, unit, purpose.
#: Principal and mandatory savings are members' equity and voluntary savings a liability
#: (DOMAIN.md); an accountant who classifies otherwise changes the kind or the purpose.
CHART = (
    ("1101", "Kas", K.ASSET, None, "cash"),
    ("1102", "Bank", K.ASSET, None, "bank"),
    ("1201", "Piutang pinjaman anggota", K.ASSET, U.SAVINGS_LOANS, "loans_receivable"),
    ("1202", "Piutang anggota", K.ASSET, None, "member_receivables"),
    ("1301", "Persediaan barang", K.ASSET, U.PROCUREMENT, "inventory"),
    ("2101", "Simpanan sukarela", K.LIABILITY, U.SAVINGS_LOANS, "savings_voluntary"),
    ("2102", "Simpanan khusus (tabungan remitansi)", K.LIABILITY, U.SAVINGS_LOANS, None),
    ("2201", "Utang barang titipan (konsinyasi)", K.LIABILITY, U.MARKETING, "consignment_payable"),
    ("2202", "Utang pemasok", K.LIABILITY, U.PROCUREMENT, "supplier_payable"),
    ("3101", "Simpanan pokok", K.EQUITY, None, "savings_principal"),
    ("3102", "Simpanan wajib", K.EQUITY, None, "savings_mandatory"),
    ("3201", "Cadangan", K.EQUITY, None, "reserves"),
    ("3301", "SHU tahun berjalan", K.EQUITY, None, "shu_current"),
    ("4101", "Pendapatan jasa pinjaman", K.INCOME, U.SAVINGS_LOANS, "loan_interest"),
    ("4102", "Pendapatan denda", K.INCOME, U.SAVINGS_LOANS, "loan_penalty"),
    ("4103", "Pendapatan administrasi pinjaman", K.INCOME, U.SAVINGS_LOANS, "loan_fee"),
    ("4201", "Penjualan pengadaan bahan baku", K.INCOME, U.PROCUREMENT, "procurement_sales"),
    ("4301", "Penjualan produk anggota", K.INCOME, U.MARKETING, "marketing_sales"),
    ("4302", "Komisi titip jual", K.INCOME, U.MARKETING, "consignment_commission"),
    ("4901", "Pendapatan lain-lain", K.INCOME, U.GENERAL, "other_income"),
    ("5101", "Beban operasional simpan pinjam", K.EXPENSE, U.SAVINGS_LOANS, None),
    ("5102", "Beban penghapusan pinjaman", K.EXPENSE, U.SAVINGS_LOANS, "loan_write_off"),
    ("5201", "Harga pokok pengadaan", K.EXPENSE, U.PROCUREMENT, "procurement_cost"),
    ("5301", "Harga pokok penjualan produk", K.EXPENSE, U.MARKETING, "marketing_cost"),
    ("5901", "Beban umum dan administrasi", K.EXPENSE, U.GENERAL, None),
    ("5902", "Beban pendidikan dan pelatihan", K.EXPENSE, U.GENERAL, "training_cost"),
)


def insert_chart(connection) -> None:
    """Insert the chart with zero balances into an empty database (migration and tests)."""
    import sqlalchemy as sa

    accounts = sa.table(
        "account",
        sa.column("id"),
        sa.column("code"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("unit"),
        sa.column("purpose"),
        sa.column("active"),
    )
    balances = sa.table("account_balance", sa.column("account_id"), sa.column("balance"))
    rows = [
        {
            "id": number,
            "code": code,
            "name": name,
            "kind": kind.value,
            "unit": unit.value if unit else None,
            "purpose": purpose,
            "active": True,
        }
        for number, (code, name, kind, unit, purpose) in enumerate(CHART, start=1)
    ]
    connection.execute(sa.insert(accounts), rows)
    connection.execute(sa.insert(balances), [{"account_id": r["id"], "balance": 0} for r in rows])
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('account', 'id'), (SELECT max(id) FROM account))"
        )
