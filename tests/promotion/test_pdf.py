"""The recommendation form (推优表) comes out as a PDF whose text carries the person, the vote and the
committee's review, in Chinese; it is downloadable like the case page and only once the case passed."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from promotion.models import (
    CaseTransition,
    Nomination,
    Opinion,
    OpinionSource,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
    Track,
)
from promotion.pdf import BranchVote, recommendation_form, render_recommendation_pdf, reviewing_committee
from tests.conftest import make_member


def passed_case(tree, people, *, stage=Stage.APPROVED, track=Track.ACTIVIST) -> PromotionCase:
    """A case approved above after a round: stored directly, the engine's own tests cover getting there."""
    secretary = people["secretary_a1"]
    member = make_member(
        tree["branch_a1"],
        name="李春华",
        sex="F",
        birth_date=date(2001, 3, 9),
        workplace="甲一村村委会",
        league_post="organization",
    )
    case = PromotionCase.objects.create(
        member=member,
        track=track,
        branch=tree["branch_a1"],
        stage=stage,
        party_applied_on=date(2024, 3, 1),
        party_applied_month_only=True,
        created_by=secretary,
    )
    round_ = PromotionRound.objects.create(
        branch=tree["branch_a1"],
        track=track,
        title="2025年第一批推优",
        stage=RoundStage.SUBMITTED,
        meeting_on=date(2025, 4, 18),
        voting_members=23,
        present_members=19,
        created_by=secretary,
    )
    nomination = Nomination.objects.create(
        round=round_, case=case, votes_for=17, votes_against=1, votes_abstaining=1, passed=True
    )
    Opinion.objects.create(
        nomination=nomination,
        source=OpinionSource.PARTY_ORGANIZATION,
        content="表现突出，同意推荐",
        recorded_by=secretary,
    )
    CaseTransition.objects.create(
        case=case,
        action="approve",
        from_stage=Stage.IN_REVIEW,
        to_stage=Stage.APPROVED,
        actor=people["township_a_staff"],
        comment="经团委会审核，同意推荐",
        at=timezone.make_aware(datetime(2025, 5, 6, 10)),
    )
    return case


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages)


def test_the_form_prints_the_person_the_vote_and_the_review_in_chinese(tree, people):
    case = passed_case(tree, people)

    content = render_recommendation_pdf(case, today=date(2025, 5, 7))

    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
    text = pdf_text(content).replace(" ", "")
    assert "推荐优秀团员作为入党积极分子人选登记表" in text
    assert "李春华" in text
    assert "女" in text
    assert "2001年3月9日" in text
    assert "2024年3月" in text and "2024年3月1日" not in text  # known only to the month
    assert "2025年4月18日" in text  # the recommendation date is the meeting's
    assert "甲一村村委会" in text
    assert "甲一村团支部" in text  # recommending unit, also in the header
    assert "2025年5月7日" in text  # the date printed in the header
    # The branch's opinion in the fixed format: 23 expected, 19 present, 17 for out of 19 cast.
    sentence = "应到会有表决权团员23人，实到19人，共投票19票，其中赞成17票，得票率89.5%（赞成票÷投票数）。"
    assert sentence in text.replace("\n", "")  # the cell wraps the sentence over lines
    assert "表现突出，同意推荐" in text
    assert "共青团甲镇委员会" in text  # the committee above
    assert "经团委会审核，同意推荐" in text


def test_the_development_track_has_its_own_title(tree, people):
    case = passed_case(tree, people, track=Track.DEVELOPMENT, stage=Stage.RECOMMENDED)

    text = pdf_text(render_recommendation_pdf(case)).replace(" ", "")

    assert "推荐优秀团员作为党的发展对象人选登记表" in text


@pytest.mark.parametrize(
    ("votes_for", "cast", "rate"),
    [
        (17, 19, Decimal("89.5")),
        (1, 3, Decimal("33.3")),
        (2, 3, Decimal("66.7")),
        (5, 5, Decimal("100.0")),
        (0, 0, None),
    ],
)
def test_the_pass_rate_is_votes_for_over_votes_cast(votes_for, cast, rate):
    vote = BranchVote(expected=10, present=cast, votes_for=votes_for, votes_cast=cast, meeting_on=None)
    assert vote.pass_rate == rate


def test_the_committee_above_is_the_nearest_committee(tree):
    assert reviewing_committee(tree["branch_a1"]) == tree["township_a"]
    assert reviewing_committee(tree["branch_ag1"]) == tree["township_a"]  # through the general branch


def test_the_form_reads_a_fixed_number_of_queries(tree, people, django_assert_max_num_queries):
    case = PromotionCase.objects.select_related("member", "branch").get(pk=passed_case(tree, people).pk)
    with django_assert_max_num_queries(4):
        recommendation_form(case)


def pdf_url(case):
    return reverse("promotion:case-form-pdf", args=[case.pk])


def test_the_branch_downloads_the_form(tree, people, login):
    case = passed_case(tree, people)

    response = login(people["secretary_a1"]).get(pdf_url(case))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" not in response["Content-Disposition"]  # opens in the browser, ready to print
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    assert "李春华" in pdf_text(response.content)


@pytest.mark.parametrize("persona", ["deputy_a1", "township_a_staff", "county_staff"])
def test_branch_workers_above_and_deputies_download_it_too(tree, people, login, persona):
    assert login(people[persona]).get(pdf_url(passed_case(tree, people))).status_code == 200


@pytest.mark.parametrize("persona", ["secretary_b1", "township_b_staff", "system_admin", "nobody"])
def test_outsiders_get_not_found(tree, people, login, persona):
    assert login(people[persona]).get(pdf_url(passed_case(tree, people))).status_code == 404


def test_a_party_organizer_is_refused(tree, people, login):
    case = passed_case(tree, people, stage=Stage.RECOMMENDED)
    PromotionCase.objects.filter(pk=case.pk).update(party_organization=tree["party_a"], recommended_on=date(2025, 5, 8))

    assert login(people["party_a"]).get(pdf_url(case)).status_code == 403


def test_no_form_before_the_case_is_approved(tree, people, login):
    case = passed_case(tree, people, stage=Stage.IN_REVIEW)

    response = login(people["secretary_a1"]).get(pdf_url(case))

    assert response.status_code == 302
    assert response["Location"] == reverse("promotion:case", args=[case.pk])
