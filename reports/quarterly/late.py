"""Late items at the period's end, derived from the records (what the reminders chase):

- 推优 follow-up reports (monthly, after the hand-over) and cultivation reports (quarterly, before it)
  that fell due in the period and were not filed by its end, on cases then in those stages, in the
  unit of the branch the member was in then. Which reports a case owes is the reminders' rule
  (promotion.due), the due days promotion.selectors'. Counting what fell due in the period counts each
  report in one quarter's report only, and only once it is late;
- required meetings not held in the period's months that have ended (the completeness table's rule);
- committee terms overdue for election at the period's end (branches.committee_selectors);
- cases that had waited for review longer than PROMOTION_REVIEW_WAITING_DAYS at the period's end.
Filing dates, transitions and term dates are all dated, so a closed period keeps its figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from branches.committee_selectors import TermStatus, status_filter
from branches.models import CommitteeTerm
from promotion import workdays
from promotion.models import (
    CULTIVATION_STAGES,
    FOLLOW_UP_STAGES,
    CultivationReport,
    FollowUpReport,
    PromotionCase,
    Stage,
)
from promotion.selectors import cultivation_due_on, follow_up_due_on
from reports.document import Figure, Section, Table
from reports.quarterly.context import Context, existed
from reports.quarterly.history import case_stage_at, case_stage_since_at, end_of, start_of

TOP_UNITS = 20
ITEMS = ["follow_up", "cultivation", "meetings", "terms", "reviews"]


def follow_up_months(ctx: Context) -> list:
    """The months whose follow-up report fell due in the period (by its end): the month before the
    period and the period's months, as their due days allow."""
    first = ctx.period.start
    candidates = [workdays.add_months(first, -1), *(month.start for month in ctx.period.months())]
    return [m for m in candidates if first <= follow_up_due_on(m) <= ctx.as_of]


def cultivation_quarter(ctx: Context) -> tuple[int, int] | None:
    """The quarter whose cultivation report fell due in the period (the one before it), if it has."""
    previous = ctx.period.start - timedelta(days=1)
    year, quarter = workdays.quarter_of(previous)
    due = cultivation_due_on(year, quarter)
    return (year, quarter) if ctx.period.start <= due <= ctx.as_of else None


def owes_follow_up(month) -> Q:
    """Cases owing the follow-up report on `month` by the reminders' rule (promotion.due.follow_up_months:
    from the month of the recommendation), as a query condition."""
    return Q(recommended_on__lt=workdays.next_month_start(month))


def owes_cultivation(year: int, quarter: int) -> Q:
    """Cases owing the cultivation report on the quarter by the reminders' rule (promotion.due.
    cultivation_quarters: from the quarter after the Party application's), as a query condition."""
    return Q(party_applied_on__lt=workdays.quarter_start(year, quarter))


def _case_counts(ctx: Context) -> list[dict]:
    """Per branch (where the member was at the period's end): follow-up and cultivation reports
    missing, cases waiting for review. One query."""
    day = ctx.as_of
    moment = end_of(day)
    months = follow_up_months(ctx)
    quarter = cultivation_quarter(ctx)
    cases = ctx.where_members_were(PromotionCase.objects.order_by(), member="member").annotate(
        stage_then=case_stage_at(moment), since_then=case_stage_since_at(moment)
    )
    # After leaving the League the case goes on with the Party, but the League no longer reports.
    still_member = Q(member__left_on__isnull=True) | Q(member__left_on__gt=day)
    aggregates = {}
    for i, month in enumerate(months):
        filed = FollowUpReport.objects.filter(case=OuterRef("pk"), month=month, filed_at__lt=moment)
        cases = cases.annotate(**{f"filed_{i}": Exists(filed)})
        aggregates[f"follow_up_{i}"] = Count(
            "pk",
            filter=Q(stage_then__in=FOLLOW_UP_STAGES)
            & owes_follow_up(month)
            & Q(**{f"filed_{i}": False})
            & still_member,
        )
    if quarter:
        filed = CultivationReport.objects.filter(
            case=OuterRef("pk"), year=quarter[0], quarter=quarter[1], filed_at__lt=moment
        )
        cases = cases.annotate(cultivation_filed=Exists(filed))
        aggregates["cultivation"] = Count(
            "pk",
            filter=Q(stage_then__in=CULTIVATION_STAGES, cultivation_filed=False) & owes_cultivation(*quarter),
        )
    waited = settings.PROMOTION_RULES["review_waiting_days"]
    aggregates["reviews"] = Count(
        "pk", filter=Q(stage_then=Stage.IN_REVIEW, since_then__lt=start_of(day - timedelta(days=waited)))
    )
    return list(cases.values("branch_path").annotate(**aggregates))


def late_section(ctx: Context) -> Section:
    day = ctx.as_of
    per_unit: dict[str, dict] = defaultdict(lambda: dict.fromkeys(ITEMS, 0))  # unit path → late items
    for row in _case_counts(ctx):
        unit = per_unit[row["branch_path"]]
        unit["follow_up"] += sum(v for k, v in row.items() if k.startswith("follow_up_"))
        unit["cultivation"] += row.get("cultivation", 0)
        unit["reviews"] += row["reviews"]
    for row in ctx.branch_rows:
        if row.missing_total:
            per_unit[row.unit.path]["meetings"] += row.missing_total
    terms = (
        CommitteeTerm.objects.filter(ctx.in_scope("organization__path"), existed(day, prefix="organization__"))
        .filter(starts_on__lte=day)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        .filter(status_filter(TermStatus.OVERDUE, day))
        .order_by()
        .values("organization__path")
        .annotate(n=Count("pk"))
    )
    for row in terms:
        per_unit[row["organization__path"]]["terms"] += row["n"]

    totals = dict.fromkeys(ITEMS, 0)
    for path, items in per_unit.items():
        ctx.count("late", path, sum(items.values()))
        for item in ITEMS:
            totals[item] += items[item]
    ctx.totals["late"] = sum(totals.values())
    top = sorted(
        ((ctx.units[path], items) for path, items in per_unit.items() if sum(items.values())),
        key=lambda pair: (-sum(pair[1].values()), pair[0].path),
    )[:TOP_UNITS]
    labels = {
        "follow_up": _("Follow-up reports missing"),
        "cultivation": _("Cultivation reports missing"),
        "meetings": _("Required meetings not held"),
        "terms": _("Committee terms overdue"),
        "reviews": _("Cases waiting for review"),
    }
    return Section(
        key="late",
        title=_("Late items"),
        figures=[
            *(Figure(labels[item], totals[item]) for item in ITEMS),
            Figure(_("Late items in all"), ctx.totals["late"]),
        ],
        tables=[
            Table(
                _("Units with the most late items"),
                [_("Unit"), *(labels[item] for item in ITEMS), _("Total")],
                [[unit.name, *(items[item] for item in ITEMS), sum(items.values())] for unit, items in top],
                row_units=[unit.pk for unit, _items in top],
            )
        ],
        notes=[
            _(
                "At %(day)s: 推优 follow-up and cultivation reports that fell due in the period and were not filed "
                "by then; required meetings not held in the months that have ended; committee terms past their "
                "end; cases waiting for review more than %(days)d days."
            )
            % {"day": day.isoformat(), "days": settings.PROMOTION_RULES["review_waiting_days"]}
        ],
    )
