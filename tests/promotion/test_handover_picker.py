"""The 推优 hand-over's Party organization picker, searched as you type (issue 8; purpose
"handover:<case pk>" of branches.party_search, its rows from promotion.hand_over): the endpoint answers
whoever may hand the case over with exactly the Party organizations the form accepts from them (404
for a case they cannot see, 403 for one they may not hand over now); the page renders only the one
chosen, whatever the county's number, and refuses any other with the field's message, saving nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from branches.models import PartyOrganization, Role, RoleAssignment
from promotion.models import PromotionCase, Stage
from tests.branches import test_searched_pickers
from tests.branches.test_searched_pickers import PARTIES, REFUSED_PARTY, parties, results, status
from tests.branches.test_unit_search import picker
from tests.promotion.helpers import TODAY, at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")

# Another county with its branch, Party organization and secretary: the fixture of the other pickers'
# tests, shared by name (pytest finds fixtures in the module's namespace).
other_county = test_searched_pickers.other_county

PARTY_A, PARTY_B = "中共甲镇委员会", "中共乙镇委员会"


@pytest.fixture
def approved(tree, people):
    member = eligible_member(tree["branch_a1"], "王小明", recorder=people["county_staff"])
    return at_stage(make_case(member, recorder=people["secretary_a1"]), Stage.APPROVED)


def purpose(case: PromotionCase) -> str:
    return f"handover:{case.pk}"


def hand_over_url(case: PromotionCase) -> str:
    return reverse("promotion:case-action", args=[case.pk, "hand-over"])


def add_parties(tree, count: int = 30) -> None:
    PartyOrganization.objects.bulk_create(
        PartyOrganization(county=tree["county"], name=f"中共新{i:02d}村支部") for i in range(count)
    )


# --- the endpoint -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "offered"),
    [
        # The branch's workers: only the pairings along its path (township A's, branch A1 has none).
        ("secretary_a1", [PARTY_A]),
        ("deputy_a1", [PARTY_A]),
        ("township_a_staff", [PARTY_A]),
        # County staff: any of the county's, never another county's.
        ("county_staff", [PARTY_A, PARTY_B]),
    ],
)
def test_whoever_may_hand_the_case_over_is_offered_what_the_form_accepts(
    people, login, approved, other_county, persona, offered
):
    client = login(people[persona])
    assert sorted(parties(client, purpose(approved))) == sorted(offered)
    assert parties(client, purpose(approved), "外县") == []
    form = client.get(hand_over_url(approved)).context["form"]
    assert sorted(party.name for party in form.fields["party_organization"].queryset) == sorted(offered)


def test_county_staff_of_two_counties_are_offered_the_case_s_county_s_only(people, login, approved, other_county):
    """The service refuses another county's Party organization: the picker does not offer it."""
    staff = people["county_staff"]
    RoleAssignment.objects.create(
        user=staff, role=Role.COUNTY_STAFF, organization=other_county["county"], starts_on=date(2024, 1, 1)
    )
    client = login(staff)
    assert parties(client, "roles", "外县") == ["中共外县一村支部"]  # they see it
    assert parties(client, purpose(approved), "外县") == []
    assert sorted(parties(client, purpose(approved))) == sorted([PARTY_A, PARTY_B])


def test_the_choices_are_searched_by_part_of_the_name(people, login, approved):
    client = login(people["county_staff"])
    assert parties(client, purpose(approved), "乙镇") == [PARTY_B]
    assert results(client, PARTIES, purpose(approved), "乙镇")[0]["text"] == "中共乙镇委员会（共青团测试县委员会）"


@pytest.mark.parametrize("persona", ["secretary_b1", "township_b_staff", "nobody", "system_admin", "party_a"])
def test_a_case_the_user_cannot_see_is_not_found(people, login, approved, persona):
    """The approved case is not handed over yet: its Party organizer does not see it either."""
    assert status(login(people[persona]), PARTIES, purpose(approved)) == 404


def test_another_county_s_or_an_unknown_case_is_not_found(people, login, approved, other_county):
    member = eligible_member(other_county["branch"], "外县团员", recorder=other_county["secretary"])
    elsewhere = at_stage(make_case(member, recorder=other_county["secretary"]), Stage.APPROVED)
    client = login(people["county_staff"])
    assert status(client, PARTIES, purpose(elsewhere)) == 404
    for malformed in ["handover:999999999", "handover:", "handover:x", f"handover:{approved.pk}:1", "Handover:1"]:
        assert status(client, PARTIES, malformed) == 404
    assert status(login(other_county["secretary"]), PARTIES, purpose(elsewhere)) == 200


