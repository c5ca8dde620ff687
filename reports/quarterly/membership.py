"""Members (团员): how many at the period's end, joined, left by reason, transferred in and out, and
who they are at the end (age band, sex, ethnicity, education, occupation).

"At the period's end" is derived from dates — joined by then and not left by then, in the branch the
member was in then (members.Transfer) — never from today's status, so that a past quarter shows the
quarter: a member who joined later is not counted, one who left later still is.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db.models import Case, Count, Q, Value, When
from django.utils.translation import gettext as _

from branches.models import Education, Sex, add_years
from members.models import ETHNICITY_CHOICES, LEFT_STATUSES, Member, MemberStatus, Occupation, Transfer, TransferStatus
from reports.document import Chart, Figure, Section, Series, Table
from reports.quarterly.context import Context, share
from reports.quarterly.history import end_of, member_branch_path_at, member_branch_path_joined, member_on, start_of

# Age bands of the member statistics (age at the period's end): (lowest, highest) age, None = open.
# Members join at 14 (domain.md §4), so the first band starts there; "over 28" are members who keep
# their membership while holding a post or before their leaving is recorded.
AGE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 17), (18, 22), (23, 25), (26, 28), (29, None))
ETHNICITY_TOP = 5  # ethnic groups listed by name; the rest are summed as "other"
# Reasons for leaving the League, in the order of MemberStatus: the leaving statuses but the move out
# of the county, which the report counts among the transfers out.
LEFT_REASONS = [s for s in MemberStatus.values if s in LEFT_STATUSES and s != MemberStatus.TRANSFERRED_OUT]


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


def member_figures(ctx: Context) -> dict[str, Counter[str]]:
    """Per branch path: members at the period's end, joined, left (by reason, and per month) and
    moved out of the county in the period — one query, shared by the organizations section (branch
    sizes) and this one; every total and child figure is summed from it.

    A member counts where they were at the period's end; a joining counts in the branch the member
    joined in (they may have moved since, and the move counts as one out of there), so that for any
    unit: members at the start + joined − left + transferred in − transferred out = members at the end."""
    if "member_figures" not in ctx.cache:
        start, day, scope = ctx.period.start, ctx.as_of, ctx.unit.path
        # Left the League in the period; moving out of the county counts as transferred out instead.
        left_on = Q(left_on__gte=start, left_on__lte=day)
        left = left_on & Q(status__in=LEFT_REASONS)
        aggregates = {
            "at_end": Count("pk", filter=member_on(day)),
            "joined": Count("pk", filter=Q(joined_on__gte=start)),
            "left": Count("pk", filter=left),
            "out_of_county": Count("pk", filter=left_on & Q(status=MemberStatus.TRANSFERRED_OUT)),
        }
        for i, month in enumerate(ctx.period.months()):
            aggregates[f"joined_{i}"] = Count("pk", filter=Q(joined_on__gte=month.start, joined_on__lte=month.end))
            aggregates[f"left_{i}"] = Count("pk", filter=left & Q(left_on__gte=month.start, left_on__lte=month.end))
        for status in LEFT_REASONS:
            aggregates[f"left:{status}"] = Count("pk", filter=left & Q(status=status))
        rows = (
            ctx.near_scope(Member.objects.order_by())
            .filter(joined_on__lte=day)
            .filter(Q(left_on__isnull=True) | Q(left_on__gte=start))
            .annotate(
                branch_path=member_branch_path_at(day),
                # Only for those who joined in the period (the subquery is not run for the others).
                joined_path=Case(When(joined_on__gte=start, then=member_branch_path_joined()), default=Value("")),
            )
            .filter(Q(branch_path__startswith=scope) | Q(joined_path__startswith=scope))
            .values("branch_path", "joined_path")
            .annotate(**aggregates)
        )
        figures: dict[str, Counter[str]] = defaultdict(Counter)
        for row in rows:
            branch_path, joined_path = row.pop("branch_path"), row.pop("joined_path")
            for key, n in row.items():
                path = joined_path if key.startswith("joined") else branch_path
                if path.startswith(scope):
                    figures[path][key] += n
        ctx.cache["member_figures"] = figures
    return ctx.cache["member_figures"]  # type: ignore[return-value]


def transfers(ctx: Context) -> dict[str, int]:
    """Transfers within the county completed in the period across the unit's boundary: one query.
    (Moves out of the county are counted from the members' leaving dates: member_figures.)"""
    return Transfer.objects.filter(
        status=TransferStatus.COMPLETED,
        to_branch__isnull=False,
        decided_at__gte=start_of(ctx.period.start),
        decided_at__lt=end_of(ctx.as_of),
    ).aggregate(
        moved_in=Count("pk", filter=ctx.in_scope("to_branch__path") & ~ctx.in_scope("from_branch__path")),
        moved_out=Count("pk", filter=ctx.in_scope("from_branch__path") & ~ctx.in_scope("to_branch__path")),
    )


def members_section(ctx: Context) -> Section:
    day = ctx.as_of
    figures = member_figures(ctx)
    totals: Counter[str] = sum(figures.values(), Counter())

    def total(key: str) -> int:
        return totals[key]

    for path, counts in figures.items():
        for key in ("at_end", "joined", "left"):
            ctx.count(key, path, counts[key])
    for key in ("at_end", "joined", "left"):
        ctx.totals[key] = total(key)

    profile, ethnicities = _profile(ctx)
    members = profile["count"]
    moved = transfers(ctx)

    def split(rows: list[tuple[str, int]]) -> list[list]:
        return [[label, n, share(n, members)] for label, n in rows]

    columns = [_("Group"), _("Members"), _("Share (%)")]
    bands = [(age_band_label(low, high), profile[f"age:{i}"]) for i, (low, high) in enumerate(AGE_BANDS)]
    named = ethnicities[:ETHNICITY_TOP]
    other = sum(n for _e, n in ethnicities[ETHNICITY_TOP:])
    ethnicity_labels = dict(ETHNICITY_CHOICES)
    ethnicity_rows = [(ethnicity_labels.get(code, code), n) for code, n in named]
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
            Figure(
                _("Transferred out"),
                moved["moved_out"] + total("out_of_county"),
                _("%(n)d of them out of the county") % {"n": total("out_of_county")},
            ),
        ],
        tables=[
            Table(
                _("Left in the period, by reason"),
                [_("Reason"), _("Members")],
                [[str(status_labels[s]), total(f"left:{s}")] for s in LEFT_REASONS],
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
                "they were in on that day; joined: in the branch they joined in. Left: by the leaving date "
                "recorded, moves out of the county not included. Transferred in and out: transfers within the "
                "county completed in the period across this unit's boundary, and moves out of the county by "
                "the day the member left. Members at the start + joined − left + transferred in − transferred "
                "out = members at the end."
            )
            % {"day": day.isoformat()},
        ],
    )


def _profile(ctx: Context) -> tuple[Counter[str], list[tuple[str, int]]]:
    """Members at the period's end by age band, sex, education and occupation, and by ethnicity (most
    first): one query grouped by ethnicity, the other splits summed over its rows."""
    day = ctx.as_of
    aggregates = {"count": Count("pk")}
    for i, (low, high) in enumerate(AGE_BANDS):
        aggregates[f"age:{i}"] = Count("pk", filter=age_band_q(low, high, day))
    for field, choices in (("sex", Sex), ("education", Education), ("occupation", Occupation)):
        for value in choices.values:
            aggregates[f"{field}:{value}"] = Count("pk", filter=Q(**{field: value}))
    rows = list(
        ctx.where_members_were(Member.objects.order_by())
        .filter(member_on(day))
        .values("ethnicity")
        .annotate(**aggregates)
    )
    profile: Counter[str] = Counter()
    for row in rows:
        profile.update({key: n for key, n in row.items() if key != "ethnicity"})
    ethnicities = sorted(((row["ethnicity"], row["count"]) for row in rows), key=lambda pair: (-pair[1], pair[0]))
    return profile, ethnicities
