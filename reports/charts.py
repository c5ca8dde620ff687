"""Charts as SVG, drawn on the server: the same markup on the page and in the PDF (WeasyPrint draws
inline SVG), with no JavaScript and nothing loaded from elsewhere.

Drawn here rather than by pygal (used at first) because the charts must read on a phone 390 px wide
and on A4 alike, and pygal's output fought both: its funnel is a symmetric diamond around a negative
axis, its fonts are sized for a 640-px canvas (6 px on a phone), and every chart repeats element ids
(`activate-serie-0`) and a generation date, so two charts on a page made invalid HTML and the markup
changed on every render. Here the canvas is narrow (`WIDTH` units), so its text stays legible when
the `viewBox` is scaled to the column width; the title is the figure's caption in the page, not
part of the drawing, so it wraps like any text.

Every text is escaped; charts with nothing to draw (no labels, no series, every value empty) say so
instead of drawing empty axes; all-zero data is drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from django.utils.html import escape
from django.utils.translation import gettext as _

from reports.document import Chart

WIDTH = 420  # the canvas width in SVG units; pages scale it to their column
FONT = 15  # labels
SMALL = 13  # values, ticks, notes
FONT_FAMILY = "'Noto Sans CJK SC', sans-serif"  # Simplified Chinese glyphs, as the PDF's text
TEXT = "#212529"  # Bootstrap's body colour, as on the page
MUTED = "#6c757d"
GRID = "#e9ecef"
AXIS = "#adb5bd"
# The site's red (the navbar is Bootstrap's bg-danger) first, then Bootstrap's other strong colours,
# chosen to stay apart when printed in grey.
COLOURS = ("#dc3545", "#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#ffc107")
# A bar chart with more categories than this, or labels too long to share the width, is drawn
# with horizontal bars: the labels then get a column of their own instead of colliding.
MAX_COLUMNS = 6

Number = int | float


def render_svg(chart: Chart) -> str:
    """The chart as an inline <svg> element."""
    if not _has_data(chart):
        return _empty(chart)
    if chart.kind == "funnel":
        return _funnel(chart)
    if chart.kind == "pie":
        return _pie(chart)
    if chart.kind == "line":
        return _line(chart)
    stacked = chart.kind == "stacked"
    if chart.kind == "hbar" or not _columns_fit(chart):
        return _horizontal_bars(chart, stacked=stacked)
    return _vertical_bars(chart, stacked=stacked)


# Text ------------------------------------------------------------------------------------------


def text_width(text: str, size: float) -> float:
    """An estimate of the drawn width: CJK characters are a full em, Latin letters and digits about
    0.6 em. Enough to lay out labels without a font engine."""
    return size * sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in text)


def _fit(text: str, width: float, size: float) -> str:
    """The text, shortened with an ellipsis to fit the width."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, width: float, size: float, lines: int = 2) -> list[str]:
    """The text broken into at most `lines` lines of the width (at any character: Chinese has no
    spaces to break at), the last one shortened if it still does not fit."""
    if text_width(text, size) <= width:
        return [text]
    half = (len(text) + 1) // 2
    if lines == 2 and text_width(text[:half], size) <= width and text_width(text[half:], size) <= width:
        return [text[:half], text[half:]]  # two even lines read better than a full one and a stub
    result: list[str] = []
    rest = text
    while rest and len(result) < lines - 1:
        cut = len(rest)
        while cut > 1 and text_width(rest[:cut], size) > width:
            cut -= 1
        result.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        result.append(_fit(rest, width, size))
    return result


