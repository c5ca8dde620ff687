"""Presentation of the 推优 pages: names of the eligibility rules (promotion.eligibility keys)."""

from __future__ import annotations

from django import template
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
