"""export_ratio and export_peak_rss_mb: the member-list export against raw xlsxwriter.

Run as a worker process (`python -m benchmarks.export app|raw`, with the app's environment
from benchmarks.datasets); prints one JSON object. Each side runs in a process of its own
that does nothing else, so `resource.getrusage` gives the peak RSS of that export alone
(with Python, Flask and the app imported), not of the harness.

- app: `members.exporting.write_member_list` to a file, as the export view and the
  `flask export-members` command do (query, rows streamed in batches, the one spreadsheet
  helper);
- raw: the very same cells (the rows `write_member_list` would write, read into memory
  beforehand, untimed) written with plain xlsxwriter `write_row`, with the same workbook
  options (constant memory, no formulas, numbers or URLs from strings): the ceiling.
Cells are members x columns (the header row not counted). Each side writes the workbook
`--repeat` times and keeps its fastest run (the first one also warms the caches).
"""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import xlsxwriter

from coop_app import create_app
from coop_app.extensions import db
from coop_app.members import exporting
from coop_app.members.queries import member_list_query

RAW_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": "dd/mm/yyyy",
}


def export_app(path: Path) -> int:
    return exporting.write_member_list(str(path)) * len(exporting.MEMBER_COLUMNS)


def read_cells() -> list[tuple]:
    query = member_list_query(by_nik=True)
    return [exporting._member_row(member) for member in db.session.execute(query).scalars()]


def export_raw(path: Path, rows: list[tuple]) -> int:
    workbook = xlsxwriter.Workbook(str(path), RAW_OPTIONS)
    sheet = workbook.add_worksheet(exporting.SHEET_NAME)
    sheet.write_row(0, 0, [column.header for column in exporting.MEMBER_COLUMNS])
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    workbook.close()
    return len(rows) * len(exporting.MEMBER_COLUMNS)


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(side: str, repeat: int) -> dict:
    rows = read_cells() if side == "raw" else None
    best, cells = float("inf"), 0
    with tempfile.TemporaryDirectory(prefix="coop-bench-export-") as folder:
        path = Path(folder) / "members.xlsx"
        for _ in range(repeat):
            started = time.perf_counter()
            cells = export_raw(path, rows) if rows is not None else export_app(path)
            best = min(best, time.perf_counter() - started)
            size = path.stat().st_size
            db.session.rollback()
    return {
        "side": side,
        "cells": cells,
        "seconds": best,
        "cells_per_s": cells / best,
        "bytes": size,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=["app", "raw"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = measure(args.side, args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
