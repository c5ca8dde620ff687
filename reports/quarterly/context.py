"""What every section of the quarterly report shares: the unit, the period, the day figures stand at,
the units of the subtree, and the figures collected per direct child unit for the drill-down table."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from branches.activity_selectors import BranchRow
from branches.models import Organization, subtree_filter
from members.models import Member, Transfer, TransferStatus
from reports.periods import Period
from reports.quarterly.history import member_branch_path_at, start_of

# Lists in the report (units, branches) show this many rows at most, with a note of the total.
LIST_CAP = 50
# A subtree with less than this share of all units finds its members by index (Context.near_scope).
INDEX_FIRST_BELOW = 0.2


def share(part: int | float, whole: int | float) -> float | None:
    """A percentage rounded to one decimal (the column header says "(%)"); None when nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


def existed(first: date, last: date | None = None, *, prefix: str = "") -> Q:
    """Units (reached by `prefix`, e.g. "organization__") that existed on some day from `first` to
    `last`; without `last`, those still existing at the end of the day `first`.

    The report's one rule for whether a unit existed: from its founding day (an unknown founding date
    counts as founded) through the day it is dissolved — on that day it still existed, at its end it
    is gone. The completeness table (branches.activity_selectors) reads its rows the same way."""
    if last is None:
        founded_by, gone_from = first, Q(**{f"{prefix}dissolved_on__gt": first})
    else:
        founded_by, gone_from = last, Q(**{f"{prefix}dissolved_on__gte": first})
    return (Q(**{f"{prefix}founded_on__isnull": True}) | Q(**{f"{prefix}founded_on__lte": founded_by})) & (
        Q(**{f"{prefix}dissolved_on__isnull": True}) | gone_from
    )


@dataclass(frozen=True)
class Unit:
    """A unit of the subtree as the report needs it (names and links of rows, which rows exist)."""

    pk: int
    path: str
    name: str
    kind: str
    during: bool  # existed on some day of the period (up to the day figures stand at)
    at_end: bool  # still existed at the end of that day


@dataclass
class Context:
    unit: Organization
    period: Period
    today: date
    # column → child unit path → figure, for the drill-down table (`units` section)
    by_child: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    totals: dict[str, int] = field(default_factory=dict)
    # Filled by the sections that compute them, read by later ones.
    branch_rows: list[BranchRow] = field(default_factory=list)  # the completeness table's branches
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

    @cached_property
    def units(self) -> dict[str, Unit]:
        """Every unit of the subtree by path, whether it existed in the period or not (a member may
        still be recorded in a unit dissolved before it): one query."""
        start, day = self.period.start, self.as_of
        rows = (
            Organization.objects.filter(self.in_scope())
            .order_by("path")
            .annotate(
                during=ExpressionWrapper(existed(start, day), output_field=BooleanField()),
                at_end=ExpressionWrapper(existed(day), output_field=BooleanField()),
            )
            .values_list("pk", "path", "name", "kind", "during", "at_end")
        )
        return {
            path: Unit(pk, path, name, kind, bool(during), bool(at_end))
            for pk, path, name, kind, during, at_end in rows
        }

    @property
    def children(self) -> list[Unit]:
        """The direct child units that existed during the period: the drill-down table's rows."""
        return [u for u in self.units.values() if len(u.path) == self.child_length and u.during]

    def in_scope(self, field: str = "path") -> Q:
        return subtree_filter([self.unit.path], field)

    @cached_property
    def small_part_of_the_tree(self) -> bool:
        """Whether the subtree holds less than INDEX_FIRST_BELOW of all the units in the database (a
        township of a county, a county of a province): how `near_scope` finds its members. One query."""
        return len(self.units) < INDEX_FIRST_BELOW * Organization.objects.count()

    def near_scope(self, queryset: QuerySet, *, member: str = "") -> QuerySet:
        """Rows of `queryset` (Members, or rows reaching a member by the lookup `member`) whose member
        may have been in the subtree in the period: their branch today is in it, or they moved out of
        it since the period began. Narrows the rows before the correlated subqueries of history.py are
        evaluated on them (a township's report reads its own members, not the county's).

        The same set in two shapes, for the database's sake. For a small part of the tree, a list of
        ids each found by an index (the subtree's units by path and their members by branch, the
        transfers by date), so that a county of a province reads its own members, not the province's
        (an OR of the two conditions would have it read them all). For most of the tree, that OR on
        the members' rows: reading the whole table is then faster than fetching most of its rows by
        id, which the database would do with the list, as it cannot tell how long the list is."""
        moved_out = (
            Transfer.objects.filter(
                self.in_scope("from_branch__path"),
                status=TransferStatus.COMPLETED,
                to_branch__isnull=False,
                decided_at__gte=start_of(self.period.start),
            )
            .exclude(self.in_scope("to_branch__path"))
            .order_by()
        )
        if self.small_part_of_the_tree:
            members = Member.objects.filter(self.in_scope("branch__path")).order_by().values("pk")
            ids = members.union(moved_out.values("member_id"), all=True)
            return queryset.filter(**{f"{member or 'pk'}__in": ids})
        ref = f"{member}__" if member else ""
        moved_out = moved_out.filter(member=OuterRef(member or "pk"))
        return queryset.filter(self.in_scope(f"{ref}branch__path") | Exists(moved_out))

    def where_members_were(self, queryset: QuerySet, *, member: str = "") -> QuerySet:
        """Rows of `queryset` whose member was in a branch of the subtree at the end of `as_of`,
        annotated `branch_path` (that branch's path): members, and the 推优 cases and transitions of
        the people counted as the unit's members — a case follows its member, so a closed period keeps
        its figures when a member moves later."""
        return (
            self.near_scope(queryset, member=member)
            .annotate(branch_path=member_branch_path_at(self.as_of, member=member))
            .filter(branch_path__startswith=self.unit.path)
        )

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
