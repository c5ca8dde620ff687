"""What every section of the quarterly report shares: the unit, the period, the day figures stand at,
the direct child units the drill-down table has a row for, and the figures collected per child."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.utils.translation import gettext as _

from branches.activity_selectors import Completeness
from branches.models import Organization, subtree_filter
from reports.periods import Period

# Lists in the report (units, branches) show this many rows at most, with a note of the total.
LIST_CAP = 50


def share(part: int | float, whole: int | float) -> float | None:
    """A percentage rounded to one decimal (the column header says "(%)"); None when nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Context:
    unit: Organization
    period: Period
    today: date
    children: list[Organization]
    # column → child unit path → figure, for the drill-down table (`units` section)
    by_child: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    totals: dict[str, int] = field(default_factory=dict)
    # Filled by the sections that compute them, read by later ones.
    completeness: Completeness | None = None
    branch_sizes: dict[str, int] = field(default_factory=dict)  # branch path → members at `as_of`
    cache: dict[str, object] = field(default_factory=dict)  # query results read by several sections

    @property
    def as_of(self) -> date:
        """The day "at period end" figures stand at: the period's last day, or today while the period is
        under way (not before its first day)."""
        return max(self.period.start, min(self.period.end, self.today))

    @property
    def child_length(self) -> int:
        """Length of a direct child's materialized path (treebeard MP: one step longer)."""
        return len(self.unit.path) + Organization.steplen

    def in_scope(self, field: str = "path") -> Q:
        return subtree_filter([self.unit.path], field)

    def child_of(self, path: str) -> str | None:
        """The path of the direct child unit holding `path` (None for the unit itself)."""
        return path[: self.child_length] if len(path) >= self.child_length else None

    def count(self, column: str, path: str, n: int) -> None:
        """Add `n` to the child unit holding `path`, under `column` of the drill-down table."""
        child = self.child_of(path)
        if child is not None and n:
            self.by_child[column][child] += n


def capped_note(shown: int, total: int) -> list[str]:
    return [_("Showing %(shown)d of %(total)d.") % {"shown": shown, "total": total}] if total > shown else []
