"""推优: the funnel of the period and of the year to date, counted in people (members), from the
pipeline's dated transitions (promotion.models.CaseTransition) and the cases' Party application dates;
and, where the Party's own totals are entered (reports.models.PartyIntake), the share of new young
Party members who came through 推优 (the township's measure of success, domain.md §0).

The steps are promotion.selectors.FUNNEL's, the county's 推优 overview; it counts the decision dates
kept on the cases, this report the day each step was recorded in the case's history, so that a closed
period can be built again from the history alone. Cases are counted where their member was at the
period's end, as the members are (Context.where_members_were)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from promotion.models import CaseTransition, PromotionCase, Stage
from promotion.selectors import FUNNEL
from reports.document import Chart, Figure, Section, Series, Table
from reports.models import PartyIntake
from reports.quarterly.context import Context, share
from reports.quarterly.history import end_of, start_of

if TYPE_CHECKING:
    from branches.models import Organization
    from reports.periods import Period

# The stage a transition reaches for each step of FUNNEL after the application (counted in the period
# the transition was recorded in).
STEP_STAGES = {
    "recommended": Stage.RECOMMENDED,
    "activists": Stage.ACTIVIST,
    "development": Stage.DEVELOPMENT,
    "probationary": Stage.PROBATIONARY,
    "full": Stage.FULL_MEMBER,
}
KEYS = [key for key, _label, _date_field, _track in FUNNEL]
# The steps after the application: (key, stage reached, the track it counts on or None for both).
STEPS = [(key, STEP_STAGES[key], track) for key, _label, _date_field, track in FUNNEL if key != "applications"]


def _step(stage: str, track: str | None) -> Q:
    return Q(to_stage=stage, **({"case__track": track} if track else {}))


def funnel_counts(ctx: Context) -> tuple[list[int], list[int]]:
    """People at each step of FUNNEL in the period and in the year to its end: two queries. A person
    counts once per step, whatever the number of their cases (an activist-track case continued on the
    development track is a second case of the same person)."""
    start, day = ctx.period.start, ctx.as_of
    year_start = date(start.year, 1, 1)
    cases = ctx.where_members_were(PromotionCase.objects.order_by(), member="member")
    applications = cases.aggregate(
        period=Count("member", distinct=True, filter=Q(party_applied_on__gte=start, party_applied_on__lte=day)),
        year=Count("member", distinct=True, filter=Q(party_applied_on__gte=year_start, party_applied_on__lte=day)),
    )
    steps = (
        ctx.where_members_were(CaseTransition.objects.order_by(), member="case__member")
        .filter(at__gte=start_of(year_start), at__lt=end_of(day))
        .exclude(from_stage=F("to_stage"))
        .aggregate(
            **{
                f"period:{key}": Count(
                    "case__member", distinct=True, filter=_step(stage, track) & Q(at__gte=start_of(start))
                )
                for key, stage, track in STEPS
            },
            **{
                f"year:{key}": Count("case__member", distinct=True, filter=_step(stage, track))
                for key, stage, track in STEPS
            },
        )
    )
    period = [applications["period"], *(steps[f"period:{key}"] for key, _s, _t in STEPS)]
    year = [applications["year"], *(steps[f"year:{key}"] for key, _s, _t in STEPS)]
    return period, year


def steps_by_branch(ctx: Context) -> dict[str, Counter[str]]:
    """People recommended to the Party and admitted as probationary Party members in the period, per
    branch (where the member was at the period's end): one query. A member has one branch then, so the
    people of several branches add up."""
    rows = (
        ctx.where_members_were(CaseTransition.objects.order_by(), member="case__member")
        .filter(at__gte=start_of(ctx.period.start), at__lt=end_of(ctx.as_of))
        .exclude(from_stage=F("to_stage"))
        .values("branch_path")
        .annotate(
            recommended=Count("case__member", distinct=True, filter=Q(to_stage=Stage.RECOMMENDED)),
            probationary=Count("case__member", distinct=True, filter=Q(to_stage=Stage.PROBATIONARY)),
        )
    )
    return {
        row["branch_path"]: Counter(recommended=row["recommended"], probationary=row["probationary"]) for row in rows
    }


def party_intake(ctx: Context) -> tuple[int, int, list[str]] | None:
    """The Party's totals of new members for the quarter (all, young) and the paths of the units whose
    totals they are: the unit's own, or else the sum of those entered under it (the highest of them:
    a township's totals include its branches'). One query; None if nobody entered any."""
    entered = {
        row["organization__path"]: (row["new_members"], row["new_young_members"])
        for row in PartyIntake.objects.filter(
            ctx.in_scope("organization__path"), year=ctx.period.year, quarter=ctx.period.number
        ).values("organization__path", "new_members", "new_young_members")
    }
    if ctx.unit.path in entered:
        paths = [ctx.unit.path]
    else:
        paths = sorted(p for p in entered if not any(p != q and p.startswith(q) for q in entered))
    if not paths:
        return None
    return sum(entered[p][0] for p in paths), sum(entered[p][1] for p in paths), paths


@dataclass
class IntakePart:
    """The part of the promotion section that reads the Party's own totals: its last figures and notes."""

    figures: list[Figure]
    notes: list[str]