def _fmt(value: Number | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(int(value))


def _text(
    x: float, y: float, text: str, *, size: float = FONT, anchor: str = "start", fill: str = TEXT, **attrs
) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _label(x: float, y: float, shown: str, full: str, **kwargs) -> str:
    """A label, with the full text as its tooltip when it had to be shortened."""
    text = _text(x, y, shown, **kwargs)
    if shown != full:
        text = text.replace("</text>", f"<title>{escape(full)}</title></text>")
    return text


def _svg(chart: Chart, height: float, body: Iterable[str]) -> str:
    # No width or height: the page's CSS makes it as wide as its column, the viewBox keeps the shape.
    # The font is named on the root: WeasyPrint does not inherit the page's into an SVG, and its own
    # default CJK fallback draws Chinese in the Japanese glyph forms.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'font-family="{FONT_FAMILY}" '
        f'role="img" aria-label="{escape(chart.title)}" data-kind="{escape(chart.kind)}">'
        f"<title>{escape(chart.title)}</title>{''.join(body)}</svg>"
    )


# Data ------------------------------------------------------------------------------------------


def _values(chart: Chart) -> list[Number]:
    return [v for series in chart.series for v in series.values if v is not None]


def _has_data(chart: Chart) -> bool:
    if not chart.labels or not chart.series:
        return False
    values = _values(chart)
    if not values:
        return False
    # A pie of nothing has no slices to draw; other kinds show their zeros.
    return chart.kind != "pie" or any(v > 0 for v in chart.series[0].values if v is not None)


def _value(chart: Chart, series: int, index: int) -> Number | None:
    values = chart.series[series].values
    return values[index] if index < len(values) else None


def _empty(chart: Chart) -> str:
    return _svg(chart, 48, [_text(WIDTH / 2, 29, _("No data for this period."), anchor="middle", fill=MUTED)])


@dataclass
class _Scale:
    """A value axis: nice round ticks covering the data, zero always included."""

    low: float
    high: float
    ticks: list[float]

    @classmethod
    def of(cls, values: Iterable[Number], count: int = 4) -> _Scale:
        values = list(values)
        low, high = min([0, *values]), max([0, *values])
        if low == high:
            high = low + 1
        raw = (high - low) / count
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        if all(isinstance(v, int) for v in values):
            step = max(1, round(step))  # counts: no tick at 0.5 people
        low = math.floor(low / step) * step
        high = math.ceil(high / step) * step
        ticks = [low + i * step for i in range(round((high - low) / step) + 1)]
        return cls(low, high, ticks)

    def at(self, value: float, start: float, length: float) -> float:
        return start + (value - self.low) / (self.high - self.low) * length


def _legend(chart: Chart, y: float, left: float = 0) -> tuple[list[str], float]:
    """Swatches and names in rows across the width; returns the parts and the height used."""
    if len(chart.series) < 2:
        return [], 0
    parts: list[str] = []
    x, row = left, 0
    for i, series in enumerate(chart.series):
        name = _fit(series.name, WIDTH - left - 20, SMALL)
        width = 18 + text_width(name, SMALL) + 14
        if x + width > WIDTH and x > left:
            x, row = left, row + 1
        top = y + row * 20
        parts.append(f'<rect x="{x:.1f}" y="{top + 3:.1f}" width="12" height="12" rx="2" fill="{_colour(i)}"/>')
        parts.append(_text(x + 17, top + 13.5, name, size=SMALL))
        x += width
    return parts, (row + 1) * 20


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


# Bars ------------------------------------------------------------------------------------------


def _columns_fit(chart: Chart) -> bool:
    if len(chart.labels) > MAX_COLUMNS:
        return False
    band = (WIDTH - 50) / len(chart.labels)
    return all(text_width(label, SMALL) <= 2 * (band - 6) for label in chart.labels)


