"""Members (团员): how many at the period's end, joined, left by reason, transferred in and out, and
who they are at the end (age band, sex, ethnicity, education, occupation).

"At the period's end" is derived from dates — joined by then and not left by then, in the branch the
member was in then (members.Transfer) — never from today's status, so that a past quarter shows the
quarter: a member who joined later is not counted, one who left later still is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from branches.models import Education, Sex, add_years
from members.models import ETHNICITY_CHOICES, LEFT_STATUSES, Member, MemberStatus, Occupation, Transfer, TransferStatus
from reports.document import Chart, Figure, Section, Series, Table
from reports.quarterly.context import Context, share
from reports.quarterly.history import end_of, member_branch_path_at, member_on, start_of

# Age bands of the member statistics (age at the period's end): (lowest, highest) age, None = open.
# Members join at 14 (domain.md §4), so the first band starts there; "over 28" are members who keep
# their membership while holding a post or before their leaving is recorded.
AGE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 17), (18, 22), (23, 25), (26, 28), (29, None))
ETHNICITY_TOP = 5  # ethnic groups listed by name; the rest are summed as "other"
# Leaving statuses in the order of MemberStatus (transferred out of the county first).
LEFT_ORDER = [status for status in MemberStatus.values if status in LEFT_STATUSES]


def age_band_label(low: int | None, high: int | None) -> str:
    if high is None:
        return _("Over %(age)d") % {"age": low - 1}
    return f"{low or 14}–{high}"


def age_band_q(low: int | None, high: int | None, day) -> Q:
    """Members aged `low`..`high` on `day`, as conditions on the birth date (aged at least a on `day`
    means born on or before `day` a years back)."""
    q = Q()
    if low is not None:
        q &= Q(birth_date__lte=add_years(day, -low))
    if high is not None:
        q &= Q(birth_date__gt=add_years(day, -(high + 1)))
    return q


def members_in_scope(ctx: Context):
    """Members whose branch at the period's end lies in the unit's subtree (annotated `branch_path`)."""
    return (
        Member.objects.order_by()
        .annotate(branch_path=member_branch_path_at(ctx.as_of))
        .filter(branch_path__startswith=ctx.unit.path)
    )


def member_rows(ctx: Context) -> list[dict[str, Any]]:
    """Per branch (where members were at the period's end): members then, joined and left in the
    period (in total, per month, left per reason). One query, shared by the organizations section
    (branch sizes) and this one; every total and child figure is summed from it."""
    if "member_rows" not in ctx.cache:
        start, day = ctx.period.start, ctx.as_of
        left = Q(status__in=LEFT_STATUSES, left_on__gte=start, left_on__lte=day)
        aggregates = {
            "at_end": Count("pk", filter=member_on(day)),
            "joined": Count("pk", filter=Q(joined_on__gte=start)),
            "left": Count("pk", filter=left),
        }
        for i, month in enumerate(ctx.period.months()):
            aggregates[f"joined_{i}"] = Count("pk", filter=Q(joined_on__gte=month.start, joined_on__lte=month.end))
            aggregates[f"left_{i}"] = Count("pk", filter=left & Q(left_on__gte=month.start, left_on__lte=month.end))
        for status in LEFT_ORDER:
            aggregates[f"left:{status}"] = Count("pk", filter=left & Q(status=status))
        ctx.cache["member_rows"] = list(
            members_in_scope(ctx)
            .filter(joined_on__lte=day)
            .filter(Q(left_on__isnull=True) | Q(left_on__gte=start))
            .values("branch_path")
            .annotate(**aggregates)
        )
    return ctx.cache["member_rows"]  # type: ignore[return-value]


def members_section(ctx: Context) -> Section:
    start, day = ctx.period.start, ctx.as_of
    rows = member_rows(ctx)
    totals = {key: sum(row[key] for row in rows) for key in (rows[0] if rows else {}) if key != "branch_path"}

    def total(key: str) -> int:
        return totals.get(key, 0)

    for row in rows:
        for key in ("at_end", "joined", "left"):
            ctx.count(key, row["branch_path"], row[key])
    for key in ("at_end", "joined", "left"):
        ctx.totals[key] = total(key)

    profile = _profile(ctx)
    members = profile.pop("count")
    ethnicities = list(
        members_in_scope(ctx)
        .filter(member_on(day))
        .values("ethnicity")
        .annotate(n=Count("pk"))
        .order_by("-n", "ethnicity")
    )
    moved = Transfer.objects.filter(
        status=TransferStatus.COMPLETED, decided_at__gte=start_of(start), decided_at__lt=end_of(day)
    ).aggregate(
        moved_in=Count("pk", filter=ctx.in_scope("to_branch__path") & ~ctx.in_scope("from_branch__path")),
        # Out of the county (no receiving branch) counts as out.
        moved_out=Count(
            "pk",
            filter=ctx.in_scope("from_branch__path") & (Q(to_branch__isnull=True) | ~ctx.in_scope("to_branch__path")),
        ),
    )

    def split(rows: list[tuple[str, int]]) -> list[list]:
        return [[label, n, share(n, members)] for label, n in rows]

    columns = [_("Group"), _("Members"), _("Share (%)")]
    bands = [(age_band_label(low, high), profile[f"age:{i}"]) for i, (low, high) in enumerate(AGE_BANDS)]
    named = ethnicities[:ETHNICITY_TOP]
    other = sum(row["n"] for row in ethnicities[ETHNICITY_TOP:])
    ethnicity_labels = dict(ETHNICITY_CHOICES)
    ethnicity_rows = [(ethnicity_labels.get(row["ethnicity"], row["ethnicity"]), row["n"]) for row in named]
    if other:
        ethnicity_rows.append((_("Other ethnic groups"), other))
    status_labels = dict(MemberStatus.choices)
    month_labels = [month.label for month in ctx.period.months()]

    return Section(
        key="members",
        title=_("Members"),
        figures=[
            Figure(_("Members at the end of the period"), members),
            Figure(_("Joined in the period"), total("joined")),
            Figure(_("Left in the period"), total("left")),
            Figure(_("Transferred in"), moved["moved_in"]),
            Figure(_("Transferred out"), moved["moved_out"]),
        ],
        tables=[
            Table(
                _("Left in the period, by reason"),
                [_("Reason"), _("Members")],
                [[str(status_labels[s]), total(f"left:{s}")] for s in LEFT_ORDER],
                footer=[_("Total"), total("left")],
            ),
            Table(_("By age at the end of the period"), columns, split(bands), footer=[_("Total"), members, None]),
            Table(
                _("By sex"),
                columns,
                split([(str(label), profile[f"sex:{value}"]) for value, label in Sex.choices]),
                footer=[_("Total"), members, None],
            ),
            Table(_("By ethnicity"), columns, split(ethnicity_rows), footer=[_("Total"), members, None]),
            Table(
                _("By education"),
                columns,
                split([(str(label), profile[f"education:{value}"]) for value, label in Education.choices]),
                footer=[_("Total"), members, None],
            ),
            Table(
                _("By occupation"),
                columns,
                split([(str(label), profile[f"occupation:{value}"]) for value, label in Occupation.choices]),
                footer=[_("Total"), members, None],
            ),
        ],
        charts=[
            Chart(
                "bar",
                _("Members by age"),
                [label for label, _n in bands],
                [Series(_("Members"), [n for _l, n in bands])],
            ),
            Chart(
                "bar",
                _("Joined and left by month"),
                month_labels,
                [
                    Series(_("Joined"), [total(f"joined_{i}") for i in range(len(month_labels))]),
                    Series(_("Left"), [total(f"left_{i}") for i in range(len(month_labels))]),
                ],
            ),
        ],
        notes=[
            _(
                "Members at the end of the period: joined by %(day)s and not left by then, counted in the branch "
                "they were in on that day. Left: by the leaving date recorded, transfers out of the county "
                "included. Transferred in and out: transfers completed in the period across this unit's "
                "boundary (out of the county counts as out)."
            )
            % {"day": day.isoformat()},
        ],
    )


def _profile(ctx: Context) -> dict[str, int]:
    """Members at the period's end by age band, sex, education and occupation: one query."""
    day = ctx.as_of
    aggregates = {"count": Count("pk")}
    for i, (low, high) in enumerate(AGE_BANDS):
        aggregates[f"age:{i}"] = Count("pk", filter=age_band_q(low, high, day))
    for field, choices in (("sex", Sex), ("education", Education), ("occupation", Occupation)):
        for value in choices.values:
            aggregates[f"{field}:{value}"] = Count("pk", filter=Q(**{field: value}))
    return members_in_scope(ctx).filter(member_on(day)).aggregate(**aggregates)