def intake_part(ctx: Context, by_branch: dict[str, Counter[str]] | None = None) -> IntakePart:
    """The Party-intake figures of the unit and quarter (share of new young Party members who came
    through 推优): two queries, one when the builder passes its `steps_by_branch`. Computed alone when
    the totals are entered after the report was frozen (reports.services.party_intake_save)."""
    intake = party_intake(ctx)
    if not intake:
        return IntakePart(
            [],
            [
                _(
                    "The Party's totals of new members for this unit and quarter are not entered: the share of "
                    "new young Party members who came through 推优 cannot be given."
                )
            ],
        )
    new_members, new_young, paths = intake
    if by_branch is None:
        by_branch = steps_by_branch(ctx)
    # Probationary admissions are the Party's new members; through 推优, since every case is one.
    # Counted under the units whose totals these are.
    through = sum(n["probationary"] for path, n in by_branch.items() if any(path.startswith(p) for p in paths))
    figures = [
        Figure(_("New Party members (the Party's total)"), new_members),
        Figure(_("of whom young people"), new_young),
        Figure(_("Young people among new Party members (%)"), share(new_young, new_members)),
        Figure(
            _("New young Party members who came through 推优 (%)"),
            share(through, new_young),
            _(
                "probationary Party members admitted through 推优 (by the date recorded in the case's "
                "history) ÷ new young Party members"
            ),
        ),
    ]
    notes = []
    if paths != [ctx.unit.path]:
        notes.append(
            _(
                "The Party's totals are not entered for this unit itself: they are the sum of the units "
                "under it that entered theirs (%(n)d units), and the 推优 admissions are counted in those "
                "units only."
            )
            % {"n": len(paths)}
        )
    return IntakePart(figures, notes)


def unit_intake_part(unit: Organization, period: Period) -> IntakePart:
    """The intake part of `unit`'s quarterly report for `period`, computed from the records now."""
    return intake_part(Context(unit=unit, period=period, today=timezone.localdate()))


# The promotion section is the funnel's figures (one per step of FUNNEL) and its one general note,
# followed by the intake part: replace_intake finds that part by these positions.
FUNNEL_NOTES = 1


def replace_intake(section: Section, part: IntakePart) -> bool:
    """Put `part` in place of the intake part of a promotion section built earlier (a frozen one);
    whether anything changed."""
    figures = section.figures[: len(FUNNEL)] + part.figures
    notes = section.notes[:FUNNEL_NOTES] + part.notes
    if (figures, notes) == (section.figures, section.notes):
        return False
    section.figures, section.notes = figures, notes
    return True


def promotion_section(ctx: Context) -> Section:
    period, year = funnel_counts(ctx)
    ctx.totals["recommended"] = period[KEYS.index("recommended")]
    by_branch = steps_by_branch(ctx)
    for path, counts in by_branch.items():
        ctx.count("recommended", path, counts["recommended"])
    labels = [str(label) for _key, label, _date_field, _track in FUNNEL]

    notes = [
        _(
            "People, not cases: a member counted once per step, in the unit of the branch they were in at the "
            "end of the period. Applications by the Party application date; every other step by the date it "
            "was recorded in the case's history (the county's 推优 overview counts the decision dates kept "
            "on the cases instead). Named Party activists: on the activist track. The ratio to the step "
            "before compares steps of the same period, not one group of people followed through."
        )
    ]
    intake = intake_part(ctx, by_branch)
    figures = [Figure(label, n) for label, n in zip(labels, period, strict=True)] + intake.figures
    notes += intake.notes
    return Section(
        key="promotion",
        title=_("推优: recommending members to the Party"),
        figures=figures,
        tables=[
            Table(
                _("The period"),
                [_("Step"), _("People"), _("Ratio to the step before (%)")],
                [
                    [label, n, share(n, period[i - 1]) if i else None]
                    for i, (label, n) in enumerate(zip(labels, period, strict=True))
                ],
            ),
            Table(
                _("The year to date (%(first)s to %(last)s)")
                % {"first": date(ctx.period.year, 1, 1).isoformat(), "last": ctx.as_of.isoformat()},
                [_("Step"), _("People")],
                [[label, n] for label, n in zip(labels, year, strict=True)],
            ),
        ],
        charts=[Chart("funnel", _("推优 funnel of the period"), labels, [Series(_("People"), period)])],
        notes=notes,
    )
