"""The Party organizer's read-only pages: only the people handed over to their Party organization, only
the agreed hand-over fields (never ID numbers, phones or evaluations), each look recorded for the county."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from branches.models import Role
from members.models import Evaluation
from promotion.models import FollowUpReport, PromotionCase, Stage, Talk
from tests.branches.test_scope_matrix import PERSONAS
from tests.conftest import make_user
from tests.promotion.staff_helpers import handed_over_case

pytestmark = pytest.mark.usefixtures("clock")

LIST = reverse("promotion:party-cases")


@pytest.fixture
def handed(tree, people):
    """A case handed to party A (with a report and a talk), one to party B, one of party A's branch
    not yet handed over."""
    recorder = people["county_staff"]
    mine = handed_over_case(
        tree["branch_a1"],
        "甲一",
        recorder=recorder,
        party=tree["party_a"],
        stage=Stage.ACTIVIST,
        activist_since=date(2026, 5, 6),
    )
    FollowUpReport.objects.create(
        case=mine, month=date(2026, 4, 1), thinking="思想稳定", work="工作积极", study="学习认真", filed_by=recorder
    )
    Talk.objects.create(
        case=mine, held_on=date(2026, 5, 20), held_by="党支部委员", summary="谈心", recorded_by=recorder
    )
    Evaluation.objects.filter(member=mine.member).update(grade="excellent")
    other = handed_over_case(tree["branch_b1"], "乙一", recorder=recorder, party=tree["party_b"])
    pending = handed_over_case(tree["branch_a1"], "甲二", recorder=recorder, party=tree["party_a"])
    PromotionCase.objects.filter(pk=pending.pk).update(stage=Stage.APPROVED, recommended_on=None, valid_until=None)
    return {"mine": mine, "other": other, "pending": pending}


LIST_ACCESS = {persona: 403 for persona in PERSONAS} | {"party_a": 200}
DETAIL_ACCESS = {persona: 403 for persona in PERSONAS} | {"party_a": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_party_organizers_open_the_list(login, people, handed, persona):
    assert login(people[persona]).get(LIST).status_code == LIST_ACCESS[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_party_organizers_open_a_handed_over_case(login, people, handed, persona):
    url = reverse("promotion:party-case", args=[handed["mine"].pk])
    assert login(people[persona]).get(url).status_code == DETAIL_ACCESS[persona]


def test_the_list_holds_only_what_was_handed_to_the_organizer(login, people, handed):
    response = login(people["party_a"]).get(LIST)
    assert [record.pk for record in response.context["rows"]] == [handed["mine"].pk]
    body = response.content.decode()
    assert "甲一" in body and "乙一" not in body and "甲二" not in body


def test_a_case_of_another_party_organization_or_not_handed_over_is_not_found(login, people, handed):
    client = login(people["party_a"])
    for case in (handed["other"], handed["pending"]):
        assert client.get(reverse("promotion:party-case", args=[case.pk])).status_code == 404
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_an_organizer_of_another_party_organization_sees_nothing_of_ours(login, tree, people, handed):
    party_b = make_user("party_b", Role.PARTY_ORGANIZER, party_organization=tree["party_b"])
    client = login(party_b)
    assert client.get(reverse("promotion:party-case", args=[handed["mine"].pk])).status_code == 404
    assert [record.pk for record in client.get(LIST).context["rows"]] == [handed["other"].pk]


def test_the_case_shows_the_agreed_fields_and_never_id_numbers_phones_or_grades(login, people, handed):
    case = handed["mine"]
    member = case.member
    body = login(people["party_a"]).get(reverse("promotion:party-case", args=[case.pk])).content.decode()
    for shown in [
        "甲一",
        "2000-03-01",
        "2015-05-04",
        "2025-09-01",
        "2026-03-02",
        "2028-03-01",
        "2026-05-06",
        "思想稳定",
        "谈心",
        "甲一村团支部",
    ]:
        assert shown in body, shown
    for hidden in [member.id_number, member.id_number_masked, member.id_number[-4:], member.phone, "优秀"]:
        assert hidden not in body, hidden


def test_the_page_gets_only_the_agreed_record_and_what_came_after_the_hand_over(login, people, handed):
    """The template is given a record of the agreed fields, not the case: the workplace, the phone, the ID
    number's tail and the talks and reports from before the hand-over (2 March) are not there to print."""
    case = handed["mine"]
    recorder = people["county_staff"]
    type(case.member).objects.filter(pk=case.member.pk).update(workplace="县第一中学")
    Talk.objects.create(
        case=case, held_on=date(2026, 3, 1), held_by="支部书记", summary="移交前的谈话", recorded_by=recorder
    )
    Talk.objects.create(
        case=case, held_on=date(2026, 3, 2), held_by="党支部委员", summary="移交当天谈话", recorded_by=recorder
    )
    FollowUpReport.objects.create(
        case=case, month=date(2026, 2, 1), thinking="移交前的报告", work="-", study="-", filed_by=recorder
    )
    response = login(people["party_a"]).get(reverse("promotion:party-case", args=[case.pk]))
    assert (
        set(response.context.keys()) >= {"record"}
        and "case" not in response.context
        and "member" not in response.context
    )
    record = response.context["record"]
    assert [t.summary for t in record.talks] == ["谈心", "移交当天谈话"]
    assert [r.month for r in record.follow_up_reports] == [date(2026, 4, 1)]
    body = response.content.decode()
    member = case.member
    for hidden in ["县第一中学", member.phone, member.id_number[-4:], "移交前的谈话", "移交前的报告"]:
        assert hidden not in body, hidden
    assert "移交当天谈话" in body


