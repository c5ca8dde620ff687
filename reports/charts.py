"""Charts as SVG, drawn on the server by pygal: the same markup on the page and in the PDF, with no
JavaScript and nothing loaded from elsewhere (pygal's tooltip script is switched off)."""

from __future__ import annotations

import pygal
from pygal.style import Style

from reports.document import Chart

_STYLE = Style(
    font_family="'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif",
    background="white",
    plot_background="white",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#c0392b", "#2e86c1", "#27ae60", "#f39c12", "#8e44ad", "#16a085", "#7f8c8d"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)

_CLASSES = {
    "bar": pygal.Bar,
    "hbar": pygal.HorizontalBar,
    "stacked": pygal.StackedBar,
    "line": pygal.Line,
    "funnel": pygal.Funnel,
    "pie": pygal.Pie,
}


def render_svg(chart: Chart, *, width: int = 640, height: int = 320) -> str:
    """The chart as an inline <svg> element."""
    drawing = _CLASSES[chart.kind](
        style=_STYLE,
        js=[],
        disable_xml_declaration=True,
        width=width,
        height=height,
        print_values=chart.kind != "line",
        show_legend=len(chart.series) > 1 or chart.kind in ("funnel", "pie"),
        legend_at_bottom=True,
        truncate_label=-1,
        no_data_text="—",
    )
    drawing.title = chart.title
    if chart.kind not in ("funnel", "pie"):
        drawing.x_labels = chart.labels
        for series in chart.series:
            drawing.add(series.name, series.values)
    else:
        # Funnels and pies are one value per label: the first series gives the values.
        values = chart.series[0].values if chart.series else []
        for label, value in zip(chart.labels, values, strict=False):
            drawing.add(label, [value])
    return drawing.render(is_unicode=True)
