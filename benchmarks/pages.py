"""page_ratio, p99_ms and history_growth_ratio: pages under wrk load against hello-world.

The pages, each measured with a wrk script that rotates through its paths:
- member: `/members/<id>` of the dataset's history members (the active members who
  joined first, so the longest histories; benchmarks.datasets);
- collection_sheet: `/savings/collection/<group_id>` of the groups with active members
  (this month's sheet, as the treasurer opens it);
- trial_balance: `/books/` (as of today).

Before any load, each app server is logged in to as the demo treasurer (through the login
form and its CSRF token) and a spread of each page's paths is fetched once: each must
answer 200 with its own content (the member's number, the group's name, the cash
account's code), so that a redirect to the login form can never pass as a fast page.
Every measurement is preceded by a short warm-up run of the same script, not counted.

All servers (hello-world, the full dataset, the one-year dataset) run side by side, idle
unless loaded, so that runs can alternate: hello-world is measured before and after the
pages (page_ratio uses the mean), and the member pages of the two datasets in the order
full, one year, one year, full, each for half the duration (ABBA), so that drift of a
shared machine falls on both alike. history_growth_ratio is the member page's time per
request (1 / requests per second under the same load) with the full history over that
with one year, each dataset rotating through its own history members: members saving
since the start of the history, so five years of it in one and one year in the other.
"""

import os
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.datasets import BENCH_USER, Dataset
from benchmarks.load import Load, WrkResult, run_wrk, write_script
from benchmarks.servers import ROOT, Client, Server, gunicorn

#: Paths fetched and checked one by one before the load, per page.
CHECKED_PATHS = 8


class MeasurementError(RuntimeError):
    """A run could not be measured (an error status, a socket error, a wrong page)."""


@dataclass(frozen=True)
class Page:
    name: str
    paths: list[str]
    #: What each path's page must contain.
    markers: list[str]

    def spread(self, count: int) -> list[tuple[str, str]]:
        """Up to `count` paths from all over the list, with their markers."""
        step = max(1, len(self.paths) // count)
        return list(zip(self.paths, self.markers, strict=True))[::step][:count]


def member_page(dataset: Dataset) -> Page:
    return Page(
        "member",
        [f"/members/{member_id}" for member_id, _ in dataset.history_members],
        [number for _, number in dataset.history_members],
    )


#: What the floor's empty layout page shows of its own (so that a login form cannot pass).
LAYOUT_MARKER = "bench-floor"
#: The floor's pages (benchmarks.floor), each with what only it shows.
FLOOR_PAGES = (
    Page("logged_in_empty", ["/_bench/empty"], ["ok"]),
    Page("layout_only", ["/_bench/layout"], [LAYOUT_MARKER]),
)


def app_pages(dataset: Dataset) -> list[Page]:
    return [
        member_page(dataset),
        Page(
            "collection_sheet",
            [f"/savings/collection/{group_id}" for group_id, _ in dataset.groups],
            [name for _, name in dataset.groups],
        ),
        Page("trial_balance", ["/books/"], [dataset.cash_code]),
    ]


@dataclass(frozen=True)
class Served:
    """A server under test: the server, its dataset (None for hello-world), the session
    cookie once logged in, and the folder for its wrk scripts."""

    name: str
    server: Server
    folder: Path
    dataset: Dataset | None = None
    client: Client | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def cookie(self) -> str:
        return self.client.cookie_header if self.client else ""

    def script(self, page: Page) -> Path:
        return write_script(self.folder / f"{self.name}-{page.name}.lua", page.paths)

    def check(self, page: Page) -> None:
        if self.client is None:
            raise MeasurementError(f"{self.name} has no logged-in client")
        for path, marker in page.spread(CHECKED_PATHS):
            self.client.check_page(path, marker)


def start_hello(stack: ExitStack, folder: Path) -> Served:
    """Start the hello-world server (`ready` waits for it)."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    log = folder / "hello-gunicorn.log"
    server = stack.enter_context(gunicorn("benchmarks.hello:app", env=env, log=log))
    return Served("hello", server, folder)


def start_app(
    stack: ExitStack, dataset: Dataset, folder: Path, *, module: str = "wsgi:app", name: str = ""
) -> Served:
    """Start the app (or `module`, e.g. the floor's) on `dataset` (`ready` waits for it
    and logs in)."""
    name = name or dataset.name
    log = folder / f"{name}-gunicorn.log"
    server = stack.enter_context(gunicorn(module, env=dataset.env, log=log, ready_path="/health/"))
    return Served(name, server, folder, dataset)


def start_floor(stack: ExitStack, dataset: Dataset, folder: Path) -> Served:
    """Start the floor's app (benchmarks.floor) on `dataset`."""
    return start_app(stack, dataset, folder, module="benchmarks.floor:app", name="floor")


def ready(served: Served) -> Served:
    """Wait for the server; for the app, log in as the demo treasurer."""
    served.server.wait_ready()
    if served.dataset is None:
        return served
    client = Client.new(served.url)
    client.log_in(BENCH_USER, served.dataset.password())
    return replace(served, client=client)


def _checked(result: WrkResult) -> WrkResult:
    if result.problems:
        raise MeasurementError("; ".join(result.problems))
    return result


def _warm(served: Served, script: Path, load: Load, seconds: float = 3.0) -> None:
    seconds = min(seconds, load.duration)
    run_wrk(served.url, script, load, seconds=seconds, cookie=served.cookie)


def measure(served: Served, page: Page, load: Load) -> WrkResult:
    """Check the page, warm up, and measure it for the load's duration."""
    if served.client is not None:
        served.check(page)
    script = served.script(page)
    _warm(served, script, load)
    return _checked(run_wrk(served.url, script, load, cookie=served.cookie))


def merge(results: list[WrkResult]) -> WrkResult:
    """Runs of one page as one: requests per second over all of them, the mean latency
    weighted by requests, and the worst run's percentiles."""
    requests = sum(result.requests for result in results)
    seconds = sum(result.seconds for result in results)
    return replace(
        results[0],
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        mean_ms=sum(r.mean_ms * r.requests for r in results) / max(requests, 1),
        p50_ms=max(result.p50_ms for result in results),
        p99_ms=max(result.p99_ms for result in results),
        non_2xx=sum(result.non_2xx for result in results),
        socket_errors=sum(result.socket_errors for result in results),
        runs_rps=tuple(result.rps for result in results),
    )


def alternate(first: tuple[Served, Page], second: tuple[Served, Page], load: Load):
    """A page on each of two servers, measured in the order first, second, second, first,
    each run half the duration; returns the merged results of the first and the second."""
    scripts = []
    half = max(1.0, load.duration / 2)
    for served, page in (first, second):
        served.check(page)
        scripts.append((served, served.script(page)))
        # As long as a measured run: one server may have served other pages meanwhile.
        _warm(served, scripts[-1][1], load, seconds=half)
    runs: list[list[WrkResult]] = [[], []]
    for index in (0, 1, 1, 0):
        served, script = scripts[index]
        result = run_wrk(served.url, script, load, seconds=half, cookie=served.cookie)
        runs[index].append(_checked(result))
    return merge(runs[0]), merge(runs[1])
