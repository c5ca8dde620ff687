"""The review queue of township and county staff: who may open it, what each case shows, decisions on
one case or several at once (each through the service, each reported), and the query count."""

from datetime import date
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from branches.models import Sector
from promotion import review_views, services
from promotion.models import CaseTransition, PromotionCase, Stage, Talk
from tests.branches.test_scope_matrix import PERSONAS
from tests.promotion.helpers import stage_of
from tests.promotion.staff_helpers import case_in_review

pytestmark = pytest.mark.usefixtures("clock")

QUEUE = reverse("promotion:review-queue")
DECIDE = reverse("promotion:review-decide")


@pytest.fixture
def waiting(tree, people):
    """Two cases of township A (one waiting long, with an objection dismissed) and one of township B."""
    recorder = people["county_staff"]
    return {
        "a1": case_in_review(tree["branch_a1"], "甲一", recorder=recorder, waiting_days=12, objection=True),
        "ag1": case_in_review(tree["branch_ag1"], "甲中", recorder=recorder, waiting_days=2),
        "b1": case_in_review(tree["branch_b1"], "乙一", recorder=recorder, waiting_days=5),
    }


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- who may open what -------------------------------------------------------------------------------

QUEUE_ACCESS = {persona: 403 for persona in PERSONAS} | {
    "county_staff": 200,
    "township_a_staff": 200,
    "township_b_staff": 200,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_staff_open_the_queue(login, people, waiting, persona):
    assert login(people[persona]).get(QUEUE).status_code == QUEUE_ACCESS[persona]


def test_signed_out_visitors_are_sent_to_sign_in(client, waiting):
    assert client.get(QUEUE).status_code == 302


REVIEW_CASE_ACCESS = {persona: 404 for persona in PERSONAS} | {
    "county_staff": 200,
    "township_a_staff": 200,
    "secretary_a1": 403,  # sees the case, never reviews it
    "deputy_a1": 403,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_case_review_page_is_for_the_reviewers_above_the_branch(login, people, waiting, persona):
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    assert login(people[persona]).get(url).status_code == REVIEW_CASE_ACCESS[persona]


@pytest.mark.parametrize("persona", [p for p, status in REVIEW_CASE_ACCESS.items() if status != 200])
def test_no_one_but_the_reviewers_above_decides_by_posting(login, people, waiting, persona):
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    data = {"cases": [waiting["a1"].pk], "decision": "approve", "comment": ""}
    assert login(people[persona]).post(url, data).status_code == REVIEW_CASE_ACCESS[persona]
    assert stage_of(waiting["a1"]) == Stage.IN_REVIEW


# --- the queue ---------------------------------------------------------------------------------------


def test_township_staff_see_their_cases_longest_waiting_first(login, people, waiting):
    response = login(people["township_a_staff"]).get(QUEUE)
    body = response.content.decode()
    assert [row.case.pk for row in response.context["rows"]] == [waiting["a1"].pk, waiting["ag1"].pk]
    assert "乙一" not in body
    assert "等待 12 天" in body  # over the 7 days allowed: flagged
    assert "出席 9 人（应到 10 人）；赞成 7，反对 1，弃权 1" in body
    assert "意见：赞成 2 条，不赞成 1 条" in body
    assert "异议不成立" in body


def test_county_staff_see_the_whole_county_and_filter_it(login, tree, people, waiting):
    client = login(people["county_staff"])
    everything = client.get(QUEUE).context["rows"]
    assert {row.case.pk for row in everything} == {case.pk for case in waiting.values()}
    township_b = client.get(QUEUE, {"township": tree["township_b"].pk}).context["rows"]
    assert [row.case.pk for row in township_b] == [waiting["b1"].pk]
    schools = client.get(QUEUE, {"sector": Sector.SCHOOL}).context["rows"]
    assert [row.case.pk for row in schools] == [waiting["ag1"].pk]
    recent = client.get(QUEUE, {"order": "recent"}).context["rows"]
    assert [row.case.pk for row in recent] == [waiting["ag1"].pk, waiting["b1"].pk, waiting["a1"].pk]


def test_a_filter_that_makes_no_sense_is_dropped(login, tree, people, waiting):
    response = login(people["township_a_staff"]).get(QUEUE, {"township": tree["township_b"].pk, "sector": "x"})
    assert response.context["filters"] == {"township": "", "sector": "", "order": ""}
    assert len(response.context["rows"]) == 2


def test_an_empty_queue_says_so(login, people, waiting):
    PromotionCase.objects.filter(pk=waiting["b1"].pk).update(stage=Stage.APPROVED)
    assert "没有等待您审核的案件" in login(people["township_b_staff"]).get(QUEUE).content.decode()


def test_the_queue_s_queries_do_not_grow_with_its_length(login, tree, people, waiting, django_assert_max_num_queries):
    client = login(people["county_staff"])
    client.get(QUEUE)  # the session's first renewal (a write) and the content types out of the count
    with django_assert_max_num_queries(11) as small:
        client.get(QUEUE)
    small_count = len(small.captured_queries)  # now: a later request clears the log
    for i in range(12):
        case_in_review(tree["branch_b1"], f"乙{i}", recorder=people["county_staff"], objection=True)
    with django_assert_max_num_queries(small_count):
        assert len(client.get(QUEUE).context["rows"]) == 15


def test_the_queue_reads_only_its_page_of_cases(login, people, waiting, monkeypatch):
    """A long queue is paged in the database: the cases of other pages are counted, not read."""
    monkeypatch.setattr(review_views, "PAGE_SIZE", 2)
    client = login(people["county_staff"])
    client.get(QUEUE)
    with mock.patch.object(PromotionCase, "from_db", autospec=True, side_effect=PromotionCase.from_db) as read:
        response = client.get(QUEUE)
    assert (len(response.context["rows"]), read.call_count) == (2, 2)
    assert response.context["page"].paginator.count == 3


# --- decisions -----------------------------------------------------------------------------------


def test_several_cases_approved_at_once(login, people, waiting):
    client = login(people["township_a_staff"])
    response = client.post(
        DECIDE,
        {"cases": [waiting["a1"].pk, waiting["ag1"].pk], "decision": "approve", "comment": "同意", "back": QUEUE},
    )
    assert response.status_code == 302 and response.url == QUEUE
    assert stage_of(waiting["a1"]) == stage_of(waiting["ag1"]) == Stage.APPROVED
    assert CaseTransition.objects.filter(action="approve").count() == 2
    assert texts(response) == ["已批准：甲一、甲中。"]


def test_a_case_taken_by_another_reviewer_meanwhile_is_reported_and_the_others_go_through(login, people, waiting):
    services.case_review(case=waiting["a1"], decision="return", comment="请补充材料", actor=people["county_staff"])
    response = login(people["township_a_staff"]).post(
        DECIDE, {"cases": [waiting["a1"].pk, waiting["ag1"].pk], "decision": "approve", "comment": ""}
    )
    assert stage_of(waiting["a1"]) == Stage.RETURNED  # the first decision stands
    assert stage_of(waiting["ag1"]) == Stage.APPROVED
    success, failure = texts(response)
    assert success == "已批准：甲中。"
    assert failure.startswith("甲一：") and "County_Staff" in failure


def test_returning_needs_a_reason_and_nothing_changes_without_one(login, people, waiting):
    response = login(people["township_a_staff"]).post(
        DECIDE, {"cases": [waiting["a1"].pk], "decision": "return", "comment": "  "}
    )
    assert stage_of(waiting["a1"]) == Stage.IN_REVIEW
    assert texts(response) == ["请说明理由：支部需要据此处理。"]


def test_returning_with_a_reason_keeps_it_on_the_case(login, people, waiting):
    login(people["township_a_staff"]).post(
        DECIDE, {"cases": [waiting["a1"].pk], "decision": "return", "comment": "团员大会记录不全"}
    )
    assert stage_of(waiting["a1"]) == Stage.RETURNED
    assert CaseTransition.objects.get(case=waiting["a1"], action="return_to_branch").comment == "团员大会记录不全"


def test_nothing_ticked_is_refused(login, people, waiting):
    response = login(people["township_a_staff"]).post(DECIDE, {"decision": "approve"})
    assert texts(response) == ["请至少勾选一个案件。"]


def test_rejecting_asks_for_confirmation_first(login, people, waiting):
    client = login(people["township_a_staff"])
    data = {"cases": [waiting["a1"].pk], "decision": "reject", "comment": "材料不实"}
    response = client.post(DECIDE, data)
    assert response.status_code == 200 and "确定不予通过这些案件吗" in response.content.decode()
    assert stage_of(waiting["a1"]) == Stage.IN_REVIEW
    client.post(DECIDE, {**data, "confirmed": "True"})
    assert stage_of(waiting["a1"]) == Stage.REJECTED


def test_a_case_outside_the_reviewer_s_scope_is_not_found_and_nothing_is_decided(login, people, waiting):
    response = login(people["township_b_staff"]).post(
        DECIDE, {"cases": [waiting["b1"].pk, waiting["a1"].pk], "decision": "approve"}
    )
    assert response.status_code == 404
    assert stage_of(waiting["b1"]) == stage_of(waiting["a1"]) == Stage.IN_REVIEW


def test_a_secretary_cannot_decide(login, people, waiting):
    response = login(people["secretary_a1"]).post(DECIDE, {"cases": [waiting["a1"].pk], "decision": "approve"})
    assert response.status_code == 403
    assert stage_of(waiting["a1"]) == Stage.IN_REVIEW


def test_deciding_is_posted(login, people, waiting):
    assert login(people["county_staff"]).get(DECIDE).status_code == 405


def test_the_way_back_stays_on_the_queue(login, people, waiting):
    response = login(people["township_a_staff"]).post(
        DECIDE, {"cases": [waiting["a1"].pk], "decision": "approve", "back": "https://example.com/"}
    )
    assert response.url == QUEUE


# --- one case --------------------------------------------------------------------------------------


def test_after_deciding_on_one_case_the_reviewer_is_back_on_the_same_page_of_the_queue(
    login, people, waiting, monkeypatch
):
    """County staff filter the village branches, most recent first, one case a page: page 2 holds 甲一."""
    monkeypatch.setattr(review_views, "PAGE_SIZE", 1)
    client = login(people["county_staff"])
    filters = {"sector": Sector.VILLAGE, "order": "recent", "page": "2"}
    queue = client.get(QUEUE, filters)
    (row,) = queue.context["rows"]
    assert row.case == waiting["a1"]
    back = f"{QUEUE}?{urlencode(filters)}"
    review_url = f"{reverse('promotion:review-case', args=[waiting['a1'].pk])}?{urlencode({'back': back})}"
    assert f'href="{escape(review_url)}"' in queue.content.decode()

    page = client.get(review_url)
    assert page.context["back"] == back
    response = client.post(review_url, {"cases": [waiting["a1"].pk], "decision": "approve", "back": back})
    assert response.status_code == 302 and response.url == back
    assert stage_of(waiting["a1"]) == Stage.APPROVED


def test_the_review_page_goes_back_to_the_queue_only(login, people, waiting):
    client = login(people["county_staff"])
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    for unsafe in [
        "https://example.com/",
        "//example.com/",
        reverse("promotion:overview"),
        f"{QUEUE}{waiting['a1'].pk}/",
    ]:
        assert client.get(url, {"back": unsafe}).context["back"] == QUEUE
    response = client.post(url, {"cases": [waiting["a1"].pk], "decision": "approve", "back": "https://example.com/"})
    assert response.url == QUEUE


def test_the_review_page_shows_the_talks(login, people, waiting):
    Talk.objects.create(
        case=waiting["a1"],
        held_on=date(2026, 5, 20),
        held_by="党支部委员",
        summary="谈心谈话记录",
        recorded_by=people["county_staff"],
    )
    body = (
        login(people["township_a_staff"])
        .get(reverse("promotion:review-case", args=[waiting["a1"].pk]))
        .content.decode()
    )
    assert "谈心谈话记录" in body and "党支部委员" in body


def test_the_case_page_shows_what_the_branch_sent_up_and_decides(login, people, waiting):
    client = login(people["township_a_staff"])
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    body = client.get(url).content.decode()
    assert "出席 9 人（应到 10 人）；赞成 7，反对 1，弃权 1" in body and "不属实" in body
    assert "意见：赞成 2 条，不赞成 1 条" in body
    response = client.post(url, {"cases": [waiting["a1"].pk], "decision": "approve", "comment": ""})
    assert response.url == QUEUE
    assert stage_of(waiting["a1"]) == Stage.APPROVED
    assert "不在等待审核" in client.get(url).content.decode()


def test_the_case_page_asks_before_rejecting(login, people, waiting):
    client = login(people["township_a_staff"])
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    data = {"cases": [waiting["a1"].pk], "decision": "reject", "comment": "材料不实"}
    assert client.post(url, data).context["confirming"]
    assert stage_of(waiting["a1"]) == Stage.IN_REVIEW
    client.post(url, {**data, "confirmed": "True"})
    assert stage_of(waiting["a1"]) == Stage.REJECTED


def test_the_case_page_reports_a_decision_taken_meanwhile(login, people, waiting):
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    client = login(people["township_a_staff"])
    services.case_review(case=waiting["a1"], decision="approve", comment="", actor=people["county_staff"])
    response = client.post(url, {"cases": [waiting["a1"].pk], "decision": "return", "comment": "请补充"})
    assert response.status_code == 200
    assert "County_Staff" in str(response.context["form"].non_field_errors())
    assert stage_of(waiting["a1"]) == Stage.APPROVED


def test_the_case_page_decides_only_its_own_case(login, people, waiting):
    url = reverse("promotion:review-case", args=[waiting["a1"].pk])
    response = login(people["township_a_staff"]).post(url, {"cases": [waiting["ag1"].pk], "decision": "approve"})
    assert response.status_code == 404
    assert stage_of(waiting["ag1"]) == Stage.IN_REVIEW
