"""The county's and the townships' pages: the pipeline overview, the yearly plans, the log of who looked
at handed-over cases, and the navigation that leads to them."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from branches.models import Organization
from promotion.models import PlanTarget, PromotionPlan, Stage, Track
from tests.branches.test_scope_matrix import PERSONAS
from tests.conftest import add
from tests.promotion.helpers import NOW, at_stage, eligible_member, make_case
from tests.promotion.staff_helpers import case_in_review, handed_over_case

pytestmark = pytest.mark.usefixtures("clock")

OVERVIEW = reverse("promotion:overview")
PLANS = reverse("promotion:plans")
ACCESS_LOG = reverse("promotion:access-log")
STAFF_ONLY = {persona: 403 for persona in PERSONAS} | {
    "county_staff": 200,
    "township_a_staff": 200,
    "township_b_staff": 200,
}


@pytest.fixture
def pipeline(tree, people):
    """Township A: a case in cultivation and one waiting for review, both on Party applications of
    September 2025 (Q4 2025's and Q1 2026's reports missing), one recommended in March; township B: one
    recommended last year and now an activist."""
    recorder = people["county_staff"]
    cultivating = make_case(eligible_member(tree["branch_a1"], "甲培", recorder=recorder), recorder=recorder)
    return {
        "cultivating": cultivating,
        "in_review": case_in_review(tree["branch_ag1"], "甲审", recorder=recorder, waiting_days=4),
        "recommended": handed_over_case(tree["branch_a1"], "甲荐", recorder=recorder, party=tree["party_a"]),
        "activist": handed_over_case(
            tree["branch_b1"],
            "乙积",
            recorder=recorder,
            party=tree["party_b"],
            stage=Stage.ACTIVIST,
            recommended_on=date(2025, 11, 3),
            activist_since=date(2026, 2, 1),
        ),
    }


def counts_by_unit(response) -> dict[str, dict[str, int]]:
    return {row.unit.name: {k: v for k, v in row.counts.items() if v} for row in response.context["overview"].rows}


# --- the overview ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_staff_open_the_overview(login, people, pipeline, persona):
    assert login(people[persona]).get(OVERVIEW).status_code == STAFF_ONLY[persona]


def test_county_staff_see_cases_by_stage_and_township(login, people, pipeline):
    response = login(people["county_staff"]).get(OVERVIEW)
    assert counts_by_unit(response) == {
        "共青团甲镇委员会": {Stage.CULTIVATION: 1, Stage.IN_REVIEW: 1, Stage.RECOMMENDED: 1},
        "共青团乙镇委员会": {Stage.ACTIVIST: 1},
    }
    (township_a, township_b) = response.context["overview"].rows
    # The cases before the hand-over (their quarterly reports are late) and the one recommended in
    # March (no monthly follow-up report since).
    assert (township_a.overdue_reports, township_b.overdue_reports) == (3, 1)
    body = response.content.decode()
    assert "推优总览" in body and "共青团甲镇委员会" in body


def test_township_staff_see_their_township_unit_by_unit(login, people, pipeline):
    response = login(people["township_a_staff"]).get(OVERVIEW)
    assert counts_by_unit(response) == {
        "甲一村团支部": {Stage.CULTIVATION: 1, Stage.RECOMMENDED: 1},
        "甲镇中学团总支": {Stage.IN_REVIEW: 1},
    }
    assert "乙积" not in response.content.decode()


def test_the_year_s_funnel_counts_by_the_recorded_dates(login, people, pipeline):
    client = login(people["county_staff"])
    funnel = {step.key: step.count for step in client.get(OVERVIEW).context["overview"].funnel}
    assert funnel["recommended"] == 1 and funnel["activists"] == 1
    last_year = {step.key: step.count for step in client.get(OVERVIEW, {"year": 2025}).context["overview"].funnel}
    assert last_year["recommended"] == 1 and last_year["activists"] == 0


def test_time_in_stage(login, people, pipeline):
    stages = {row.stage: row for row in login(people["county_staff"]).get(OVERVIEW).context["overview"].time_in_stage}
    assert stages[Stage.IN_REVIEW].cases == 1 and stages[Stage.IN_REVIEW].median_days == 4


@pytest.mark.parametrize("year", ["1999", "abc", "2040"])
def test_a_year_out_of_range_shows_this_year(login, people, pipeline, year):
    assert login(people["county_staff"]).get(OVERVIEW, {"year": year}).context["year"] == 2026


def test_the_overview_s_queries_do_not_grow_with_the_pipeline(
    login, tree, people, pipeline, django_assert_max_num_queries
):
    client = login(people["county_staff"])
    client.get(OVERVIEW)  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(9) as small:
        client.get(OVERVIEW)
    small_count = len(small.captured_queries)  # now: a later request clears the log
    for i in range(10):
        case_in_review(tree["branch_b1"], f"乙审{i}", recorder=people["county_staff"])
        handed_over_case(tree["branch_a1"], f"甲荐{i}", recorder=people["county_staff"], party=tree["party_a"])
    with django_assert_max_num_queries(small_count):
        client.get(OVERVIEW)


# --- plans -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_staff_open_the_plans(login, people, persona):
    assert login(people[persona]).get(PLANS).status_code == STAFF_ONLY[persona]


PLAN_EDIT_ACCESS = {persona: 404 for persona in PERSONAS} | {
    "county_staff": 200,
    "township_a_staff": 200,
    "party_a": 403,  # sees township A (paired with it), keeps no plan
    "system_admin": 403,
    "security_admin": 403,
    "audit_admin": 403,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_township_s_plan_is_kept_by_its_staff_and_the_county(login, tree, people, persona):
    url = reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2026])
    assert login(people[persona]).get(url).status_code == PLAN_EDIT_ACCESS[persona]


@pytest.mark.parametrize("persona", [p for p, status in PLAN_EDIT_ACCESS.items() if status != 200])
def test_a_plan_cannot_be_posted_from_outside(login, tree, people, persona):
    url = reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2026])
    data = {"note": "外部提交", f"target_{tree['branch_a1'].pk}_activist": "3"}
    assert login(people[persona]).post(url, data).status_code == PLAN_EDIT_ACCESS[persona]
    assert not PromotionPlan.objects.exists()


def test_plans_are_for_committees_and_for_last_this_or_next_year(login, tree, people):
    client = login(people["county_staff"])
    assert client.get(reverse("promotion:plan-edit", args=[tree["branch_a1"].pk, 2026])).status_code == 404
    assert client.get(reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2020])).status_code == 404


def test_saving_a_plan_with_targets_per_branch_and_track(login, tree, people, pipeline):
    client = login(people["township_a_staff"])
    url = reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2026])
    a1, ag1 = tree["branch_a1"].pk, tree["branch_ag1"].pk
    response = client.post(
        url,
        {
            f"target_{a1}_activist": "3",
            f"target_{ag1}_development": "1",
            f"target_{ag1}_activist": "",
            "note": "与党委计划衔接",
        },
    )
    assert response.status_code == 302
    plan = PromotionPlan.objects.get(committee=tree["township_a"], year=2026)
    assert plan.note == "与党委计划衔接"
    assert set(plan.targets.values_list("organization_id", "track", "target")) == {
        (a1, Track.ACTIVIST, 3),
        (ag1, Track.DEVELOPMENT, 1),
    }
    assert LogEntry.objects.get_for_objects(PlanTarget.objects.all()).count() == 2
    page = client.get(url)
    assert page.context["form"][f"target_{a1}_activist"].value() == 3
    assert "已完成 1" in page.content.decode()  # 甲荐, recommended in March, against the target of 3
    listing = client.get(PLANS).content.decode()
    assert "1 / 3" in listing and "0 / 1" in listing


def test_a_bad_target_is_refused_and_nothing_is_saved(login, tree, people):
    client = login(people["township_a_staff"])
    url = reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2026])
    response = client.post(url, {f"target_{tree['branch_a1'].pk}_activist": "-2", "note": ""})
    assert response.status_code == 200 and response.context["form"].errors
    assert not PromotionPlan.objects.exists()


def test_the_plans_offer_the_overview_s_years_and_only_recent_ones_may_be_edited(login, tree, people):
    client = login(people["county_staff"])
    years = list(client.get(OVERVIEW).context["years"])
    assert list(client.get(PLANS).context["years"]) == years == list(range(2027, 2020, -1))
    for year, editable in [(2027, True), (2025, True), (2024, False), (2021, False)]:
        response = client.get(PLANS, {"year": year})
        assert response.context["year"] == year
        edit_url = reverse("promotion:plan-edit", args=[tree["township_a"].pk, year])
        assert (edit_url in response.content.decode()) is editable, year
        assert ("已关闭" in response.content.decode()) is not editable, year
        assert client.get(edit_url).status_code == (200 if editable else 404)


def test_township_staff_list_only_their_committee_s_plan(login, tree, people):
    rows = login(people["township_b_staff"]).get(PLANS).context["rows"]
    assert [committee for committee, _plan, _tracks in rows] == [tree["township_b"]]


def test_the_plan_pages_queries_do_not_grow_with_the_plans(login, tree, people, django_assert_max_num_queries):
    client = login(people["county_staff"])
    edit = reverse("promotion:plan-edit", args=[tree["township_a"].pk, 2026])
    client.post(edit, {f"target_{tree['branch_a1'].pk}_activist": "1", "note": ""})
    client.get(PLANS)  # the per-process caches out of the count (the post renewed the session: a write)
    with django_assert_max_num_queries(8) as small_list:
        client.get(PLANS)
    small_list_count = len(small_list.captured_queries)
    with django_assert_max_num_queries(10) as small_edit:
        client.get(edit)
    small_edit_count = len(small_edit.captured_queries)
    for i in range(8):
        add(tree["township_a"], name=f"甲镇{i}村团支部", code=f"C-A-V{i}", kind="branch", sector="village")
    branches = Organization.objects.subtree_of([tree["township_a"].path]).branches()
    targets = {f"target_{unit.pk}_activist": "1" for unit in branches}
    client.post(edit, {**targets, "note": ""})
    with django_assert_max_num_queries(small_list_count):
        client.get(PLANS)
    with django_assert_max_num_queries(small_edit_count):
        assert len(client.get(edit).context["rows"]) == 10


# --- who looked at what ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_staff_read_the_access_log(login, people, persona):
    assert login(people[persona]).get(ACCESS_LOG).status_code == STAFF_ONLY[persona]


def test_the_county_sees_who_looked_at_which_case(login, people, pipeline):
    case = pipeline["recommended"]
    login(people["party_a"]).get(reverse("promotion:party-case", args=[case.pk]))
    response = login(people["county_staff"]).get(ACCESS_LOG)
    (entry,) = response.context["page"].object_list
    assert entry.actor == people["party_a"] and entry.object_id == case.pk
    body = response.content.decode()
    assert "Party_A" in body and "中共甲镇委员会" in body and "甲荐" in body
    assert login(people["township_b_staff"]).get(ACCESS_LOG).context["page"].paginator.count == 0
    assert login(people["county_staff"]).get(ACCESS_LOG, {"actor": "party_a"}).context["page"].paginator.count == 1
    assert login(people["county_staff"]).get(ACCESS_LOG, {"q": "乙"}).context["page"].paginator.count == 0
    assert login(people["county_staff"]).get(ACCESS_LOG, {"q": "甲荐"}).context["page"].paginator.count == 1


def test_the_access_log_s_queries_do_not_grow(login, people, pipeline, django_assert_max_num_queries):
    organizer = login(people["party_a"])
    url = reverse("promotion:party-case", args=[pipeline["recommended"].pk])
    organizer.get(url)
    client = login(people["county_staff"])
    client.get(ACCESS_LOG)  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(7) as small:
        client.get(ACCESS_LOG)
    small_count = len(small.captured_queries)  # now: a later request clears the log
    organizer = login(people["party_a"])
    for _ in range(8):
        organizer.get(url)
    client = login(people["county_staff"])
    client.get(ACCESS_LOG)  # signed in again: its first renewal out of the count too
    with django_assert_max_num_queries(small_count):
        assert client.get(ACCESS_LOG).context["page"].paginator.count == 9


# --- the navigation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("secretary_a1", ["推优"], ["推优审核", "推优总览", "推优对象"]),
        ("township_a_staff", ["推优审核", "推优总览"], ["推优对象"]),
        ("county_staff", ["推优审核", "推优总览"], ["推优对象"]),
        ("party_a", ["推优对象"], ["推优审核", "推优总览"]),
        ("audit_admin", [], ["推优审核", "推优总览", "推优对象"]),
    ],
)
def test_the_navigation_leads_each_role_to_its_推优_pages(login, people, persona, shown, hidden):
    labels = [item["label"] for item in login(people[persona]).get(reverse("home")).context["nav_items"]]
    for label in shown:
        assert label in labels
    for label in hidden:
        assert label not in labels


def test_a_decided_case_leaves_the_review_count(login, people, pipeline):
    at_stage(pipeline["in_review"], Stage.APPROVED, stage_since=NOW - timedelta(days=1))
    response = login(people["county_staff"]).get(OVERVIEW)
    assert response.context["overview"].totals[Stage.IN_REVIEW] == 0
