"""The case page's step for a returned case: taken back to cultivation, with the reason."""

from datetime import date

import pytest
from django.urls import reverse

from promotion import services
from promotion.models import Stage
from tests.promotion.helpers import at_stage, stage_of
from tests.promotion.staff_helpers import case_in_review, handed_over_case

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def returned(tree, people):
    case = case_in_review(tree["branch_a1"], "李明", recorder=people["county_staff"])
    return services.case_review(case=case, decision="return", comment="培养时间不足", actor=people["township_a_staff"])


def url(case):
    return reverse("promotion:case-back-to-cultivation", args=[case.pk])


def test_the_case_page_offers_it_on_a_returned_case_only(login, people, returned):
    client = login(people["secretary_a1"])
    page = client.get(reverse("promotion:case", args=[returned.pk])).content.decode()
    assert f'href="{url(returned)}"' in page and "退回推荐前培养" in page
    at_stage(returned, Stage.CULTIVATION)
    page = client.get(reverse("promotion:case", args=[returned.pk])).content.decode()
    assert url(returned) not in page


def test_the_case_page_offers_it_as_the_services_allow_not_by_the_stage(login, people, returned, monkeypatch):
    """The offer follows services.next_actions (the transition table and the user's role): a returned
    case on which the services would refuse the step shows no link to it."""
    client = login(people["secretary_a1"])
    allowed = services.next_actions
    monkeypatch.setattr(
        services, "next_actions", lambda case, user: [t for t in allowed(case, user) if t != "back_to_cultivation"]
    )
    page = client.get(reverse("promotion:case", args=[returned.pk]))
    assert page.context["step_pages"] == [] and url(returned) not in page.content.decode()
    monkeypatch.undo()
    page = client.get(reverse("promotion:case", args=[returned.pk]))
    assert [name for name, _url, _step in page.context["step_pages"]] == ["back-to-cultivation"]
    assert 'data-action="back-to-cultivation"' in page.content.decode()


def test_the_branch_takes_a_returned_case_back_with_a_reason(login, people, returned):
    client = login(people["secretary_a1"])
    page = client.get(url(returned))
    assert page.status_code == 200 and "仍保留在时间线上" in page.content.decode()
    refused = client.post(url(returned), {"reason": ""})
    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert stage_of(returned) == Stage.RETURNED
    response = client.post(url(returned), {"reason": "继续培养一个季度"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("promotion:case", args=[returned.pk])
    assert "已退回推荐前培养" in response.content.decode()
    assert stage_of(returned) == Stage.CULTIVATION
    assert returned.transitions.last().comment == "继续培养一个季度"


def test_at_another_stage_it_is_refused_and_nothing_changes(login, people, returned):
    at_stage(returned, Stage.IN_REVIEW)
    client = login(people["secretary_a1"])
    response = client.post(url(returned), {"reason": "继续培养"})
    assert response.status_code == 302 and response.url == reverse("promotion:case", args=[returned.pk])
    assert stage_of(returned) == Stage.IN_REVIEW


@pytest.mark.parametrize(
    ("persona", "status"), [("secretary_b1", 404), ("township_b_staff", 404), ("party_a", 404), ("nobody", 404)]
)
def test_outsiders_do_not_find_it(login, people, returned, persona, status):
    client = login(people[persona])
    assert client.get(url(returned)).status_code == status
    assert client.post(url(returned), {"reason": "继续培养"}).status_code == status
    assert stage_of(returned) == Stage.RETURNED


def test_signed_out_visitors_are_sent_to_sign_in(client, returned):
    response = client.post(url(returned), {"reason": "继续培养"})
    assert response.status_code == 302 and "login" in response.url
    assert stage_of(returned) == Stage.RETURNED


def test_a_late_party_decision_is_recorded_from_a_lapsed_case_s_page(login, tree, people):
    """The case page offers the Party's decision on a lapsed recommendation (naming an activist or a
    development candidate), and records it when it was taken within the validity."""
    case = handed_over_case(
        tree["branch_a1"],
        "王芳",
        recorder=people["county_staff"],
        party=tree["party_a"],
        recommended_on=date(2024, 6, 1),
    )
    services.lapse_expired_cases()
    assert stage_of(case) == Stage.LAPSED
    client = login(people["secretary_a1"])
    assert 'data-action="party-decision"' in client.get(reverse("promotion:case", args=[case.pk])).content.decode()
    action = reverse("promotion:case-action", args=[case.pk, "party-decision"])
    form = client.get(action).context["form"]
    assert [value for value, _label in form.fields["decision"].choices] == ["activist", "development"]
    refused = client.post(action, {"decision": "activist", "decided_on": "2026-06-01"})
    assert "推荐有效期至2026-05-31" in refused.content.decode()
    client.post(action, {"decision": "activist", "decided_on": "2026-05-30"})
    assert stage_of(case) == Stage.ACTIVIST
