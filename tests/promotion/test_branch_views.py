"""The branch's 推优 pages: the workbench, the pipeline board, opening a case, the case page and the
actions taken on it. The rules themselves are the services' (test_services*.py): here, that each page
calls them, shows what they refuse in Chinese next to the field, leaves the database as it was, and
stays in scope (404 outside it, 403 in it without the role)."""

from __future__ import annotations

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from members.models import PoliticalStatus
from promotion import services
from promotion.models import CultivationReport, FollowUpReport, PromotionCase, Stage, Talk
from tests.conftest import make_member
from tests.promotion.helpers import NOW, TODAY, at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")

WORKERS = ["secretary_a1", "deputy_a1", "township_a_staff", "county_staff"]
OUTSIDERS = ["secretary_b1", "township_b_staff", "nobody"]


@pytest.fixture
def member(tree, people):
    return eligible_member(tree["branch_a1"], "王小明", recorder=people["county_staff"])


@pytest.fixture
def case(member, people):
    return make_case(member, recorder=people["secretary_a1"])


def board_url(branch):
    return reverse("promotion:board", args=[branch.pk])


def case_url(case):
    return reverse("promotion:case", args=[case.pk])


def action_url(case, action):
    return reverse("promotion:case-action", args=[case.pk, action])


# --- scope: every page of this module ---------------------------------------------------------------


def branch_pages(tree, case):
    branch = tree["branch_a1"]
    return [
        board_url(branch),
        reverse("promotion:case-open", args=[branch.pk]),
        case_url(case),
        action_url(case, "talk"),
    ]


@pytest.mark.parametrize("persona", WORKERS)
def test_the_branch_s_workers_open_every_page(tree, people, login, case, persona):
    client = login(people[persona])
    for url in branch_pages(tree, case):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_find_nothing(tree, people, login, case, persona):
    client = login(people[persona])
    for url in branch_pages(tree, case):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", [*OUTSIDERS, "party_a", "system_admin"])
def test_outsiders_post_no_action(people, login, case, persona):
    client = login(people[persona])
    talk = {"held_on": "2026-06-01", "held_by": "支部书记", "summary": "谈心"}
    assert client.post(action_url(case, "talk"), talk).status_code == 404
    assert client.post(action_url(case, "withdraw"), {"reason": "外部", "confirm": "on"}).status_code == 404
    assert not Talk.objects.exists()
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.CULTIVATION


def test_an_instance_administrator_sees_the_branch_but_may_not_work_on_it(tree, people, login, case):
    client = login(people["system_admin"])
    assert client.get(board_url(tree["branch_a1"])).status_code == 403
    assert client.get(reverse("promotion:case-open", args=[tree["branch_a1"].pk])).status_code == 403
    assert client.get(case_url(case)).status_code == 404  # people's records: none at all
    assert client.get(reverse("promotion:branches")).status_code == 403


def test_a_party_organizer_reads_handed_over_cases_on_their_own_pages_only(tree, people, login, case):
    handed = at_stage(
        case, Stage.RECOMMENDED, party_organization=tree["party_a"], recommended_on=TODAY, valid_until=date(2028, 6, 9)
    )
    client = login(people["party_a"])
    assert client.get(case_url(handed)).status_code == 403
    assert client.get(action_url(handed, "follow-up-report")).status_code == 403
    assert client.get(board_url(tree["branch_a1"])).status_code == 404
    assert client.get(board_url(tree["township_a"])).status_code == 404  # not a branch


def test_anonymous_visitors_are_sent_to_sign_in(tree, client, case):
    for url in branch_pages(tree, case):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- the workbench and the board --------------------------------------------------------------------


def test_a_secretary_of_one_branch_goes_straight_to_its_board(tree, people, login):
    response = login(people["secretary_a1"]).get(reverse("promotion:branches"))
    assert response.status_code == 302
    assert response["Location"] == board_url(tree["branch_a1"])


