"""The recommendation form (推优表, domain.md §6.3) as a printable A4 PDF, rendered by WeasyPrint.

The form is the record of the hand-over: the branch prints it, the secretary and the committee above
sign and seal it, and the Party organization keeps a copy. It is always printed in Chinese, whatever
language the person downloading it reads the site in, because it is an official paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from branches.models import COMMITTEE_KINDS, Organization, OrganizationKind
from promotion.models import (
    PARTY_STAGES,
    CaseTransition,
    Nomination,
    Opinion,
    PromotionCase,
    Stage,
    Track,
)

# The form exists once the committee above has approved the case; it stays printable afterwards,
# whatever the Party decides, because it is part of the person's file.
FORM_STAGES = frozenset(
    {Stage.APPROVED, *PARTY_STAGES, Stage.FULL_MEMBER, Stage.NOT_ADOPTED, Stage.LAPSED, Stage.CONTINUED}
)
FORM_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class BranchVote:
    """The branch general meeting's figures in the form's fixed format."""

    expected: int  # members entitled to vote, expected to attend (应到)
    present: int  # 实到
    votes_for: int
    votes_cast: int  # ballots cast: for + against + abstaining
    meeting_on: date | None

    @property
    def pass_rate(self) -> Decimal | None:
        """Votes for ÷ votes cast, in per cent to one decimal (the form's 得票率)."""
        if not self.votes_cast:
            return None
        return (Decimal(100 * self.votes_for) / self.votes_cast).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RecommendationForm:
    case: PromotionCase
    recommending_unit: Organization
    reviewing_unit: Organization | None
    vote: BranchVote | None
    opinions: list[Opinion]
    review: CaseTransition | None
    printed_on: date

    @property
    def recommended_on(self) -> date | None:
        # The 推荐时间 is the day of the branch general meeting (智慧团建 records it so, domain.md §6.3);
        # before a vote is on record (an old case), the hand-over date.
        return self.vote.meeting_on if self.vote and self.vote.meeting_on else self.case.recommended_on

    @property
    def is_development_track(self) -> bool:
        return self.case.track == Track.DEVELOPMENT


def may_print(case: PromotionCase) -> bool:
    return case.stage in FORM_STAGES


def reviewing_committee(branch: Organization) -> Organization | None:
    """The committee above the branch that reviews its recommendations: the nearest township, street or
    grassroots committee, or the county committee for units directly under it."""
    kinds = COMMITTEE_KINDS | {OrganizationKind.COUNTY}
    ancestors = [unit for unit in Organization.objects.get_ancestors(branch) if unit.kind in kinds]
    return ancestors[-1] if ancestors else None


def recommendation_form(case: PromotionCase, *, today: date | None = None) -> RecommendationForm:
    """What the form shows, in a fixed number of queries (the case comes with member and branch)."""
    nomination = (
        Nomination.objects.filter(case=case, passed=True)
        .select_related("round")
        .order_by("-round__meeting_on", "-pk")
        .first()
    )
    vote = None
    opinions: list[Opinion] = []
    if nomination is not None:
        round_ = nomination.round
        votes_for = nomination.votes_for or 0
        vote = BranchVote(
            expected=round_.voting_members or 0,
            present=round_.present_members or 0,
            votes_for=votes_for,
            votes_cast=votes_for + (nomination.votes_against or 0) + (nomination.votes_abstaining or 0),
            meeting_on=round_.meeting_on,
        )
        opinions = list(nomination.opinions.order_by("source", "pk"))
    review = CaseTransition.objects.filter(case=case, to_stage=Stage.APPROVED).order_by("-at", "-pk").first()
    return RecommendationForm(
        case=case,
        recommending_unit=case.branch,
        reviewing_unit=reviewing_committee(case.branch),
        vote=vote,
        opinions=opinions,
        review=review,
        printed_on=today or timezone.localdate(),
    )


def render_recommendation_pdf(case: PromotionCase, *, today: date | None = None) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only this download needs.
    from weasyprint import HTML

    form = recommendation_form(case, today=today)
    with translation.override(FORM_LANGUAGE):
        html = render_to_string("promotion/recommendation_form.html", {"form": form})
    return HTML(string=html).write_pdf()