def _vertical_bars(chart: Chart, *, stacked: bool) -> str:
    n, k = len(chart.labels), len(chart.series)
    sums = [_stack_sum(chart, i) for i in range(n)] if stacked else []
    scale = _Scale.of(sums if stacked else _values(chart))
    left = max(text_width(_fmt(t), SMALL) for t in scale.ticks) + 10
    top, plot_height = 22, 180
    band = (WIDTH - left) / n
    parts: list[str] = []
    for tick in scale.ticks:
        y = scale.at(tick, top + plot_height, -plot_height)
        parts.append(f'<line x1="{left:.1f}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 4, _fmt(tick), size=SMALL, anchor="end", fill=MUTED))
    zero = scale.at(0, top + plot_height, -plot_height)
    for i, label in enumerate(chart.labels):
        x0 = left + i * band
        if stacked:
            parts += _vertical_stack(chart, i, x0 + band * 0.2, band * 0.6, scale, top + plot_height, plot_height)
            parts.append(
                _text(
                    x0 + band / 2,
                    scale.at(sums[i], top + plot_height, -plot_height) - 5,
                    _fmt(sums[i]),
                    size=SMALL,
                    anchor="middle",
                )
            )
        else:
            width = band * 0.7 / k
            for s in range(k):
                value = _value(chart, s, i)
                if value is None:
                    continue
                x = x0 + band * 0.15 + s * width
                y = scale.at(value, top + plot_height, -plot_height)
                parts.append(_rect(x + 1, min(y, zero), width - 2, abs(zero - y), _colour(s)))
                above = y - 5 if value >= 0 else y + SMALL + 2
                parts.append(_text(x + width / 2, above, _fmt(value), size=SMALL, anchor="middle"))
        for line, text in enumerate(_wrap(label, band - 6, SMALL)):
            parts.append(
                _label(x0 + band / 2, top + plot_height + 18 + line * 15, text, label, size=SMALL, anchor="middle")
            )
    parts.append(f'<line x1="{left:.1f}" x2="{WIDTH}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="{AXIS}"/>')
    legend, legend_height = _legend(chart, top + plot_height + 44, left)
    return _svg(chart, top + plot_height + 48 + legend_height, parts + legend)


def _stack_sum(chart: Chart, index: int) -> Number:
    return sum(_value(chart, s, index) or 0 for s in range(len(chart.series)))


def _vertical_stack(chart, index, x, width, scale, base, height) -> list[str]:
    parts, running = [], 0
    for s in range(len(chart.series)):
        value = _value(chart, s, index) or 0
        if value <= 0:  # a stack shows parts of a whole: nothing to draw for zero (or a stray negative)
            continue
        y_low, y_high = scale.at(running, base, -height), scale.at(running + value, base, -height)
        parts.append(_rect(x, y_high, width, y_low - y_high, _colour(s)))
        if y_low - y_high >= SMALL + 2 and text_width(_fmt(value), SMALL) <= width:
            parts.append(
                _text(x + width / 2, (y_low + y_high) / 2 + 4, _fmt(value), size=SMALL, anchor="middle", fill="#fff")
            )
        running += value
    return parts


def _horizontal_bars(chart: Chart, *, stacked: bool) -> str:
    n, k = len(chart.labels), len(chart.series)
    sums = [_stack_sum(chart, i) for i in range(n)] if stacked else []
    values = sums if stacked else _values(chart)
    scale = _Scale.of(values)
    label_width = min(max(text_width(label, SMALL) for label in chart.labels), WIDTH * 0.4)
    value_room = max(text_width(_fmt(v), SMALL) for v in values) + 8
    left, right = label_width + 10, WIDTH - value_room
    low_room = value_room if scale.low < 0 else 0
    bar = 18 if stacked or k == 1 else 13
    group = (bar if stacked else bar * k) + 10
    legend, legend_height = _legend(chart, 4, 0)
    top = legend_height + 6
    parts = legend
    zero = scale.at(0, left + low_room, right - left - low_room)
    for i, label in enumerate(chart.labels):
        y0 = top + i * group
        middle = y0 + (group - 10) / 2
        parts.append(_label(left - 8, middle + 4.5, _fit(label, label_width, SMALL), label, size=SMALL, anchor="end"))
        if stacked:
            running = 0
            for s in range(k):
                value = _value(chart, s, i) or 0
                if value <= 0:
                    continue
                x1 = scale.at(running, left + low_room, right - left - low_room)
                x2 = scale.at(running + value, left + low_room, right - left - low_room)
                parts.append(_rect(x1, y0, x2 - x1, bar, _colour(s)))
                if text_width(_fmt(value), SMALL) + 4 <= x2 - x1:
                    parts.append(
                        _text((x1 + x2) / 2, y0 + bar / 2 + 4, _fmt(value), size=SMALL, anchor="middle", fill="#fff")
                    )
                running += value
            end = scale.at(sums[i], left + low_room, right - left - low_room)
            parts.append(_text(end + 4, y0 + bar / 2 + 4, _fmt(sums[i]), size=SMALL))
        else:
            for s in range(k):
                value = _value(chart, s, i)
                if value is None:
                    continue
                y = y0 + s * bar
                x = scale.at(value, left + low_room, right - left - low_room)
                parts.append(_rect(min(x, zero), y + 1, abs(x - zero), bar - 2, _colour(s)))
                if value >= 0:
                    parts.append(_text(x + 4, y + bar / 2 + 4, _fmt(value), size=SMALL))
                else:
                    parts.append(_text(x - 4, y + bar / 2 + 4, _fmt(value), size=SMALL, anchor="end"))
    bottom = top + n * group
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top - 4:.1f}" y2="{bottom - 6:.1f}" stroke="{AXIS}"/>')
    return _svg(chart, bottom, parts)


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{max(height, 0):.1f}" fill="{fill}"/>'


