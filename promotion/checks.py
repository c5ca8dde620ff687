"""System checks of the 推优 rules read from the environment (`manage.py check`, run on every start).

PROMOTION_RULES come from PROMOTION_* variables: a share cap of 0 would list nobody and one above 1
more than the branch has; a due day past 28 does not exist in every month; a county escalation not
later than the township's would skip the committee that reviews the branch. Such values are refused
at start rather than discovered in a wrong reminder.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


def rule_errors(rules: dict[str, Any]) -> list[str]:
    """What is wrong with a set of PROMOTION_RULES (empty when they hold together)."""
    errors = []
    if not 0 < rules["share_cap"] <= 1:
        errors.append(f"PROMOTION_SHARE_CAP must be more than 0 and at most 1, not {rules['share_cap']!r}.")
    for name in ("follow_up_due_day", "cultivation_due_day"):
        if not 1 <= rules[name] <= 28:
            errors.append(
                f"PROMOTION_{name.upper()} must be a day from 1 to 28 (every month has it), not {rules[name]!r}."
            )
    if rules["escalate_county_days"] <= rules["escalate_township_days"]:
        errors.append(
            "PROMOTION_ESCALATE_COUNTY_DAYS must be more than PROMOTION_ESCALATE_TOWNSHIP_DAYS "
            f"({rules['escalate_county_days']!r} is not more than {rules['escalate_township_days']!r})."
        )
    return errors


@register()
def check_promotion_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [Error(message, id="promotion.E001") for message in rule_errors(settings.PROMOTION_RULES)]
