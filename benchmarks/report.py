"""The targets, the printed table and the JSON file of a run.

Every figure is a ratio against a baseline measured in the same run (or an absolute time
or size where QUALITY.md sets one), printed beside the numbers it was computed from. A
miss is reported, not a failure: the harness fails only when a figure could not be
measured (it is then None in the JSON and ERROR in the table).
"""

import json
import operator
from dataclasses import dataclass
from pathlib import Path

PAGES = ("member", "collection_sheet", "trial_balance")


@dataclass(frozen=True)
class Target:
    #: Path into `figures`, e.g. "page_ratio.member".
    figure: str
    comparison: str
    bound: float

    def passes(self, value: float) -> bool:
        compare = operator.ge if self.comparison == ">=" else operator.le
        return compare(value, self.bound)

    @property
    def text(self) -> str:
        return f"{self.comparison} {self.bound:g}"


TARGETS = (
    Target("posting_ratio", ">=", 0.25),
    *(Target(f"page_ratio.{page}", ">=", 0.25) for page in PAGES),
    *(Target(f"p99_ms.{page}", "<=", 100) for page in PAGES),
    Target("history_growth_ratio", "<=", 1.3),
    Target("export_ratio", ">=", 0.6),
    Target("export_peak_rss_mb", "<=", 300),
    Target("seed_seconds", "<=", 180),
)

#: Every figure of the JSON, in the table's order (verify_books_seconds has no target).
FIGURES = (
    "posting_ratio",
    *(f"page_ratio.{page}" for page in PAGES),
    *(f"p99_ms.{page}" for page in PAGES),
    "history_growth_ratio",
    "export_ratio",
    "export_peak_rss_mb",
    "seed_seconds",
    "verify_books_seconds",
)


#: The floor's pages (benchmarks.floor), in the order the report names them.
FLOOR = ("logged_in_empty", "layout_only")


def empty_figures() -> dict:
    figures = {name: None for name in FIGURES if "." not in name}
    figures["page_ratio"] = dict.fromkeys(PAGES)
    figures["p99_ms"] = dict.fromkeys(PAGES)
    return figures


def lookup(tree: dict, dotted: str):
    value = tree
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def judge(figures: dict) -> dict:
    """Each target with its value and whether it passes (None when not measured)."""
    judged = {}
    for target in TARGETS:
        value = lookup(figures, target.figure)
        judged[target.figure] = {
            "target": target.text,
            "value": value,
            "pass": None if value is None else target.passes(value),
        }
    return judged


def _number(value) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _count(value) -> str:
    return "n/a" if value is None else f"{value:,}"


def _rate(value) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _beside(figure: str, absolute: dict) -> str:
    """The measured numbers a figure was computed from."""
    get = lambda dotted: lookup(absolute, dotted)  # noqa: E731
    if figure == "posting_ratio":
        return (
            f"service {_rate(get('posting.service_deposits_per_s'))} deposits/s"
            f" / raw SQL {_rate(get('posting.raw_deposits_per_s'))} deposits/s"
        )
    if figure.startswith("page_ratio."):
        page = figure.split(".", 1)[1]
        return f"{_rate(get(f'pages.{page}.rps'))} req/s / hello {_rate(get('pages.hello.rps'))}"
    if figure.startswith("p99_ms."):
        page = figure.split(".", 1)[1]
        return (
            f"p50 {_number(get(f'pages.{page}.p50_ms'))} ms,"
            f" mean {_number(get(f'pages.{page}.mean_ms'))} ms"
        )
    if figure == "history_growth_ratio":
        return (
            f"full {_rate(get('history.full.rps'))} req/s"
            f" / 1 year {_rate(get('history.one_year.rps'))} req/s"
        )
    if figure == "export_ratio":
        return (
            f"app {_rate(get('export.app.cells_per_s'))} cells/s"
            f" / raw {_rate(get('export.raw.cells_per_s'))} cells/s"
            f" ({_count(get('export.app.cells'))} cells)"
        )
    if figure == "export_peak_rss_mb":
        return f"raw xlsxwriter process {_number(get('export.raw.peak_rss_mb'))} MB"
    if figure == "seed_seconds":
        return (
            f"{_count(get('seed.members'))} members, {get('seed.years')} years:"
            f" {_count(get('seed.journal_entries'))} journal entries"
        )
    return ""


def table(result: dict) -> str:
    """The run as a table: figure, value, target, pass/miss, and what it was computed from."""
    judged = result["targets"]
    params, machine = result["params"], result["machine"]
    head = (
        f"coop_app benchmark on {result['database']}: {params['members']} members, "
        f"{params['years']} years, wrk -t{params['threads']} -c{params['connections']} "
        f"-d{params['duration']}s; {machine['cpu_model']}, {machine['cores']} cores, "
        f"git {(machine['git']['commit'] or 'unknown')[:10]}"
    )
    rows = [("figure", "value", "target", "result", "measured")]
    for figure in FIGURES:
        value = lookup(result["figures"], figure)
        target = judged.get(figure)
        if value is None:
            verdict = "ERROR"
        elif target is None:
            verdict = "-"
        else:
            verdict = "pass" if target["pass"] else "miss"
        rows.append(
            (
                figure,
                _number(value),
                target["target"] if target else "-",
                verdict,
                _beside(figure, result["absolute"]),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [head, ""]
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(row[i].rjust(widths[i]) for i in (1, 2, 3)), row[4]]
        lines.append("  ".join(cells).rstrip())
    hello = lookup(result["absolute"], "pages.hello")
    if hello:
        lines.append(
            f"\nhello-world: {_rate(hello['before']['rps'])} req/s before the pages,"
            f" {_rate(hello['after']['rps'])} after (the baseline is their mean)"
        )
    floor = lookup(result["absolute"], "floor") or {}
    if all("ratio" in floor.get(name, {}) for name in FLOOR):
        empty, layout = (floor[name] for name in FLOOR)
        lines.append(
            "floor (no page can do better): a logged-in request that draws nothing"
            f" {_rate(empty['rps'])} req/s (ratio {_number(empty['ratio'])}), an empty page"
            f" in the layout {_rate(layout['rps'])} req/s (ratio {_number(layout['ratio'])})"
        )
    history = lookup(result["absolute"], "history.full.runs_rps")
    if history:
        short = lookup(result["absolute"], "history.one_year.runs_rps")
        lines.append(
            "member page, alternating: full "
            + ", ".join(_rate(rps) for rps in history)
            + " req/s; 1 year "
            + ", ".join(_rate(rps) for rps in short)
            + " req/s"
        )
    for note in result.get("warnings", []):
        lines.append(f"warning: {note}")
    for error in result.get("errors", []):
        lines.append(f"ERROR: {error}")
    return "\n".join(lines)


def write_json(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=False, default=str) + "\n")
