"""Every eligibility rule, passing and failing, explained (domain.md §6.2, PROMOTION_RULES)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.models import Cadre, CommitteeSeat, CommitteeTerm, Honour, HonourTitle
from members.models import Evaluation, Registration, Sanction
from promotion import eligibility
from promotion.models import Track
from tests.conftest import make_member
from tests.promotion.helpers import TODAY, eligible_member, make_case


@pytest.fixture
def recorder(people):
    return people["county_staff"]


def _rules(result) -> dict[str, bool]:
    return {c.rule: c.ok for c in result.checks}


def _check(member, day=TODAY, **case_fields):
    case_fields.setdefault("party_applied_on", date(2025, 9, 1))
    return eligibility.check(make_case(member, recorder=member._recorder, **case_fields), day)


@pytest.fixture
def candidate(tree, recorder):
    member = eligible_member(tree["branch_a1"], "候选人", recorder=recorder)
    member._recorder = recorder
    return member


def test_a_member_meeting_every_rule_is_eligible_and_every_rule_is_explained(candidate):
    result = _check(candidate)
    assert result.ok
    assert _rules(result) == dict.fromkeys(
        ["age", "league_years", "application_wait", "registered", "evaluation", "sanction"], True
    )
    assert "年满26岁" in result.checks[0].detail
    assert result.as_json()[0] == {"rule": "age", "ok": True, "detail": result.checks[0].detail}


def test_age_below_18_fails(tree, recorder):
    member = eligible_member(tree["branch_a1"], "少年", recorder=recorder, birth_date=date(2008, 6, 11))
    member._recorder = recorder
    case = make_case(member, recorder=recorder)
    result = eligibility.check(case, TODAY)
    assert _rules(result)["age"] is False
    assert result.failing[0].detail == "17岁，未满18岁。"
    assert _rules(eligibility.check(case, date(2026, 6, 11)))["age"] is True  # the 18th birthday


@pytest.mark.parametrize(
    ("birth_date", "league_post", "ok"),
    [
        (date(1998, 6, 11), "", True),  # 28 tomorrow
        (date(1998, 6, 10), "", False),  # 28 today: leaves the League over age
        (date(1995, 1, 1), "secretary", True),  # a post holder stays a member while in post
    ],
)
def test_the_leaving_age_bars_members_without_a_league_post(tree, recorder, birth_date, league_post, ok):
    member = eligible_member(
        tree["branch_a1"], "大龄团员", recorder=recorder, birth_date=birth_date, league_post=league_post
    )
    result = eligibility.check(make_case(member, recorder=recorder), TODAY)
    assert _rules(result)["age"] is ok
    if not ok:
        assert result.failing[0].detail == "28岁，已到离团年龄（28岁）且未担任团内职务。"


def test_league_age_under_a_year_fails(tree, recorder):
    member = eligible_member(tree["branch_a1"], "新团员", recorder=recorder, joined_on=date(2025, 6, 11))
    member._recorder = recorder
    assert _rules(_check(member))["league_years"] is False


@pytest.mark.parametrize(
    ("applied_on", "month_only", "ok"),
    [
        (date(2025, 12, 10), False, True),  # exactly six months
        (date(2025, 12, 11), False, False),  # a day short
        (date(2025, 11, 1), True, True),  # November only: counted from 30 November
        (date(2025, 12, 1), True, False),  # December only: may have been 31 December
    ],
)
def test_the_wait_since_the_party_application(candidate, applied_on, month_only, ok):
    result = _check(candidate, party_applied_on=applied_on, party_applied_month_only=month_only)
    assert _rules(result)["application_wait"] is ok


def test_a_short_wait_says_a_written_reason_is_needed(candidate):
    (failing,) = _check(candidate, party_applied_on=date(2026, 3, 1)).failing
    assert failing.rule == eligibility.SHORT_WAIT_RULE
    assert "书面说明" in failing.detail


def test_the_wait_is_configurable(candidate, settings):
    settings.PROMOTION_RULES = {**settings.PROMOTION_RULES, "application_wait_months": 3}
    assert _check(candidate, party_applied_on=date(2026, 3, 1)).ok


def test_unregistered_and_inactive_members_fail(tree, candidate):
    case = make_case(candidate, recorder=candidate._recorder)
    Registration.objects.filter(member=candidate).delete()
    assert eligibility.check(case, TODAY).failing[0].detail == "未完成2026年度团籍注册。"
    type(candidate).objects.filter(pk=candidate.pk).update(status="withdrawn")
    assert eligibility.check(case, TODAY).failing[0].detail == "不是在册团员（退团）。"


def test_a_member_without_last_year_s_grade_fails_with_an_explanation(candidate):
    Evaluation.objects.filter(member=candidate).delete()
    (failing,) = _check(candidate).failing
    assert failing.rule == "evaluation"
    assert "2025" in failing.detail


@pytest.mark.parametrize(
    ("grade", "minimum", "ok"),
    [
        ("excellent", "qualified", True),
        ("qualified", "qualified", True),
        ("basic", "qualified", False),
        ("basic", "basic", True),
        ("qualified", "excellent", False),
    ],
)
def test_the_grade_must_reach_the_configured_minimum(candidate, settings, grade, minimum, ok):
    settings.PROMOTION_RULES = {**settings.PROMOTION_RULES, "min_evaluation_grade": minimum}
    Evaluation.objects.filter(member=candidate).update(grade=grade)
    assert _rules(_check(candidate))["evaluation"] is ok


def test_an_open_sanction_bars_and_a_lifted_one_does_not(candidate, recorder):
    sanction = Sanction.objects.create(
        member=candidate, kind="warning", imposed_on=date(2026, 1, 5), reason="旷会", recorded_by=recorder
    )
    (failing,) = _check(candidate).failing
    assert failing.rule == "sanction" and "2026-01-05" in failing.detail
    sanction.lifted_on = date(2026, 6, 1)
    sanction.save()
    assert _check(candidate, track=Track.DEVELOPMENT, activist_since=date(2025, 1, 1)).ok


@pytest.mark.parametrize(
    ("activist_since", "ok"), [(date(2025, 6, 10), True), (date(2025, 6, 11), False), (None, False)]
)
def test_the_development_track_needs_a_year_as_activist(candidate, activist_since, ok):
    result = _check(candidate, track=Track.DEVELOPMENT, activist_since=activist_since)
    assert _rules(result)["activist_years"] is ok


def test_cadres_and_honoured_members_are_priority_candidates(tree, candidate, recorder):
    assert not _check(candidate).is_priority
    title = HonourTitle.objects.create(name="优秀共青团员测试")
    Honour.objects.create(
        title=title, level="county", year=2025, issuer="团县委", member=candidate, recorded_by=recorder
    )
    seat_holder = eligible_member(tree["branch_a1"], "委员", recorder=recorder)
    term = CommitteeTerm.objects.create(
        organization=tree["branch_a1"], starts_on=date(2025, 1, 1), length_years=3, recorded_by=recorder
    )
    cadre = Cadre.objects.create(
        organization=tree["branch_a1"],
        member=seat_holder,
        name="委员",
        sex="M",
        birth_date=seat_holder.birth_date,
        education="senior",
        employment="part_time",
        establishment="other",
    )
    CommitteeSeat.objects.create(term=term, cadre=cadre, post="committee", since=date(2025, 1, 1))
    secretary = eligible_member(tree["branch_a1"], "书记", recorder=recorder, league_post="secretary")
    members = {m.name: m for m in eligibility.with_facts(tree["branch_a1"].members.all(), TODAY)}
    assert eligibility.priority_reasons(members["候选人"]) == ["荣誉：2025 优秀共青团员测试"]
    assert eligibility.priority_reasons(members["委员"]) == ["担任支部委员会职务"]
    assert eligibility.priority_reasons(members["书记"]) == ["团内职务：书记"]
    assert secretary.pk in {m.pk for m in members.values()}


def test_checking_a_whole_branch_takes_a_fixed_number_of_queries(tree, recorder):
    for i in range(3):
        eligible_member(tree["branch_a1"], f"甲{i}", recorder=recorder)
    with CaptureQueriesContext(connection) as small:
        list(eligibility.with_facts(tree["branch_a1"].members.all(), TODAY))
    for i in range(12):
        eligible_member(tree["branch_a1"], f"乙{i}", recorder=recorder)
    with CaptureQueriesContext(connection) as large:
        members = list(eligibility.with_facts(tree["branch_a1"].members.all(), TODAY))
    assert len(members) == 15
    assert len(small) == len(large) == 2


def test_checking_several_cases_takes_a_fixed_number_of_queries(tree, recorder):
    cases = [
        make_case(eligible_member(tree["branch_a1"], f"丙{i}", recorder=recorder), recorder=recorder) for i in range(5)
    ]
    with CaptureQueriesContext(connection) as queries:
        results = eligibility.check_cases(cases, TODAY)
    assert len(queries) == 2
    assert set(results) == {case.pk for case in cases} and all(r.ok for r in results.values())


def _listed(eligibility_json, *, exception_reason="", short_wait_reason=""):
    from promotion.models import Nomination

    return Nomination(
        eligibility=eligibility_json, exception_reason=exception_reason, short_wait_reason=short_wait_reason
    )


def test_only_the_rules_excused_when_listed_stay_excused(candidate, recorder):
    """Checked again later (at submission, at review): a rule failing when listed and allowed by the
    county's exception (or, for a short wait, by its reason) is excused; a rule failing since is not."""
    Registration.objects.filter(member=candidate).delete()
    Sanction.objects.create(
        member=candidate, kind="warning", imposed_on=date(2026, 6, 1), reason="旷会", recorded_by=recorder
    )
    result = _check(candidate, party_applied_on=date(2026, 3, 1))
    assert {c.rule for c in result.failing} == {"registered", "sanction", "application_wait"}
    when_listed = [
        {"rule": "registered", "ok": False, "detail": ""},
        {"rule": "sanction", "ok": True, "detail": ""},
        {"rule": "application_wait", "ok": False, "detail": ""},
    ]
    assert {c.rule for c in eligibility.unexcused(result, None)} == {"registered", "sanction", "application_wait"}
    assert {c.rule for c in eligibility.unexcused(result, _listed(when_listed))} == {
        "registered",
        "sanction",
        "application_wait",
    }
    excused = _listed(when_listed, exception_reason="县团委同意", short_wait_reason="表现突出")
    assert [c.rule for c in eligibility.unexcused(result, excused)] == ["sanction"]
    # The county's exception does not stand for the written reason of a short wait.
    assert {c.rule for c in eligibility.unexcused(result, _listed(when_listed, exception_reason="同意"))} == {
        "sanction",
        "application_wait",
    }


@pytest.mark.parametrize(("members", "cap"), [(0, 0), (4, 0), (5, 1), (9, 1), (10, 2), (15, 3), (35, 7)])
def test_the_share_cap_rounds_down(members, cap):
    assert eligibility.share_cap(members) == cap


def test_the_share_cap_check_explains_the_figures(db):
    assert eligibility.share_cap_check(listed=2, active_members=10).ok
    refused = eligibility.share_cap_check(listed=3, active_members=10)
    assert not refused.ok and refused.rule == eligibility.SHARE_CAP_RULE


def test_make_member_default_is_not_enough_on_its_own(tree):
    """A member with no registration or grade fails those two rules, and only those."""
    member = make_member(tree["branch_a1"], "普通", birth_date=date(2000, 1, 1), joined_on=date(2015, 1, 1))
    result = eligibility.check_member(
        eligibility.with_facts(type(member).objects.filter(pk=member.pk), TODAY).get(),
        track=Track.ACTIVIST,
        party_applied_on=None,
        day=TODAY,
    )
    assert {c.rule for c in result.failing} == {"application_wait", "registered", "evaluation"}