def test_staff_pick_a_branch_with_its_open_cases_and_search(tree, people, login, case):
    client = login(people["township_a_staff"])
    page = client.get(reverse("promotion:branches")).content.decode()
    assert "甲一村团支部" in page and "甲镇中学九年级团支部" in page and "乙一村团支部" not in page
    assert "1条进行中" in page
    found = client.get(reverse("promotion:branches"), {"q": "九年级"}).content.decode()
    assert "甲镇中学九年级团支部" in found and "甲一村团支部" not in found
    assert "没有符合条件的团支部" in client.get(reverse("promotion:branches"), {"q": "无此支部"}).content.decode()


def test_the_board_shows_cases_by_stage_with_the_next_step_and_reports_due(tree, people, login, case, clock):
    # Applied in September 2025: reports owed from Q4 2025; Q3 2026 ended and was due by 15 October.
    clock.move_to("2026-10-20 09:00 +0800")
    make_case(
        eligible_member(tree["branch_a1"], "李红", recorder=people["county_staff"]), recorder=people["secretary_a1"]
    )
    returned = at_stage(
        make_case(
            eligible_member(tree["branch_a1"], "赵强", recorder=people["county_staff"]), recorder=people["secretary_a1"]
        ),
        Stage.RETURNED,
    )

    response = login(people["secretary_a1"]).get(board_url(tree["branch_a1"]))

    page = response.content.decode()
    assert response.status_code == 200
    columns = {column.stage: [item.case.member.name for item in column.cases] for column in response.context["board"]}
    assert columns[Stage.CULTIVATION] == ["王小明", "李红"]
    assert columns[Stage.RETURNED] == [returned.member.name]
    for column in response.context["board"]:
        for item in column.cases:
            assert item.next_step and item.next_step in page
    due = next(c for c in response.context["board"] if c.stage == Stage.CULTIVATION).cases[0].due
    assert [(report.period, report.overdue_days) for report in due] == [
        (date(2025, 10, 1), 278),
        (date(2026, 1, 1), 188),
        (date(2026, 4, 1), 97),
        (date(2026, 7, 1), 5),
    ]
    assert all(report.label in page for report in due)
    assert "已逾期5天" in page and "已逾期97天" in page
    assert f'href="{reverse("promotion:case-open", args=[tree["branch_a1"].pk])}"' in page


def test_an_empty_board_says_what_to_do(tree, people, login):
    page = login(people["secretary_a1"]).get(board_url(tree["branch_a1"])).content.decode()
    assert "暂无进行中的推优记录" in page


@pytest.mark.parametrize("cases", [2, 12])
def test_the_board_reads_a_fixed_number_of_queries(tree, people, login, cases, django_assert_max_num_queries):
    for i in range(cases):
        make_case(
            eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]),
            recorder=people["secretary_a1"],
        )
    client = login(people["secretary_a1"])
    client.get(board_url(tree["branch_a1"]))  # the session's first renewal (a write) out of the count
    # The same number at 2 and at 12 cases: nothing is read per case.
    with django_assert_max_num_queries(8):
        assert client.get(board_url(tree["branch_a1"])).status_code == 200


# --- opening a case ---------------------------------------------------------------------------------


def open_case_url(tree):
    return reverse("promotion:case-open", args=[tree["branch_a1"].pk])


def test_the_roster_offers_the_branch_s_active_members_only(tree, people, login, member):
    make_member(tree["branch_b1"], "外支部")
    left = make_member(tree["branch_a1"], "已离团", status="over_age")

    form = login(people["secretary_a1"]).get(open_case_url(tree)).context["form"]

    assert list(form.fields["member"].queryset) == [member]
    assert left not in form.fields["member"].queryset


def test_a_case_is_opened_with_the_application_known_to_the_month(tree, people, login, member):
    response = login(people["deputy_a1"]).post(
        open_case_url(tree), {"member": member.pk, "track": "activist", "party_applied_on": "2025-09"}
    )

    case = PromotionCase.objects.get(member=member)
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert (case.party_applied_on, case.party_applied_month_only) == (date(2025, 9, 1), True)
    assert case.transitions.get().on_behalf_of == people["secretary_a1"]


