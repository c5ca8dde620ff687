from django import template
from django.utils.safestring import mark_safe

from reports.charts import render_svg
from reports.document import Chart

register = template.Library()


@register.simple_tag
def chart_svg(chart: Chart) -> str:
    # pygal escapes the labels and titles it writes into the SVG.
    return mark_safe(render_svg(chart))