def test_a_head_request_is_not_recorded_as_a_look(login, people, handed):
    client = login(people["party_a"])
    assert client.head(reverse("promotion:party-case", args=[handed["mine"].pk])).status_code == 200
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_list_never_shows_id_numbers_or_phones(login, people, handed):
    member = handed["mine"].member
    body = login(people["party_a"]).get(LIST).content.decode()
    assert member.id_number_masked not in body and member.phone not in body


def test_every_look_is_recorded_as_an_access(login, people, handed):
    client = login(people["party_a"])
    url = reverse("promotion:party-case", args=[handed["mine"].pk])
    client.get(url)
    client.get(url)
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_id=handed["mine"].pk)
    assert entries.count() == 2
    assert {entry.actor for entry in entries} == {people["party_a"]}


def test_the_list_filters_by_name_and_stage(login, tree, people, handed):
    handed_over_case(tree["branch_a1"], "甲三", recorder=people["county_staff"], party=tree["party_a"])
    client = login(people["party_a"])
    assert [r.name for r in client.get(LIST, {"q": "三"}).context["rows"]] == ["甲三"]
    assert [r.name for r in client.get(LIST, {"stage": Stage.ACTIVIST}).context["rows"]] == ["甲一"]
    assert len(client.get(LIST, {"stage": "nonsense"}).context["rows"]) == 2


def test_a_case_continued_on_the_development_track_stays_listed_and_filtered(login, tree, people, handed):
    handed_over_case(
        tree["branch_a1"], "甲五", recorder=people["county_staff"], party=tree["party_a"], stage=Stage.CONTINUED
    )
    response = login(people["party_a"]).get(LIST, {"stage": Stage.CONTINUED})
    assert (Stage.CONTINUED.value, "转入发展对象推优") in response.context["stages"]
    assert [(r.name, r.stage_label) for r in response.context["rows"]] == [("甲五", "转入发展对象推优")]


def test_an_expiring_recommendation_is_flagged(login, tree, people, handed):
    handed_over_case(
        tree["branch_a1"],
        "甲四",
        recorder=people["county_staff"],
        party=tree["party_a"],
        recommended_on=date(2024, 7, 1),
    )
    assert "剩余 20 天" in login(people["party_a"]).get(LIST).content.decode()


def test_the_list_s_queries_do_not_grow_with_its_length(login, tree, people, handed, django_assert_max_num_queries):
    client = login(people["party_a"])
    client.get(LIST)  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(7) as small:
        client.get(LIST)
    small_count = len(small.captured_queries)  # now: a later request clears the log
    for i in range(15):
        handed_over_case(tree["branch_a1"], f"甲{i}号", recorder=people["county_staff"], party=tree["party_a"])
    with django_assert_max_num_queries(small_count):
        assert len(client.get(LIST).context["rows"]) == 16


def test_nothing_handed_over_yet_says_so(login, people):
    assert "团组织尚未向本党组织移交推优对象" in login(people["party_a"]).get(LIST).content.decode()