def test_a_whole_date_is_kept_whole(tree, people, login, member):
    login(people["secretary_a1"]).post(
        open_case_url(tree), {"member": member.pk, "track": "activist", "party_applied_on": "2025-09-17"}
    )
    case = PromotionCase.objects.get(member=member)
    assert (case.party_applied_on, case.party_applied_month_only) == (date(2025, 9, 17), False)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"party_applied_on": "2025-13"}, "party_applied_on", "请填写日期（如 2025-03-15）或月份（如 2025-03）。"),
        ({"party_applied_on": "九月"}, "party_applied_on", "请填写日期（如 2025-03-15）或月份（如 2025-03）。"),
        ({"party_applied_on": "2027-01"}, "party_applied_on", "日期不能晚于今天。"),
        ({"track": "development"}, "activist_since", "请填写确定为入党积极分子的日期。"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_opened(
    tree, people, login, member, data, field, message
):
    post = {"member": member.pk, "track": "activist", "party_applied_on": "2025-09", **data}

    response = login(people["secretary_a1"]).post(open_case_url(tree), post)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not PromotionCase.objects.exists()


def test_a_second_open_case_on_the_track_is_refused(tree, people, login, case):
    response = login(people["secretary_a1"]).post(
        open_case_url(tree), {"member": case.member.pk, "track": "activist", "party_applied_on": "2025-09"}
    )
    assert "王小明已有同类推优正在进行。" in response.context["form"].non_field_errors()
    assert PromotionCase.objects.count() == 1


def test_a_member_of_another_branch_cannot_be_posted(tree, people, login):
    outsider = make_member(tree["branch_b1"], "外支部")
    response = login(people["secretary_a1"]).post(
        open_case_url(tree), {"member": outsider.pk, "track": "activist", "party_applied_on": "2025-09"}
    )
    assert "member" in response.context["form"].errors
    assert not PromotionCase.objects.exists()


# --- the case page ----------------------------------------------------------------------------------


def test_the_case_page_shows_masked_data_the_timeline_and_what_may_be_done(tree, people, login, member):
    case = services.case_open(
        member=member,
        track="activist",
        party_applied_on=date(2025, 9, 1),
        month_only=True,
        actor=people["secretary_a1"],
    )

    response = login(people["secretary_a1"]).get(case_url(case))

    page = response.content.decode()
    assert member.id_number_masked in page
    assert member.id_number not in page
    assert "2025-09" in page and "2025-09-01" not in page  # known only to the month
    assert [item.title for item in response.context["timeline"]] == [str(services.ACTION_LABELS["open"])]
    assert str(services.ACTION_LABELS["open"]) in page
    actions = [name for name, _action in response.context["actions"]]
    assert actions == ["cultivation-report", "talk", "withdraw"]
    for name in actions:
        assert f'href="{action_url(case, name)}"' in page
    assert reverse("promotion:case-form-pdf", args=[case.pk]) not in page  # not approved yet


@pytest.mark.parametrize("items", [1, 8])
def test_the_case_page_reads_a_fixed_number_of_queries(people, login, case, items, django_assert_max_num_queries):
    """The same at 1 and at 8 of each kind on the timeline: nothing is read per report or talk."""
    recorder = people["secretary_a1"]
    for i in range(items):
        services.talk_record(
            case=case, held_on=date(2026, 6, 1 + i), held_by="支部书记", summary="谈心", actor=recorder
        )
        CultivationReport.objects.create(
            case=case, year=2024 + i // 4, quarter=i % 4 + 1, content="好", filed_by=recorder
        )
        FollowUpReport.objects.create(
            case=case,
            month=date(2025 + i // 12, i % 12 + 1, 1),
            thinking="稳",
            work="勤",
            study="学",
            filed_by=recorder,
        )
    recommended = at_stage(case, Stage.RECOMMENDED, recommended_on=date(2025, 1, 6), valid_until=date(2027, 1, 5))
    client = login(recorder)
    client.get(case_url(recommended))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(13):
        response = client.get(case_url(recommended))
    assert len(response.context["timeline"]) == 3 * items


def test_an_approved_case_offers_the_form_and_the_hand_over(tree, people, login, case):
    approved = at_stage(case, Stage.APPROVED)
    response = login(people["secretary_a1"]).get(case_url(approved))
    assert reverse("promotion:case-form-pdf", args=[case.pk]) in response.content.decode()
    assert [name for name, _action in response.context["actions"]] == [
        "cultivation-report",
        "talk",
        "hand-over",
        "withdraw",
    ]


# --- actions ----------------------------------------------------------------------------------------


def test_a_cultivation_report_is_filed_once_a_quarter(people, login, case):
    client = login(people["secretary_a1"])
    form = client.get(action_url(case, "cultivation-report")).context["form"]
    # The first quarter missing: the one after the Party application's (September 2025).
    assert (form.initial["year"], form.initial["quarter"]) == (2025, 4)

    data = {"year": 2026, "quarter": 1, "content": "积极参加团日活动"}
    response = client.post(action_url(case, "cultivation-report"), data)
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert CultivationReport.objects.get(case=case).content == "积极参加团日活动"

    again = client.post(action_url(case, "cultivation-report"), data)
    assert "2026年第1季度的报告已报送。" in again.context["form"].errors["quarter"]
    assert CultivationReport.objects.count() == 1


def test_a_talk_is_recorded_and_a_blank_one_refused(people, login, case):
    client = login(people["secretary_a1"])
    blank = client.post(action_url(case, "talk"), {"held_on": "2026-06-01", "held_by": "  ", "summary": "谈思想"})
    assert blank.status_code == 200 and not Talk.objects.exists()
    client.post(action_url(case, "talk"), {"held_on": "2026-06-01", "held_by": "支部书记", "summary": "谈思想"})
    assert Talk.objects.get(case=case).held_by == "支部书记"


def test_an_action_not_open_at_the_stage_is_turned_away(people, login, case):
    response = login(people["secretary_a1"]).get(action_url(case, "hand-over"))
    assert response.status_code == 302 and response["Location"] == case_url(case)
    response = login(people["secretary_a1"]).post(action_url(case, "follow-up-report"), {"month": "2026-05"})
    assert response.status_code == 302
    assert not FollowUpReport.objects.exists()


def test_a_returned_case_is_resubmitted_with_a_comment(people, login, case):
    returned = at_stage(case, Stage.RETURNED)
    client = login(people["secretary_a1"])
    assert client.post(action_url(returned, "resubmit"), {"comment": ""}).status_code == 200
    client.post(action_url(returned, "resubmit"), {"comment": "已补充材料"})
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.IN_REVIEW


def test_the_hand_over_defaults_to_the_paired_party_organization(tree, people, login, case):
    approved = at_stage(case, Stage.APPROVED)
    login(people["secretary_a1"]).post(action_url(approved, "hand-over"), {"handed_over_on": "2026-06-10"})
    handed = PromotionCase.objects.get(pk=case.pk)
    assert (handed.stage, handed.party_organization, handed.recommended_on) == (
        Stage.RECOMMENDED,
        tree["party_a"],
        TODAY,
    )


def test_the_first_monthly_follow_up_report(people, login, case):
    recommended = at_stage(case, Stage.RECOMMENDED, recommended_on=TODAY, valid_until=date(2028, 6, 9))
    client = login(people["secretary_a1"])
    response = client.post(
        action_url(recommended, "follow-up-report"),
        {"month": "2026-06", "thinking": "思想端正", "work": "工作积极", "study": "学习认真"},
    )
    assert response.status_code == 302
    report = FollowUpReport.objects.get(case=case)
    assert (report.month, report.thinking) == (date(2026, 6, 1), "思想端正")
    bad = client.post(
        action_url(recommended, "follow-up-report"), {"month": "6月", "thinking": "a", "work": "b", "study": "c"}
    )
    assert "请输入月份，例如 2025-03。" in bad.context["form"].errors["month"]


def test_the_party_s_decision_offers_the_next_decisions_and_shows_warnings(people, login, case, clock):
    recommended = at_stage(case, Stage.RECOMMENDED, recommended_on=TODAY, valid_until=date(2028, 6, 9))
    client = login(people["secretary_a1"])
    form = client.get(action_url(recommended, "party-decision")).context["form"]
    assert [value for value, _label in form.fields["decision"].choices] == ["activist", "development", "not_adopted"]

    client.post(action_url(recommended, "party-decision"), {"decision": "activist", "decided_on": "2026-06-10"})
    clock.move_to("2027-03-01 09:00 +0800")
    client = login(people["secretary_a1"])  # a new day's session
    response = client.post(
        action_url(recommended, "party-decision"), {"decision": "development", "decided_on": "2027-03-01"}, follow=True
    )
    page = response.content.decode()
    assert "2026-06-10确定为入党积极分子，列为发展对象时培养期不满1年。" in page
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.DEVELOPMENT


def test_probationary_admission_updates_the_member(people, login, case):
    developing = at_stage(
        case,
        Stage.DEVELOPMENT,
        recommended_on=date(2025, 3, 3),
        activist_since=date(2025, 4, 1),
        development_on=date(2026, 5, 6),
    )
    login(people["secretary_a1"]).post(
        action_url(developing, "party-decision"), {"decision": "probationary", "decided_on": "2026-06-01"}
    )
    assert PromotionCase.objects.get(pk=case.pk).member.political_status == PoliticalStatus.PROBATIONARY_PARTY


def test_withdrawing_needs_the_confirmation_box(people, login, case):
    client = login(people["secretary_a1"])
    response = client.post(action_url(case, "withdraw"), {"reason": "本人申请"})
    assert "请勾选以确认。" in response.context["form"].errors["confirm"]
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.CULTIVATION

    client.post(action_url(case, "withdraw"), {"reason": "本人申请", "confirm": "on"})
    withdrawn = PromotionCase.objects.get(pk=case.pk)
    assert (withdrawn.stage, withdrawn.closing_reason) == (Stage.WITHDRAWN, "本人申请")
    entry = LogEntry.objects.get_for_object(withdrawn).latest("timestamp")
    assert (entry.actor, entry.changes_dict["stage"]) == (people["secretary_a1"], ["cultivation", "withdrawn"])


@pytest.mark.parametrize("extra_branches", [0, 6])
def test_the_workbench_reads_a_fixed_number_of_queries(
    tree, people, login, extra_branches, django_assert_max_num_queries
):
    from branches.models import OrganizationKind, Sector
    from tests.conftest import add

    for i in range(extra_branches):
        branch = add(
            tree["township_a"],
            name=f"甲镇{i}村团支部",
            code=f"C-A-X{i}",
            kind=OrganizationKind.BRANCH,
            sector=Sector.VILLAGE,
        )
        make_case(eligible_member(branch, f"团员{i}", recorder=people["county_staff"]), recorder=people["county_staff"])
    client = login(people["county_staff"])
    client.get(reverse("promotion:branches"))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(8):
        response = client.get(reverse("promotion:branches"))
    assert response.context["page"].paginator.count == 3 + extra_branches


def test_reviewers_are_sent_to_the_review_page_and_the_branch_is_not(people, login, case):
    in_review = at_stage(case, Stage.IN_REVIEW)
    review_url = reverse("promotion:review-case", args=[case.pk])
    assert review_url in login(people["township_a_staff"]).get(case_url(in_review)).content.decode()
    assert review_url not in login(people["secretary_a1"]).get(case_url(in_review)).content.decode()


def test_the_hand_over_offers_the_paired_party_organization(tree, people, login, case):
    approved = at_stage(case, Stage.APPROVED)
    form = login(people["secretary_a1"]).get(action_url(approved, "hand-over")).context["form"]
    assert form.initial["party_organization"] == tree["party_a"]  # branch A1 has none; township A is paired


def hand_over_choices(client, case):
    return list(client.get(action_url(case, "hand-over")).context["form"].fields["party_organization"].queryset)


def test_the_hand_over_offers_only_the_party_organizations_paired_along_the_branch_s_path(tree, people, login):
    """Nearest first: general branch AG is paired with party B, township A above it with party A."""
    tree["general_ag"].party_organization = tree["party_b"]
    tree["general_ag"].save(update_fields=["party_organization"])
    member = eligible_member(tree["branch_ag1"], "李小红", recorder=people["county_staff"])
    ag1_case = at_stage(make_case(member, recorder=people["county_staff"]), Stage.APPROVED)
    a1_case = at_stage(
        make_case(
            eligible_member(tree["branch_a1"], "赵小刚", recorder=people["county_staff"]),
            recorder=people["county_staff"],
        ),
        Stage.APPROVED,
    )
    assert hand_over_choices(login(people["township_a_staff"]), ag1_case) == [tree["party_b"], tree["party_a"]]
    assert hand_over_choices(login(people["secretary_a1"]), a1_case) == [tree["party_a"]]
    # County staff may pick any Party organization of the county.
    assert set(hand_over_choices(login(people["county_staff"]), a1_case)) == {tree["party_a"], tree["party_b"]}


def test_a_branch_cannot_hand_over_to_an_unrelated_party_organization(tree, people, login, case):
    approved = at_stage(case, Stage.APPROVED)
    response = login(people["secretary_a1"]).post(
        action_url(approved, "hand-over"), {"handed_over_on": "2026-06-10", "party_organization": tree["party_b"].pk}
    )
    assert response.context["form"].errors["party_organization"] == [
        "此处不能选择这个党组织。请输入党组织名称中的几个字，再从列表中选取。"
    ]
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.APPROVED
    login(people["county_staff"]).post(
        action_url(approved, "hand-over"), {"handed_over_on": "2026-06-10", "party_organization": tree["party_b"].pk}
    )
    assert PromotionCase.objects.get(pk=case.pk).party_organization == tree["party_b"]


def test_the_cultivation_report_form_starts_on_the_earliest_quarter_missing(people, login, case):
    """Opened in November 2025, the 2025 Q4 report filed: 2026 Q1 is the one missing (not this quarter)."""
    PromotionCase.objects.filter(pk=case.pk).update(created_at=NOW.replace(year=2025, month=11, day=3))
    CultivationReport.objects.create(
        case=case, year=2025, quarter=4, content="表现良好", filed_by=people["secretary_a1"]
    )
    form = login(people["secretary_a1"]).get(action_url(case, "cultivation-report")).context["form"]
    assert (form.initial["year"], form.initial["quarter"]) == (2026, 1)


def test_the_follow_up_form_starts_on_the_earliest_month_missing(people, login, case):
    """Recommended on 2 March, the April report filed: March is the one missing."""
    recommended = at_stage(case, Stage.RECOMMENDED, recommended_on=date(2026, 3, 2), valid_until=date(2028, 3, 1))
    FollowUpReport.objects.create(
        case=case, month=date(2026, 4, 1), thinking="稳定", work="积极", study="认真", filed_by=people["secretary_a1"]
    )
    response = login(people["secretary_a1"]).get(action_url(recommended, "follow-up-report"))
    assert response.context["form"].initial["month"] == date(2026, 3, 1)
    assert 'value="2026-03"' in response.content.decode()


@pytest.mark.parametrize(
    "month_only, style, shown",
    [
        (True, "short", "2025-09"),
        (False, "short", "2025-09-15"),
        (True, "long", "2025年9月"),
        (False, "long", "2025年9月15日"),
    ],
)
def test_the_party_application_date_is_shown_as_far_as_it_is_known(case, month_only, style, shown):
    """One filter for the case page, the Party organizer's page and the printed form."""
    from promotion.templatetags.promotion_ui import party_application_date

    PromotionCase.objects.filter(pk=case.pk).update(
        party_applied_on=date(2025, 9, 15), party_applied_month_only=month_only
    )
    assert party_application_date(PromotionCase.objects.get(pk=case.pk), style) == shown
