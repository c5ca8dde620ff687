"""Presentation of the 推优 pages: names of the eligibility rules (promotion.eligibility keys), the Party
application date as far as it is known."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

register = template.Library()

RULE_LABELS = {
    "age": _("Age"),
    "league_years": _("League age"),
    "application_wait": _("Party application"),
    "registered": _("Registration"),
    "evaluation": _("Evaluation"),
    "sanction": _("Sanctions"),
    "activist_years": _("Time as activist"),
    "share_cap": _("Share of the branch"),
}


@register.filter
def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


@register.filter
def party_application_date(case, style: str = "short") -> str:
    """A case's Party application date, to the month when only the month is known (智慧团建 records
    it so). "short": 2025-03 / 2025-03-15; "long": the locale's formats (the printed form)."""
    if case.party_applied_on is None:
        return ""
    if style == "long":
        return date_format(
            case.party_applied_on, "YEAR_MONTH_FORMAT" if case.party_applied_month_only else "DATE_FORMAT"
        )
    return case.party_applied_on.strftime("%Y-%m" if case.party_applied_month_only else "%Y-%m-%d")