# Lines -----------------------------------------------------------------------------------------


def _line(chart: Chart) -> str:
    n, k = len(chart.labels), len(chart.series)
    scale = _Scale.of(_values(chart))
    left = max(text_width(_fmt(t), SMALL) for t in scale.ticks) + 10
    top, plot_height = 22, 170
    widest = max(text_width(label, SMALL) for label in chart.labels) + 8
    # Room for the first and the last label, centred under their points.
    pad = min(max(12, widest / 2), WIDTH / 6)
    span = WIDTH - left - 2 * pad

    def x_at(i: int) -> float:
        return left + pad + (span * i / (n - 1) if n > 1 else span / 2)

    parts: list[str] = []
    for tick in scale.ticks:
        y = scale.at(tick, top + plot_height, -plot_height)
        parts.append(f'<line x1="{left:.1f}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 4, _fmt(tick), size=SMALL, anchor="end", fill=MUTED))
    # Every label if they fit, else every second, third …
    every = max(1, math.ceil(widest / (span / max(n - 1, 1)))) if n > 1 else 1
    for i, label in enumerate(chart.labels):
        if i % every == 0:
            parts.append(
                _label(
                    x_at(i),
                    top + plot_height + 18,
                    _fit(label, max(span / n * every, 40), SMALL),
                    label,
                    size=SMALL,
                    anchor="middle",
                )
            )
    show_values = k == 1 and n <= 12
    for s in range(k):
        colour = _colour(s)
        points = [(x_at(i), _value(chart, s, i)) for i in range(n)]
        # A missing value breaks the line rather than dropping it to zero.
        runs: list[list[tuple[float, float]]] = [[]]
        for x, value in points:
            if value is None:
                runs.append([])
            else:
                runs[-1].append((x, scale.at(value, top + plot_height, -plot_height)))
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for x, value in points:
            if value is None:
                continue
            y = scale.at(value, top + plot_height, -plot_height)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
            if show_values:
                parts.append(_text(x, y - 8, _fmt(value), size=SMALL, anchor="middle"))
    parts.append(
        f'<line x1="{left:.1f}" x2="{WIDTH}" y1="{top + plot_height:.1f}" y2="{top + plot_height:.1f}" stroke="{AXIS}"/>'
    )
    legend, legend_height = _legend(chart, top + plot_height + 30, left)
    return _svg(chart, top + plot_height + 34 + legend_height, parts + legend)


# Funnel and pie --------------------------------------------------------------------------------


def _funnel(chart: Chart) -> str:
    """Steps as centred bars narrowing down, each labelled with its value and, from the second step
    on, its share of the step before (the conversion)."""
    values = [_value(chart, 0, i) for i in range(len(chart.labels))]
    largest = max((v for v in values if v is not None), default=0) or 1
    shares = [""]
    for previous, value in pairwise(values):
        shares.append(
            _("%(percent)s%% of the step before") % {"percent": _fmt(round(100 * value / previous, 1))}
            if previous and value is not None
            else ""
        )
    label_width = min(
        max(max(text_width(label, FONT) for label in chart.labels), max(text_width(s, SMALL) for s in shares)),
        WIDTH * 0.42,
    )
    left = label_width + 12
    span = WIDTH - left
    row = 44
    parts: list[str] = []
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=False)):
        y = i * row + 4
        parts.append(_label(label_width, y + 17, _fit(label, label_width, FONT), label, anchor="end"))
        if shares[i]:
            parts.append(
                _text(label_width, y + 33, _fit(shares[i], label_width, SMALL), size=SMALL, anchor="end", fill=MUTED)
            )
        width = span * (value or 0) / largest
        centre = left + span / 2
        parts.append(_rect(centre - width / 2, y, width, row - 8, COLOURS[0]))
        text = _fmt(value)
        if text_width(text, FONT) + 8 <= width:
            parts.append(_text(centre, y + (row - 8) / 2 + 5, text, anchor="middle", fill="#fff", font_weight="bold"))
        else:
            parts.append(_text(centre + width / 2 + 5, y + (row - 8) / 2 + 5, text, font_weight="bold"))
    return _svg(chart, len(chart.labels) * row + 4, parts)


