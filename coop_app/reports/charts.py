"""Horizontal bar charts as inline SVG, drawn on the server: no script, no CDN, no CSS.

The CSP (`default-src 'self'`) forbids inline styles and scripts, so the SVG uses only
presentation attributes (x=, width=, fill=, font-size=...). It scales to its container
(viewBox and width 100%): drawn 340 units wide, its text is about 15px on a 390px phone,
and the page keeps it in a column of similar width on larger screens.
Every text is escaped; each chart carries a <title> and an aria-label for screen readers.
"""

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 340
LABEL_SIZE, NOTE_SIZE = 15, 14
#: Generous average character widths at LABEL_SIZE and NOTE_SIZE (wide fonts: DejaVu Sans).
CHAR_WIDTH, NOTE_CHAR_WIDTH = 9.5, 8
BAR_HEIGHT = 16
#: Labels up to this many characters sit left of their bar; longer ones go above it.
SHORT_LABEL = 16
#: Longer labels are cut with an ellipsis (the table beside the chart has them whole).
LABEL_MAX = 36
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, BAR, TRACK = "#212529", "#15803d", "#e9ecef"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    #: What is written after the bar, e.g. "123 · 45,6%".
    note: str


def _text(x: float, y: float, content: str, *, size: int, anchor: str = "start") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(content)}</text>'
    )


def _bar(x: float, y: float, bar: Bar, top: int, note_room: float) -> str:
    """The bar on its grey track, and its note right-aligned after the track."""
    full = WIDTH - note_room - x
    length = full * bar.value / top
    if bar.value and length < 2:
        length = 2  # a category with members never looks empty
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{full:g}" height="{BAR_HEIGHT}" fill="{TRACK}"/>'
        f'<rect x="{x:g}" y="{y:g}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{BAR}"/>'
        + _text(WIDTH, y + BAR_HEIGHT - 3, bar.note, size=NOTE_SIZE, anchor="end")
    )


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def _drawing(bars: list[Bar], top: int) -> tuple[list[str], int]:
    """The parts of the drawing and its height."""
    longest = max(len(bar.label) for bar in bars)
    note_room = 8 + NOTE_CHAR_WIDTH * max(len(bar.note) for bar in bars)
    if longest <= SHORT_LABEL:
        # Short labels (years, sexes, statuses): label, bar and note on one line.
        room, row = 12 + CHAR_WIDTH * longest, 28
        parts = [
            _text(room - 6, 4 + row * i + 15, bar.label, size=LABEL_SIZE, anchor="end")
            + _bar(room, 4 + row * i + 3, bar, top, note_room)
            for i, bar in enumerate(bars)
        ]
    else:
        # Long labels (villages, countries, sectors): each label above its bar.
        row = 44
        parts = [
            _text(0, 4 + row * i + 15, _shorten(bar.label), size=LABEL_SIZE)
            + _bar(0, 4 + row * i + 21, bar, top, note_room)
            for i, bar in enumerate(bars)
        ]
    return parts, row * len(bars) + 6


def bar_chart(title: str, bars: list[Bar], *, empty: str) -> Markup:
    """An accessible SVG bar chart of `bars`; `empty` is written when nothing is counted."""
    top = max((bar.value for bar in bars), default=0)
    if top == 0:
        parts, height = [_text(0, 20, empty, size=LABEL_SIZE)], 32
    else:
        parts, height = _drawing(bars, top)
    label = escape(title)
    # Safe: every text and attribute value above went through escape().
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{label}" font-family="{escape(FONT)}" '
        f'class="d-block"><title>{label}</title>{"".join(parts)}</svg>'
    )
