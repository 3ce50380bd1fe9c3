"""The mandatory-savings arrears list as a workbook (headers fixed in Indonesian)."""

from datetime import date

from coop_app.savings.queries import Arrears
from coop_app.spreadsheets import Column, Formula, Kind, Sheet

ARREARS_COLUMNS = (
    Column("Desa", Kind.TEXT, 16),
    Column("Kelompok", Kind.TEXT, 16),
    Column("Nomor anggota", Kind.TEXT, 14),
    Column("Nama", Kind.TEXT, 28),
    Column("Bulan wajib", Kind.INTEGER, 11),
    Column("Sudah dibayar", Kind.MONEY, 16),
    Column("Bulan tunggakan", Kind.INTEGER, 14),
    Column("Tunggakan (Rp)", Kind.MONEY, 16),
)


def arrears_sheet(rows: list[Arrears], as_of: date) -> Sheet:
    body = [
        (
            row.member.village.name,
            row.member.group.name if row.member.group else "",
            row.member.number,
            row.member.name,
            row.months_due,
            row.paid,
            row.months,
            row.rupiah,
        )
        for row in rows
    ]
    last = len(body) + 1
    body.append(
        (
            f"Jumlah per {as_of:%d/%m/%Y}",
            "",
            "",
            f"{len(rows)} anggota",
            None,
            None,
            Formula(f"=SUM(G2:G{last})", sum(row.months for row in rows)),
            Formula(f"=SUM(H2:H{last})", sum(row.rupiah for row in rows)),
        )
    )
    return Sheet("Tunggakan wajib", ARREARS_COLUMNS, body)