def _pie(chart: Chart) -> str:
    """A ring with the legend beside it: each slice's label, value and share."""
    values = [max(_value(chart, 0, i) or 0, 0) for i in range(len(chart.labels))]
    total = sum(values)
    radius, inner, cx = 70, 40, 76
    legend_rows = len(chart.labels) * 22
    height = max(2 * radius + 16, legend_rows + 12)
    cy = height / 2
    parts: list[str] = []
    angle = -math.pi / 2
    for i, value in enumerate(values):
        if not value:
            continue
        sweep = 2 * math.pi * value / total
        parts.append(_slice(cx, cy, radius, inner, angle, sweep, _colour(i)))
        angle += sweep
    parts.append(_text(cx, cy + 6, _fmt(total), size=18, anchor="middle", font_weight="bold"))
    x = cx + radius + 24
    top = cy - legend_rows / 2
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=False)):
        y = top + i * 22
        share = _fmt(round(100 * value / total, 1))
        text = f"{_fmt(value)} ({share}%)"
        parts.append(f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="12" height="12" rx="2" fill="{_colour(i)}"/>')
        room = WIDTH - x - 20 - text_width(text, SMALL) - 8
        parts.append(_label(x + 18, y + 15, _fit(label, room, SMALL), label, size=SMALL))
        parts.append(_text(WIDTH - 2, y + 15, text, size=SMALL, anchor="end", fill=MUTED))
    return _svg(chart, height, parts)


def _slice(cx: float, cy: float, outer: float, inner: float, start: float, sweep: float, fill: str) -> str:
    if sweep >= 2 * math.pi - 1e-9:  # one slice is the whole ring: an arc cannot close on itself
        return (
            f'<circle cx="{cx}" cy="{cy:.1f}" r="{(outer + inner) / 2}" fill="none" stroke="{fill}" '
            f'stroke-width="{outer - inner}"/>'
        )
    end = start + sweep
    large = 1 if sweep > math.pi else 0

    def point(r: float, a: float) -> str:
        return f"{cx + r * math.cos(a):.2f},{cy + r * math.sin(a):.2f}"

    return (
        f'<path d="M{point(outer, start)} A{outer},{outer} 0 {large} 1 {point(outer, end)} '
        f'L{point(inner, end)} A{inner},{inner} 0 {large} 0 {point(inner, start)} Z" fill="{fill}"/>'
    )
