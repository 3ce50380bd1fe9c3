"""`python -m benchmarks`: build the datasets, take every measurement, print and save them.

    python -m benchmarks [--members 10000] [--years 5] [--duration 10] [--keep]

The order of a run, and why:
1. seed the main dataset (`seed_seconds`, `verify_books_seconds`) and a one-year dataset
   with the same member count (for `history_growth_ratio`);
2. with hello-world and both datasets served side by side: hello-world, the three pages
   of the main dataset, the member page of both datasets alternating (benchmarks.pages),
   hello-world again; the hello baseline is the mean of the runs before and after the
   pages, so that drift of a shared machine falls on both sides;
3. the export, then the posting measurement last, because it is the only one that writes
   (600 deposits would otherwise be part of the pages' data).
A step that fails is reported and the others still run; the exit status is 1 when any
figure could not be measured, 2 when the run could not start (e.g. no wrk), and 0
otherwise, whether or not the targets are met.

The JSON goes to BENCH_JSON (default benchmarks/last-run.json). The work folder (SQLite
files, instance folders, gunicorn logs, wrk scripts) is a temporary folder removed at the
end, unless --keep is given or something failed; the PostgreSQL databases likewise.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import datasets, machine, pages, report
from benchmarks.load import Load, WrkError, wrk_path
from benchmarks.servers import ROOT

DEFAULT_JSON = ROOT / "benchmarks" / "last-run.json"
HELLO = pages.Page("hello", ["/"], ["Hello"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--members", type=int, default=10_000, help="members of each dataset")
    parser.add_argument("--years", type=int, default=5, help="years of the main dataset (>= 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo data")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--deposits", type=int, default=300, help="deposits each way")
    parser.add_argument("--sample", type=int, default=150, help="members / groups rotated")
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and databases")
    args = parser.parse_args(argv)
    if args.years < 2:
        parser.error("--years must be 2 or more (the history is compared with one year)")
    return args


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"bench [{time.monotonic() - STARTED:6.1f} s]: {message}", file=sys.stderr, flush=True)


class Run:
    """What a run has measured so far, and what went wrong."""

    def __init__(self, args: argparse.Namespace, server: datasets.Server):
        self.args, self.server = args, server
        self.figures = report.empty_figures()
        self.absolute: dict = {"pages": {}, "floor": {}, "history": {}}
        self.datasets: dict = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def failed(self, what: str, error: BaseException) -> None:
        detail = str(error).strip() or type(error).__name__
        self.errors.append(f"{what}: {detail}")
        log(f"FAILED {what}: {detail}")
        if not isinstance(error, (datasets.DatasetError, pages.MeasurementError, WrkError)):
            traceback.print_exception(error, file=sys.stderr)

    def step(self, what: str, action) -> object:
        log(what)
        try:
            return action()
        except Exception as error:  # a failed step is reported; the others still run
            self.failed(what, error)
            return None

    @property
    def load(self) -> Load:
        return Load(self.args.duration, self.args.connections, self.args.threads)

    def result(self) -> dict:
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": self.server.kind,
            "params": {
                key: getattr(self.args, key)
                for key in ("members", "years", "seed", "duration", "connections", "threads")
            }
            | {"deposits": self.args.deposits, "sample": self.args.sample},
            "figures": self.figures,
            "targets": report.judge(self.figures),
            "absolute": self.absolute,
            "datasets": self.datasets,
            "machine": machine.describe(self.server.admin_url),
            "errors": self.errors,
            "warnings": self.warnings,
        }


def build_datasets(run: Run) -> tuple[datasets.Dataset | None, datasets.Dataset | None]:
    args = run.args
    full = _seed(run, args.years, verify=True)
    if full is not None:
        run.figures["seed_seconds"] = full.seed_seconds
        run.figures["verify_books_seconds"] = full.verify_books_seconds
        run.absolute["seed"] = {
            "members": args.members,
            "years": args.years,
            "seconds": full.seed_seconds,
            "journal_entries": full.counts.get("journal_entries"),
        }
    # Only the main dataset's verify-books is a figure.
    one_year = _seed(run, 1, verify=False)
    for key, dataset in (("full", full), ("one_year", one_year)):
        if dataset is not None:
            run.datasets[key] = {
                "name": dataset.name,
                "members_requested": dataset.members,
                "years": dataset.years,
                "seed_seconds": dataset.seed_seconds,
                "verify_books_seconds": dataset.verify_books_seconds,
                "history_members": len(dataset.history_members),
                "groups_rotated": len(dataset.groups),
                **dataset.counts,
            }
    return full, one_year


def _seed(run: Run, years: int, *, verify: bool) -> datasets.Dataset | None:
    """Seed the dataset of `years` years in its own database (None if the step failed)."""
    args = run.args
    name = f"{datasets.PREFIX}_{years}y"
    return run.step(
        f"seeding {name}: {args.members} members, {years} year{'s' if years > 1 else ''}",
        lambda: datasets.build(
            run.server,
            name,
            members=args.members,
            years=years,
            seed=args.seed,
            sample=args.sample,
            verify=verify,
        ),
    )


def measure_pages(run: Run, full, one_year) -> None:
    """Hello-world, the full dataset's pages, the member page of both datasets (ABBA),
    hello-world again; every server stays up (idle when not loaded) until the end."""
    folder, load, absolute = run.args.workdir, run.load, run.absolute
    with ExitStack() as stack:
        hello = run.step("starting hello-world", lambda: pages.start_hello(stack, folder))
        app = full and run.step(
            f"starting {full.name}", lambda: pages.start_app(stack, full, folder)
        )
        short = one_year and run.step(
            f"starting {one_year.name}", lambda: pages.start_app(stack, one_year, folder)
        )
        floor = full and run.step(
            "starting the floor's app", lambda: pages.start_floor(stack, full, folder)
        )
        hello = hello and run.step("waiting for hello-world", lambda: pages.ready(hello))
        app = app and run.step(f"logging in to {full.name}", lambda: pages.ready(app))
        short = short and run.step(f"logging in to {one_year.name}", lambda: pages.ready(short))
        floor = floor and run.step("logging in to the floor's app", lambda: pages.ready(floor))
        if hello is None:
            return
        before = run.step("hello-world", lambda: pages.measure(hello, HELLO, load))
        results = {}
        for page in pages.app_pages(full) if app else []:
            measured = run.step(
                f"{page.name} page of {full.name} ({len(page.paths)} paths)",
                lambda page=page: pages.measure(app, page, load),
            )
            if measured is not None:
                results[page.name] = measured
                absolute["pages"][page.name] = measured.as_dict() | {"paths": len(page.paths)}
        for page in pages.FLOOR_PAGES if floor else []:
            measured = run.step(
                f"floor: {page.name}", lambda page=page: pages.measure(floor, page, load)
            )
            if measured is not None:
                absolute["floor"][page.name] = measured.as_dict()
        if app and short:
            history = run.step(
                f"member page of {full.name} and {one_year.name}, alternating",
                lambda: pages.alternate(
                    (app, pages.member_page(full)), (short, pages.member_page(one_year)), load
                ),
            )
            if history is not None:
                absolute["history"] = {
                    "full": history[0].as_dict() | {"years": full.years},
                    "one_year": history[1].as_dict() | {"years": one_year.years},
                    "members_rotated": [len(full.history_members), len(one_year.history_members)],
                }
                # Time per request is 1 / (requests per second) under the same load.
                run.figures["history_growth_ratio"] = history[1].rps / history[0].rps
        after = run.step("hello-world again", lambda: pages.measure(hello, HELLO, load))
    if before is None or after is None:
        return
    hello_rps = (before.rps + after.rps) / 2
    absolute["pages"]["hello"] = {
        "rps": hello_rps,
        "before": before.as_dict(),
        "after": after.as_dict(),
    }
    for measured in absolute["floor"].values():
        measured["ratio"] = measured["rps"] / hello_rps
    for name, result in results.items():
        run.figures["page_ratio"][name] = result.rps / hello_rps
        run.figures["p99_ms"][name] = result.p99_ms


def worker(module: str, args: list[str], env: dict) -> dict:
    """Run a measuring worker (`python -m benchmarks.<module>`); returns its JSON."""
    finished = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} exited {finished.returncode}:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def measure_export(run: Run, full) -> None:
    repeat = ["--repeat", str(run.args.export_repeat)]
    app = run.step(
        "export: write_member_list", lambda: worker("export", ["app", *repeat], full.env)
    )
    raw = run.step("export: raw xlsxwriter", lambda: worker("export", ["raw", *repeat], full.env))
    run.absolute["export"] = {"app": app, "raw": raw}
    if app is not None:
        run.figures["export_peak_rss_mb"] = app["peak_rss_mb"]
    if app is not None and raw is not None:
        if app["cells"] != raw["cells"]:
            run.failed("export", RuntimeError("the app and raw exports wrote different cells"))
            return
        run.figures["export_ratio"] = app["cells_per_s"] / raw["cells_per_s"]


def measure_posting(run: Run, full) -> None:
    deposits = ["--deposits", str(run.args.deposits)]
    posting = run.step(
        f"posting: {run.args.deposits} deposits by service and by raw SQL",
        lambda: worker("posting", deposits, full.env),
    )
    if posting is None:
        return
    # The raw SQL must write every row post_entry writes, or the books stop adding up.
    verified = run.step("verify-books after the posting runs", lambda: verify_after(full))
    run.absolute["posting"] = posting
    if verified:
        run.figures["posting_ratio"] = posting["posting_ratio"]


def verify_after(dataset) -> bool:
    try:
        datasets.flask(["verify-books"], dataset.env)
    except datasets.DatasetError as error:
        raise datasets.DatasetError(
            "the books do not verify after the posting runs: benchmarks/posting.py's raw SQL "
            f"must write what ledger.services.post_entry writes.\n{error}"
        ) from None
    return True


def execute(run: Run) -> None:
    full, one_year = build_datasets(run)
    measure_pages(run, full, one_year)
    if full is None:
        run.errors.append("export and posting not measured: the main dataset was not built")
        return
    measure_export(run, full)
    measure_posting(run, full)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # so that servers and folders are cleaned up
    json_path = Path(os.environ.get("BENCH_JSON") or DEFAULT_JSON)
    try:
        wrk_path()
    except WrkError as error:
        log(str(error))
        return 2
    temporary = args.workdir is None
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="coop-bench-"))).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        server = datasets.Server.from_environment(args.workdir)
    except datasets.DatasetError as error:
        log(str(error))
        return 2
    run = Run(args, server)
    started = time.perf_counter()
    try:
        execute(run)
    finally:
        keep = args.keep or bool(run.errors)
        if not keep:
            for name in (f"{datasets.PREFIX}_{args.years}y", f"{datasets.PREFIX}_1y"):
                server.drop_database(name)
            if temporary:
                shutil.rmtree(args.workdir, ignore_errors=True)
        else:
            log(f"kept the work folder {args.workdir}")
    result = run.result()
    result["seconds"] = round(time.perf_counter() - started, 1)
    report.write_json(json_path, result)
    print(report.table(result))
    print(f"\nJSON: {json_path}")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
