"""推优: the funnel of the period and of the year to date, counted in people (members), from the
pipeline's dated transitions (promotion.models.CaseTransition) and the cases' Party application dates;
and, where the Party's own totals are entered (reports.models.PartyIntake), the share of new young
Party members who came through 推优 (the township's measure of success, domain.md §0)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from promotion.models import CaseTransition, PromotionCase, Stage
from reports.document import Chart, Figure, Section, Series, Table
from reports.models import PartyIntake
from reports.quarterly.context import Context, share
from reports.quarterly.history import end_of, start_of

# The steps after the application: the stage a transition reaches, counted in the period it happened.
STEPS = [
    ("recommended", Stage.RECOMMENDED, gettext_lazy("Recommended to the Party")),
    ("activists", Stage.ACTIVIST, gettext_lazy("Named Party activists")),
    ("development", Stage.DEVELOPMENT, gettext_lazy("Development candidates")),
    ("probationary", Stage.PROBATIONARY, gettext_lazy("Probationary Party members")),
    ("full", Stage.FULL_MEMBER, gettext_lazy("Full Party members")),
]
APPLICATIONS_LABEL = gettext_lazy("Party applications")


def funnel_counts(ctx: Context) -> tuple[list[int], list[int]]:
    """People at each step (applications first) in the period and in the year to its end: two queries."""
    start, day = ctx.period.start, ctx.as_of
    year_start = date(start.year, 1, 1)
    cases = PromotionCase.objects.filter(ctx.in_scope("branch__path")).order_by()
    applications = cases.aggregate(
        period=Count("member", distinct=True, filter=Q(party_applied_on__gte=start, party_applied_on__lte=day)),
        year=Count("member", distinct=True, filter=Q(party_applied_on__gte=year_start, party_applied_on__lte=day)),
    )
    steps = (
        CaseTransition.objects.filter(ctx.in_scope("case__branch__path"))
        .filter(at__gte=start_of(year_start), at__lt=end_of(day))
        .exclude(from_stage=F("to_stage"))
        .order_by()
        .aggregate(
            **{
                f"period:{key}": Count("case__member", distinct=True, filter=Q(to_stage=stage, at__gte=start_of(start)))
                for key, stage, _label in STEPS
            },
            **{
                f"year:{key}": Count("case__member", distinct=True, filter=Q(to_stage=stage))
                for key, stage, _l in STEPS
            },
        )
    )
    period = [applications["period"], *(steps[f"period:{key}"] for key, _s, _l in STEPS)]
    year = [applications["year"], *(steps[f"year:{key}"] for key, _s, _l in STEPS)]
    return period, year


def recommended_by_child(ctx: Context) -> None:
    """People recommended to the Party in the period, per direct child unit: one query."""
    rows = (
        CaseTransition.objects.filter(ctx.in_scope("case__branch__path"))
        .filter(to_stage=Stage.RECOMMENDED, at__gte=start_of(ctx.period.start), at__lt=end_of(ctx.as_of))
        .exclude(from_stage=F("to_stage"))
        .annotate(child=Substr("case__branch__path", 1, ctx.child_length))
        .order_by()
        .values("child")
        .annotate(n=Count("case__member", distinct=True))
    )
    for row in rows:
        ctx.count("recommended", row["child"], row["n"])


def promotion_section(ctx: Context) -> Section:
    period, year = funnel_counts(ctx)
    ctx.totals["recommended"] = period[1]
    recommended_by_child(ctx)
    labels = [str(APPLICATIONS_LABEL), *(str(label) for _k, _s, label in STEPS)]
    intake = PartyIntake.objects.filter(organization=ctx.unit, year=ctx.period.year, quarter=ctx.period.number).first()
    # Probationary admissions are the Party's new members; through 推优, since every case is one.
    probationary = dict(zip(["applications", *(key for key, _s, _l in STEPS)], period, strict=True))["probationary"]

    figures = [Figure(label, n) for label, n in zip(labels, period, strict=True)]
    notes = [
        _(
            "People, not cases: a member counted once per step. Applications by the Party application date; "
            "the other steps when the pipeline recorded them. Conversion compares the steps within the same "
            "period, not one cohort."
        )
    ]
    if intake:
        figures += [
            Figure(_("New Party members (the Party's total)"), intake.new_members),
            Figure(_("of whom young people"), intake.new_young_members),
            Figure(_("Young people among new Party members (%)"), share(intake.new_young_members, intake.new_members)),
            Figure(
                _("New young Party members who came through 推优 (%)"),
                share(probationary, intake.new_young_members),
                _("probationary members admitted through 推优 ÷ new young Party members"),
            ),
        ]
    else:
        notes.append(
            _(
                "The Party's totals of new members for this unit and quarter are not entered: the share of new "
                "young Party members who came through 推优 cannot be given."
            )
        )
    return Section(
        key="promotion",
        title=_("推优: recommending members to the Party"),
        figures=figures,
        tables=[
            _funnel_table(_("The period"), labels, period),
            _funnel_table(
                _("The year to date (%(first)s to %(last)s)")
                % {"first": date(ctx.period.year, 1, 1).isoformat(), "last": ctx.as_of.isoformat()},
                labels,
                year,
            ),
        ],
        charts=[Chart("funnel", _("推优 funnel of the period"), labels, [Series(_("People"), period)])],
        notes=notes,
    )


def _funnel_table(title: str, labels: list[str], counts: list[int]) -> Table:
    rows = [
        [label, n, share(n, counts[i - 1]) if i else None]
        for i, (label, n) in enumerate(zip(labels, counts, strict=True))
    ]
    return Table(title, [_("Step"), _("People"), _("Of the step before (%)")], rows)