def test_a_case_not_to_be_handed_over_now_is_refused(tree, people, login, approved):
    """Before its approval, and once handed over (when its Party organizer sees it, read-only)."""
    in_review = at_stage(approved, Stage.IN_REVIEW)
    assert status(login(people["secretary_a1"]), PARTIES, purpose(in_review)) == 403
    recommended = at_stage(approved, Stage.RECOMMENDED, party_organization=tree["party_a"], recommended_on=TODAY)
    for persona in ["secretary_a1", "county_staff", "party_a"]:
        assert status(login(people[persona]), PARTIES, purpose(recommended)) == 403


def test_the_endpoint_needs_a_bounded_number_of_queries(tree, people, login, approved, django_assert_max_num_queries):
    add_parties(tree)
    for persona in ["county_staff", "secretary_a1"]:
        client = login(people[persona])
        parties(client, purpose(approved))  # warm the session
        # The session, the user, their roles, the case, the rows; and for county staff, who review
        # the county's cases too, whether they took the case's branch-side steps (services.can_review).
        with django_assert_max_num_queries(6 if persona == "county_staff" else 5):
            found = parties(client, purpose(approved), "村支部")
        assert len(found) == (20 if persona == "county_staff" else 0)


# --- the page -----------------------------------------------------------------------------------------


def test_the_page_renders_only_the_chosen_party_organization(
    tree, people, login, approved, django_assert_max_num_queries
):
    client = login(people["county_staff"])
    response = client.get(hand_over_url(approved))
    select = picker(response, "party_organization")
    # The empty choice and the paired one, chosen.
    assert select.count("<option") == 2 and f'value="{tree["party_a"].pk}" selected' in select
    assert reverse(PARTIES) in select and f'data-unit-for="{purpose(approved)}"' in select
    assert "js/unit-search.js" in response.content.decode()
    size = len(response.content)
    add_parties(tree)
    # The session, the user, their roles, the case, whether they took its branch-side steps, the
    # paired Party organization, the shell's unread notifications, the chosen one with its county.
    with django_assert_max_num_queries(8):
        assert len(client.get(hand_over_url(approved)).content) == size  # no row of the county's more
    # Refused for another reason (no date), the chosen one stays chosen.
    response = client.post(hand_over_url(approved), {"handed_over_on": "", "party_organization": tree["party_b"].pk})
    assert list(response.context["form"].errors) == ["handed_over_on"]
    select = picker(response, "party_organization")
    assert select.count("<option") == 2 and f'value="{tree["party_b"].pk}" selected' in select
    assert "中共乙镇委员会（共青团测试县委员会）" in select
    assert PromotionCase.objects.get(pk=approved.pk).stage == Stage.APPROVED


@pytest.mark.parametrize("chosen", ["other_county", "unknown", "not_a_number"])
def test_a_party_organization_out_of_scope_is_refused_and_nothing_saved(
    tree, people, login, approved, other_county, chosen
):
    value = {"other_county": other_county["party"].pk, "unknown": 999999999, "not_a_number": "x"}[chosen]
    client = login(people["county_staff"])
    response = client.post(hand_over_url(approved), {"handed_over_on": TODAY.isoformat(), "party_organization": value})
    assert response.context["form"].errors["party_organization"] == [REFUSED_PARTY]
    assert "外县" not in picker(response, "party_organization")
    case = PromotionCase.objects.get(pk=approved.pk)
    assert (case.stage, case.party_organization, case.recommended_on) == (Stage.APPROVED, None, None)


def test_a_party_organization_searched_and_chosen_is_handed_over_to(tree, people, login, approved):
    add_parties(tree)
    client = login(people["county_staff"])
    chosen = results(client, PARTIES, purpose(approved), "新07")[0]
    response = client.post(
        hand_over_url(approved), {"handed_over_on": TODAY.isoformat(), "party_organization": chosen["value"]}
    )
    assert response.status_code == 302
    case = PromotionCase.objects.get(pk=approved.pk)
    assert (case.stage, case.party_organization.name) == (Stage.RECOMMENDED, "中共新07村支部")
