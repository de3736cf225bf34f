"""Charts drawn on the server as SVG: no script, no chart library, nothing fetched from
elsewhere, so the statistics pages render offline and show the same thing in every browser.

Charts take protected counts (`domain/disclosure.py`): a hidden count arrives as the text it
reads as ("<10", "×"), never its value, and is drawn as a hatched marker of one fixed size. Colour is never the only signal: every chart has a legend in words, in the order the
segments are stacked, each segment has a tooltip naming its series and count, and segments wide
enough carry their count. The caller passes every word already translated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from healthcode.domain.disclosure import Count

WIDTH = 320  # viewBox units: about a phone's width, so text is drawn near its real size
FONT = 9
MARKER = 5  # a hidden count's marker: its height in a day chart, its width in a bar chart
GUTTER = 28  # left of a day chart: the scale's labels
HATCH = "#6b6b6b"

# Okabe & Ito's palette, told apart with the common kinds of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


@dataclass(frozen=True)
class Series:
    key: str  # also the segments' class, "bar-<key>"
    label: str  # shown in the legend and the tooltips
    fill: str  # "#rrggbb"


def text_width(text: str, size: float = FONT) -> float:
    """A text's width, estimated: wide (CJK) characters take a full em, others about half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.56 for ch in text)


def ink_on(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill``."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#1a1a1a" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def day_bars(
    chart_id: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    values: Mapping[str, Sequence[Count]],
    hidden: str,
    *,
    height: int = 90,
) -> Markup:
    """One column per day, its series stacked from the bottom in the order given."""
    chart_id = str(escape(chart_id))  # it names a city: data, so escaped like any text
    any_hidden = any(_hidden(n) for s in series for n in values[s.key])
    legend, legend_height = _legend(chart_id, series, hidden if any_hidden else None, top=0)
    top = legend_height + FONT + 4  # room for the scale's top label
    slot = (WIDTH - GUTTER) / max(1, len(days))
    hidden_per_day = [sum(_hidden(values[s.key][n]) for s in series) for n in range(len(days))]
    peak = max((sum(_drawn(values[s.key][n]) for s in series) for n in range(len(days))), default=0)
    scale = (height - MARKER * max(hidden_per_day, default=0)) / peak if peak else 0.0
    parts = [*legend, _scale_line(top, peak, above=True), _scale_line(top + height, 0)]
    for n, day in enumerate(days):
        x = GUTTER + n * slot + slot * 0.12
        y = top + height
        for s in series:
            count = values[s.key][n]
            size = MARKER if _hidden(count) else _drawn(count) * scale
            if size <= 0:
                continue
            y -= size
            tip = f"{day.isoformat()} · {s.label}: {count}"
            parts.append(_rect(chart_id, s, count, x, y, slot * 0.76, size, tip))
        if (len(days) - 1 - n) % 7 == 0:  # a week apart, counted back from today
            last = n == len(days) - 1
            label_x, anchor = (WIDTH, "end") if last else (GUTTER + (n + 0.5) * slot, "middle")
            parts.append(
                _text(label_x, top + height + FONT + 2, day.strftime("%m-%d"), size=FONT - 1,
                      anchor=anchor)
            )  # fmt: skip
    return _svg(chart_id, title, top + height + FONT + 4, parts)


def bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[Count]]],
    series: Sequence[Series],
    hidden: str,
) -> Markup:
    """One labelled horizontal bar per row, its series stacked left to right."""
    chart_id = str(escape(chart_id))
    any_hidden = any(_hidden(n) for _, counts in rows for n in counts)
    legend, y = _legend(chart_id, series, hidden if any_hidden else None, top=0)
    peak = max((sum(_drawn(n) for n in counts) for _, counts in rows), default=0)
    most_hidden = max((sum(_hidden(n) for n in counts) for _, counts in rows), default=0)
    scale = (WIDTH - MARKER * most_hidden) / peak if peak else 0.0
    parts = list(legend)
    for label, counts in rows:
        parts.append(_text(0, y + FONT, _fit(label)))
        x, y = 0.0, y + FONT + 3
        for s, count in zip(series, counts, strict=True):
            size = MARKER if _hidden(count) else _drawn(count) * scale
            if size <= 0:
                continue
            tip = f"{label} · {s.label}: {count}"
            parts.append(_rect(chart_id, s, count, x, y, size, 12, tip))
            if not _hidden(count) and text_width(str(count)) + 4 <= size:
                parts.append(_text(x + 2, y + FONT + 0.5, str(count), fill=ink_on(s.fill)))
            x += size
        y += 12 + 6
    return _svg(chart_id, title, y, parts)


def note(chart_id: str, title: str, text: str) -> Markup:
    """A chart with nothing to draw yet: one line saying so, at a chart's width."""
    return _svg(str(escape(chart_id)), title, FONT + 6, [_text(0, FONT + 1, text)])


def _hidden(count: Count) -> bool:
    return isinstance(count, str)


def _drawn(count: Count) -> int:
    """The size a count is drawn at: hidden ones are not drawn to scale at all."""
    return 0 if isinstance(count, str) else count


def _fit(label: str, width: float = WIDTH) -> str:
    """A label cut to the chart's width (the table beside the chart has it in full)."""
    while text_width(label) > width and len(label) > 1:
        label = label[:-2] + "…"
    return label


def _legend(
    chart_id: str, series: Sequence[Series], hidden: str | None, *, top: float
) -> tuple[list[str], float]:
    """The series in words, in stacking order, then the hidden marker when the chart has one;
    wrapped to the width."""
    parts, x, y = [], 0.0, top
    entries = [(_fit(s.label, WIDTH - 22), f'fill="{s.fill}"') for s in series]
    if hidden is not None:
        entries.append(
            (_fit(hidden, WIDTH - 22), f'fill="url(#{chart_id}-hatch)" stroke="{HATCH}"')
        )
    for label, paint in entries:
        width = 12 + text_width(label) + 10
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + FONT + 5
        parts.append(f'<rect x="{x:.1f}" y="{y + 1:.1f}" width="9" height="9" {paint}/>')
        parts.append(_text(x + 12, y + FONT, label))
        x += width
    parts.insert(0, '<g class="legend">')
    parts.append("</g>")
    return parts, y + FONT + 8


def _rect(
    chart_id: str, s: Series, count: Count, x: float, y: float, w: float, h: float, tip: str
) -> str:
    if _hidden(count):
        paint, kind = f'fill="url(#{chart_id}-hatch)" stroke="{HATCH}" stroke-width="0.6"', "hidden"
    else:
        paint, kind = f'fill="{s.fill}"', f"bar-{escape(s.key)}"
    return (
        f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" {paint}>'
        f"<title>{escape(tip)}</title></rect>"
    )


def _scale_line(y: float, value: int, *, above: bool = False) -> str:
    """A scale line with its value: in the gutter, or above the line (the peak may have more
    digits than the gutter holds, and above the line nothing is drawn)."""
    line = f'<line x1="{GUTTER}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
    return line + _text(0, y - 2 if above else y + 3, str(value), size=FONT - 1)


def _text(
    x: float, y: float, text: str, *, size: float = FONT, fill: str = "#1a1a1a",
    anchor: str = "start",
) -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _svg(chart_id: str, title: str, height: float, parts: list[str]) -> Markup:
    hatch = (
        f'<pattern id="{chart_id}-hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="4" height="4" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="4" stroke="{HATCH}" stroke-width="1.5"/></pattern>'
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-labelledby="{chart_id}-title" '
        f'font-family="system-ui, sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title><defs>{hatch}</defs>'
    )
    return Markup(head + "".join(parts) + "</svg>")
