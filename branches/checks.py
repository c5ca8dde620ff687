"""System checks of the League rules read from the environment (`manage.py check`, run on every start).

The cadence of activities comes from LEAGUE_ACTIVITY_CADENCE as `kind=cadence` pairs: a mistyped kind
or cadence would otherwise be read as "held as needed" and silently drop a requirement from the
completeness table and the reminders.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from branches.models import ActivityKind, Cadence


@register()
def check_activity_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    rules = settings.LEAGUE_RULES
    errors: list[CheckMessage] = []
    cadence = rules.get("activity_cadence", {})
    for kind, value in cadence.items():
        if kind not in ActivityKind.values:
            errors.append(
                Error(
                    f"LEAGUE_ACTIVITY_CADENCE names an unknown kind of activity: {kind!r}.",
                    hint=f"Kinds: {', '.join(ActivityKind.values)}.",
                    id="branches.E001",
                )
            )
        if value not in Cadence.values:
            errors.append(
                Error(
                    f"LEAGUE_ACTIVITY_CADENCE gives {kind!r} an unknown cadence: {value!r}.",
                    hint=f"Cadences: {', '.join(Cadence.values)}.",
                    id="branches.E002",
                )
            )
    late_days = rules.get("activity_late_days", 0)
    if not isinstance(late_days, int) or late_days < 0:
        errors.append(
            Error(
                f"LEAGUE_ACTIVITY_LATE_DAYS must be a whole number of days, 0 or more, not {late_days!r}.",
                id="branches.E003",
            )
        )
    return errors
