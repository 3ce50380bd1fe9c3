"""The books' reports as workbooks: trial balance, general ledger, account statement.

Headers are fixed Indonesian words (a file format the cooperative's accountant reads),
and totals are formulas that carry their computed value, so the file ties by itself.
"""

from datetime import date

from coop_app.ledger.queries import Statement, TrialBalanceRow
from coop_app.spreadsheets import Column, Formula, Kind, Sheet

UNIT_WORDS = {
    "savings_loans": "Simpan pinjam",
    "procurement": "Pengadaan",
    "marketing": "Pemasaran",
    "general": "Umum",
}

TRIAL_BALANCE_COLUMNS = (
    Column("Kode", Kind.TEXT, 8),
    Column("Akun", Kind.TEXT, 36),
    Column("Debet", Kind.MONEY, 18),
    Column("Kredit", Kind.MONEY, 18),
)

STATEMENT_COLUMNS = (
    Column("Kode", Kind.TEXT, 8),
    Column("Akun", Kind.TEXT, 30),
    Column("Tanggal", Kind.DATE, 12),
    Column("No. jurnal", Kind.INTEGER, 10),
    Column("Keterangan", Kind.TEXT, 44),
    Column("Unit", Kind.TEXT, 14),
    Column("Debet", Kind.MONEY, 16),
    Column("Kredit", Kind.MONEY, 16),
    Column("Saldo", Kind.MONEY, 18),
)


def trial_balance_sheet(rows: list[TrialBalanceRow], as_of: date) -> Sheet:
    body = [
        (row.account.code, row.account.name, row.debit or None, row.credit or None) for row in rows
    ]
    last = len(body) + 1
    debits, credits = sum(r.debit for r in rows), sum(r.credit for r in rows)
    body.append(
        (
            "",
            f"Jumlah per {as_of:%d/%m/%Y}",
            Formula(f"=SUM(C2:C{last})", debits),
            Formula(f"=SUM(D2:D{last})", credits),
        )
    )
    return Sheet("Neraca saldo", TRIAL_BALANCE_COLUMNS, body)


def _statement_rows(statement: Statement):
    account = statement.account
    yield (
        account.code,
        account.name,
        statement.start,
        None,
        "Saldo awal",
        "",
        None,
        None,
        statement.opening,
    )
    for row in statement.rows:
        entry = row.entry
        text = entry.description + (f" (batal: {entry.reason})" if entry.reason else "")
        yield (
            account.code,
            account.name,
            entry.entry_date,
            entry.id,
            text,
            UNIT_WORDS.get(row.line.unit, row.line.unit),
            row.debit or None,
            row.credit or None,
            row.balance,
        )
    yield (
        account.code,
        account.name,
        statement.end,
        None,
        "Saldo akhir",
        "",
        statement.debits,
        statement.credits,
        statement.closing,
    )


def ledger_sheet(statements: list[Statement], name: str = "Buku besar") -> Sheet:
    """One sheet with every account's block: opening, lines, closing."""
    return Sheet(name, STATEMENT_COLUMNS, (row for s in statements for row in _statement_rows(s)))
