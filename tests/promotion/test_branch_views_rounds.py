"""A branch's recommendation rounds through their pages: the list, a new round, the preliminary list with
every candidate's eligibility explained, opinions, the vote on one page, publicity with objections, and
the submission. Each step's rules are the services' (test_services.py); here, the pages call them, show
their refusals and change nothing then, and stay in scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from members.models import Sanction
from promotion import round_views, services
from promotion.models import (
    CalendarDay,
    Nomination,
    Objection,
    Opinion,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from promotion.round_views import nominee_actions, round_next_actions
from tests.promotion.helpers import PUBLICITY_END, TODAY, eligible_member, listed, stage_of

pytestmark = pytest.mark.usefixtures("clock")


def url(name, obj):
    return reverse(f"promotion:{name}", args=[obj.pk])


@pytest.fixture
def in_opinions(round_, cases, secretary):
    nominations = listed(round_, cases[:2], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    return nominations


@pytest.fixture
def voted(round_, in_opinions, secretary):
    services.round_record_vote(
        round=round_,
        meeting_on=TODAY,
        voting_members=10,
        present_members=8,
        votes={n.pk: (6, 1, 1) for n in in_opinions},
        actor=secretary,
    )
    return in_opinions


@pytest.fixture
def in_publicity(round_, voted, secretary):
    services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    return voted


# --- scope ------------------------------------------------------------------------------------------


def pages(tree, round_, nomination, objection):
    """Every page of a round in publicity, with what the branch's workers get: the vote, not open at
    this stage, sends them back to the round."""
    return [
        (reverse("promotion:rounds", args=[tree["branch_a1"].pk]), 200),
        (reverse("promotion:round-create", args=[tree["branch_a1"].pk]), 200),
        (url("round", round_), 200),
        (url("round-vote", round_), 302),
        (url("nomination-opinion", nomination), 200),
        (url("nomination-remove", nomination), 200),
        (url("objection-record", nomination), 200),
        (url("objection-resolve", objection), 200),
        (url("round-close", round_), 200),
    ]


@pytest.fixture
def scoped(tree, round_, in_publicity, secretary):
    objection = services.objection_record(
        nomination=in_publicity[0], received_on=TODAY, content="有异议", actor=secretary
    )
    return pages(tree, round_, in_publicity[0], objection)


@pytest.mark.parametrize("persona", ["secretary_a1", "deputy_a1", "township_a_staff", "county_staff"])
def test_the_branch_s_workers_open_the_round_pages(people, login, scoped, persona):
    client = login(people[persona])
    for page, status in scoped:
        response = client.get(page)
        assert response.status_code == status, page
        if status == 302:
            assert response["Location"] == scoped[2][0]


@pytest.mark.parametrize("persona", ["secretary_b1", "township_b_staff", "party_a", "system_admin", "nobody"])
def test_outsiders_find_no_round(tree, people, login, scoped, persona):
    """Not found, read or posted, every page; the instance administrator sees the branch itself (the tree
    is theirs) and is refused its round list and a new round, but finds no round (people's records)."""
    client = login(people[persona])
    for index, (page, _status) in enumerate(scoped):
        expected = 403 if persona == "system_admin" and index < 2 else 404
        assert client.get(page).status_code == expected, page
        assert client.post(page).status_code == expected, page
    assert PromotionRound.objects.count() == 1
    assert Objection.objects.get().resolved_on is None


def test_an_instance_administrator_is_refused_the_branch_s_round_list(tree, people, login):
    client = login(people["system_admin"])
    assert client.get(reverse("promotion:rounds", args=[tree["branch_a1"].pk])).status_code == 403
    assert client.post(reverse("promotion:round-create", args=[tree["branch_a1"].pk])).status_code == 403


@pytest.mark.parametrize("name", ["round-nominate", "round-open-opinions", "round-publicity", "round-submit"])
def test_steps_are_posted(people, login, round_, name):
    client = login(people["secretary_a1"])
    assert client.get(url(name, round_)).status_code == 405
    assert login(people["secretary_b1"]).post(url(name, round_)).status_code == 404


# --- the list and a new round -----------------------------------------------------------------------


def test_a_round_is_created_and_listed(tree, people, login):
    client = login(people["secretary_a1"])
    create = reverse("promotion:round-create", args=[tree["branch_a1"].pk])
    assert client.post(create, {"track": "activist", "title": "  "}).status_code == 200
    assert not PromotionRound.objects.exists()

    response = client.post(create, {"track": "activist", "title": "2026年第一批"})
    round_ = PromotionRound.objects.get()
    assert response["Location"] == url("round", round_)
    page = client.get(reverse("promotion:rounds", args=[tree["branch_a1"].pk])).content.decode()
    assert "2026年第一批" in page and "初步名单" in page


def test_an_empty_round_list_says_so(tree, people, login):
    page = login(people["secretary_a1"]).get(reverse("promotion:rounds", args=[tree["branch_a1"].pk])).content
    assert "团支部还没有推优批次。" in page.decode()


# --- the preliminary list ---------------------------------------------------------------------------


def test_the_panel_explains_who_may_be_listed_and_why_not(tree, people, login, round_, roster, cases, secretary):
    Sanction.objects.create(
        member=roster[2], kind="warning", imposed_on=date(2026, 1, 5), reason="违纪", recorded_by=secretary
    )

    response = login(secretary).get(url("round", round_))

    rows = {row.member.name: row for row in response.context["candidates"]}
    assert rows["团员0"].listable and rows["团员1"].listable
    assert not rows["团员2"].listable  # the open sanction
    assert [c.rule for c in rows["团员2"].eligibility.failing] == ["sanction"]
    assert rows["团员5"].case is None  # never applied: a case is opened first
    page = response.content.decode()
    assert rows["团员2"].eligibility.failing[0].detail in page
    assert f"{reverse('promotion:case-open', args=[tree['branch_a1'].pk])}?member={roster[5].pk}" in page
    assert "团支部进行中的批次最多可列入10名在册团员中的2人（20%，向下取整），现已列入0人。" in page


def test_once_the_branch_s_share_cap_is_reached_nobody_more_is_offered_and_the_row_says_why(
    tree, people, login, round_, roster, cases, secretary
):
    """The cap (2 of 10) counts the branch's rounds under way on both tracks: one nominee in a development
    round and one here reach it, so the third case is not offered for listing, only as an exception."""
    developing = services.case_open(
        member=roster[3],
        track="development",
        party_applied_on=date(2024, 9, 1),
        activist_since=date(2025, 1, 5),
        actor=secretary,
    )
    other_round = services.round_create(
        branch=tree["branch_a1"], track="development", title="发展对象", actor=secretary
    )
    services.round_nominate(round=other_round, case=developing, actor=secretary)
    services.round_nominate(round=round_, case=cases[0], actor=secretary)

    response = login(secretary).get(url("round", round_))

    row = next(r for r in response.context["candidates"] if r.case == cases[1])
    assert not row.listable
    assert [c.rule for c in row.failing] == ["share_cap"]
    page = response.content.decode()
    assert "现已列入2人" in page
    assert row.failing[0].detail in page
    assert 'data-testid="nominate"' not in page  # nothing offered that the service would refuse
    county_page = login(people["county_staff"]).get(url("round", round_)).content.decode()
    assert 'name="exception_reason"' in county_page


def test_an_eligible_member_is_listed_and_leaves_the_panel(people, login, round_, cases, secretary):
    client = login(secretary)
    response = client.post(url("round-nominate", round_), {"case": cases[0].pk})
    assert response["Location"] == url("round", round_) + "#nominees"
    assert stage_of(cases[0]) == Stage.NOMINATED
    after = client.get(url("round", round_))
    assert [n.case for n in after.context["nominations"]] == [cases[0]]
    assert cases[0] not in [row.case for row in after.context["candidates"]]


def test_an_ineligible_member_is_refused_with_the_reason_and_nothing_changes(
    people, login, round_, roster, cases, secretary
):
    Sanction.objects.create(
        member=roster[2], kind="warning", imposed_on=date(2026, 1, 5), reason="违纪", recorded_by=secretary
    )
    response = login(secretary).post(url("round-nominate", round_), {"case": cases[2].pk}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "团员2不能列入名单" in messages[0]
    assert stage_of(cases[2]) == Stage.CULTIVATION
    assert not Nomination.objects.exists()


def test_only_county_staff_list_an_exception(people, login, round_, roster, cases, secretary):
    Sanction.objects.create(
        member=roster[2], kind="warning", imposed_on=date(2026, 1, 5), reason="违纪", recorded_by=secretary
    )
    data = {"case": cases[2].pk, "exception_reason": "表现突出，经研究同意"}
    assert login(people["township_a_staff"]).post(url("round-nominate", round_), data).status_code == 403
    assert not Nomination.objects.exists()

    login(people["county_staff"]).post(url("round-nominate", round_), data)
    nomination = Nomination.objects.get()
    assert (nomination.exception_reason, nomination.exception_by) == ("表现突出，经研究同意", people["county_staff"])


def test_the_county_sees_the_exception_form_the_secretary_does_not(people, login, round_, roster, cases, secretary):
    Sanction.objects.create(
        member=roster[2], kind="warning", imposed_on=date(2026, 1, 5), reason="违纪", recorded_by=secretary
    )
    assert 'name="exception_reason"' not in login(secretary).get(url("round", round_)).content.decode()
    assert 'name="exception_reason"' in login(people["county_staff"]).get(url("round", round_)).content.decode()


def test_a_recent_application_is_listed_with_a_written_reason(people, login, round_, roster, secretary):
    recent = services.case_open(member=roster[4], track="activist", party_applied_on=date(2026, 3, 1), actor=secretary)
    client = login(secretary)
    row = next(r for r in client.get(url("round", round_)).context["candidates"] if r.case == recent)
    assert row.listable and row.needs_short_wait_reason

    client.post(url("round-nominate", round_), {"case": recent.pk})
    assert not Nomination.objects.exists()
    client.post(url("round-nominate", round_), {"case": recent.pk, "short_wait_reason": "表现特别突出"})
    assert Nomination.objects.get().short_wait_reason == "表现特别突出"


def test_a_case_of_another_branch_cannot_be_posted(tree, people, login, round_, secretary):
    other = eligible_member(tree["branch_b1"], "外支部", recorder=people["county_staff"])
    foreign = services.case_open(
        member=other, track="activist", party_applied_on=date(2025, 9, 1), actor=people["secretary_b1"]
    )
    assert login(secretary).post(url("round-nominate", round_), {"case": foreign.pk}).status_code == 404


def test_a_nominee_is_taken_off_with_a_reason_after_confirming(people, login, round_, cases, secretary):
    (nomination,) = listed(round_, cases[:1], secretary)
    client = login(secretary)
    confirm = client.get(url("nomination-remove", nomination))
    assert "该推优记录将退回推荐前培养" in confirm.content.decode()
    assert "reason" in client.post(url("nomination-remove", nomination), {"reason": ""}).context["form"].errors
    assert stage_of(cases[0]) == Stage.NOMINATED

    client.post(url("nomination-remove", nomination), {"reason": "本人主动放弃"})
    nomination.refresh_from_db()
    assert (nomination.removed_reason, stage_of(cases[0])) == ("本人主动放弃", Stage.CULTIVATION)
    assert "本人主动放弃" in client.get(url("round", round_)).content.decode()
    rounds = client.get(reverse("promotion:rounds", args=[round_.branch_id]))
    assert [r.nominees for r in rounds.context["page"]] == [0]  # kept on record, no longer on the list


def test_the_list_is_settled_for_opinions(people, login, round_, cases, secretary):
    client = login(secretary)
    refused = client.post(url("round-open-opinions", round_), follow=True)
    assert "请先列入至少一名人选。" in [str(m) for m in refused.context["messages"]]
    listed(round_, cases[:1], secretary)
    client.post(url("round-open-opinions", round_))
    assert stage_of(round_) == RoundStage.OPINIONS


def test_a_round_is_closed_before_its_vote_after_confirming(people, login, round_, in_opinions, cases, secretary):
    client = login(secretary)
    assert url("round-close", round_) in client.get(url("round", round_)).content.decode()
    confirm = client.get(url("round-close", round_))
    assert "已关闭的批次不能重新开启" in confirm.content.decode()
    assert "reason" in client.post(url("round-close", round_), {"reason": " "}).context["form"].errors
    assert stage_of(round_) == RoundStage.OPINIONS

    client.post(url("round-close", round_), {"reason": "推迟到下半年"})
    assert (stage_of(round_), stage_of(cases[0]), stage_of(cases[1])) == (
        RoundStage.CLOSED,
        Stage.CULTIVATION,
        Stage.CULTIVATION,
    )
    assert url("round-close", round_) not in client.get(url("round", round_)).content.decode()


def test_a_voted_round_cannot_be_closed(people, login, round_, voted, secretary):
    response = login(secretary).post(url("round-close", round_), {"reason": "不办了"})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert stage_of(round_) == RoundStage.VOTED


# --- opinions and the vote --------------------------------------------------------------------------


def test_opinions_of_the_three_sources_are_recorded(people, login, round_, in_opinions, secretary):
    nomination = in_opinions[0]
    client = login(secretary)
    blank = client.post(
        url("nomination-opinion", nomination), {"source": "party_members", "favourable": "yes", "content": " "}
    )
    assert blank.status_code == 200 and not Opinion.objects.exists()
    for source in ("party_members", "league_members", "party_organization"):
        client.post(url("nomination-opinion", nomination), {"source": source, "favourable": "yes", "content": "同意"})
    client.post(
        url("nomination-opinion", nomination), {"source": "league_members", "favourable": "no", "content": "有保留"}
    )
    assert Opinion.objects.filter(nomination=nomination).count() == 4
    assert Opinion.objects.get(content="有保留").favourable is False
    page = client.get(url("round", round_)).content.decode()
    assert "有保留" in page and "党组织" in page


def test_the_vote_page_is_prefilled_from_the_roster(people, login, round_, in_opinions, secretary):
    response = login(secretary).get(url("round-vote", round_))
    form = response.context["form"]
    assert form.initial["voting_members"] == 10
    assert [n.pk for n, _fields in form.candidate_rows()] == [n.pk for n in in_opinions]
    page = response.content.decode()
    assert 'data-quorum="1/2"' in page and 'data-pass-basis="voting"' in page
    assert "到会人数须超过应到会有表决权团员的半数" in page


def vote_data(nominations, *, voting=10, present=8, figures=None):
    data = {"meeting_on": "2026-06-10", "voting_members": voting, "present_members": present}
    for nomination, (votes_for, against, abstaining) in zip(
        nominations, figures or [(6, 1, 1)] * len(nominations), strict=True
    ):
        data.update({f"for-{nomination.pk}": votes_for, f"against-{nomination.pk}": against})
        data[f"abstaining-{nomination.pk}"] = abstaining
    return data


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"present": 11}, "present_members", "实到11人，多于应到会有表决权的10人。"),
        ({"present": 5}, "present_members", "未超过半数（至少须6人），不能进行表决。"),
        ({"figures": [(6, 2, 1), (6, 1, 1)]}, None, "团员0：赞成、反对、弃权合计9票，超过实到人数8人。"),
    ],
)
def test_figures_that_cannot_be_true_are_refused_and_nothing_changes(
    people, login, round_, in_opinions, secretary, changes, field, message
):
    response = login(secretary).post(url("round-vote", round_), vote_data(in_opinions, **changes))

    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(message in error for error in errors), errors
    assert stage_of(round_) == RoundStage.OPINIONS
    assert all(n.votes_for is None for n in Nomination.objects.all())


def test_a_missing_figure_is_asked_for(people, login, round_, in_opinions, secretary):
    data = vote_data(in_opinions)
    del data[f"against-{in_opinions[0].pk}"]
    response = login(secretary).post(url("round-vote", round_), data)
    assert f"against-{in_opinions[0].pk}" in response.context["form"].errors
    assert stage_of(round_) == RoundStage.OPINIONS


def test_the_vote_is_recorded_on_one_page(people, login, round_, in_opinions, cases, secretary):
    response = login(secretary).post(url("round-vote", round_), vote_data(in_opinions, figures=[(6, 1, 1), (5, 2, 1)]))
    assert response["Location"] == url("round", round_)
    assert (stage_of(round_), stage_of(cases[0]), stage_of(cases[1])) == (
        RoundStage.VOTED,
        Stage.VOTED,
        Stage.CULTIVATION,  # 5 is not more than half of 10
    )
    page = login(secretary).get(url("round", round_)).content.decode()
    assert "赞成6，反对1，弃权1" in page and "未通过" in page


def test_the_vote_page_is_closed_once_voted(people, login, round_, voted, secretary):
    response = login(secretary).get(url("round-vote", round_))
    assert response.status_code == 302 and response["Location"] == url("round", round_)


# --- publicity, objections, submission --------------------------------------------------------------


def test_publicity_shows_its_computed_end(people, login, round_, voted, secretary):
    client = login(secretary)
    before = client.get(url("round", round_))
    assert before.context["publicity_ends_if_today"] == PUBLICITY_END
    assert "2026-06-16结束" in before.content.decode()

    client.post(url("round-publicity", round_), {"starts_on": "2026-06-10"})
    round_.refresh_from_db()
    assert (round_.stage, round_.publicity_ends_on) == (RoundStage.PUBLICITY, PUBLICITY_END)
    assert "公示期：2026-06-10至2026-06-16" in client.get(url("round", round_)).content.decode()


def test_publicity_before_the_meeting_is_refused(people, login, round_, voted, secretary):
    response = login(secretary).post(url("round-publicity", round_), {"starts_on": "2026-06-09"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["公示应在团员大会之后开始。"]
    assert stage_of(round_) == RoundStage.VOTED


def test_an_objection_is_recorded_and_resolved_before_submitting(
    people, login, round_, in_publicity, cases, secretary, clock
):
    client = login(secretary)
    client.post(url("objection-record", in_publicity[0]), {"received_on": "2026-06-10", "content": "群众反映"})
    objection = Objection.objects.get()

    clock.move_to("2026-06-17 09:00 +0800")
    client = login(secretary)
    held = client.post(url("round-submit", round_), follow=True)
    assert any("请先处理对团员0的异议" in str(m) for m in held.context["messages"])
    assert stage_of(round_) == RoundStage.PUBLICITY

    client.post(url("objection-resolve", objection), {"upheld": "no", "resolution": "经核实不属实"})
    objection.refresh_from_db()
    assert (objection.upheld, objection.resolution) == (False, "经核实不属实")
    client.post(url("round-submit", round_))
    assert (stage_of(round_), stage_of(cases[0]), stage_of(cases[1])) == (
        RoundStage.SUBMITTED,
        Stage.IN_REVIEW,
        Stage.IN_REVIEW,
    )


def test_the_round_cannot_be_submitted_before_publicity_ends(people, login, round_, in_publicity, secretary):
    response = login(secretary).get(url("round", round_))
    assert 'data-testid="submit-round"' not in response.content.decode()
    login(secretary).post(url("round-submit", round_))
    assert stage_of(round_) == RoundStage.PUBLICITY


def test_an_upheld_objection_sends_the_case_back(people, login, round_, in_publicity, cases, secretary):
    objection = services.objection_record(
        nomination=in_publicity[0], received_on=TODAY, content="属实", actor=secretary
    )
    login(secretary).post(url("objection-resolve", objection), {"upheld": "yes", "resolution": "经核实属实"})
    assert stage_of(cases[0]) == Stage.CULTIVATION


# --- query counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("members", [5, 25])
def test_the_round_page_reads_a_fixed_number_of_queries(
    tree, people, login, secretary, members, django_assert_max_num_queries
):
    roster = [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(members)]
    for member in roster[: members // 2]:
        services.case_open(member=member, track="activist", party_applied_on=date(2025, 9, 1), actor=secretary)
    round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
    # As many nominees as the share cap allows: 1 of 5 members, 5 of 25.
    nominations = [
        services.round_nominate(round=round_, case=case, actor=secretary)
        for case in PromotionCase.objects.order_by("pk")[: members // 5]
    ]
    client = login(secretary)
    client.get(url("round", round_))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(13):
        assert client.get(url("round", round_)).status_code == 200
    services.round_open_opinions(round=round_, actor=secretary)
    for nomination in nominations:
        services.opinion_record(
            nomination=nomination, source="party_members", content="同意", favourable=True, actor=secretary
        )
    with django_assert_max_num_queries(8):
        assert client.get(url("round", round_)).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(url("round-vote", round_)).status_code == 200


@pytest.mark.parametrize("rounds", [1, 8])
def test_the_round_list_reads_a_fixed_number_of_queries(tree, secretary, login, rounds, django_assert_max_num_queries):
    for i in range(rounds):  # one round under way per track: the earlier ones are closed
        round_ = services.round_create(branch=tree["branch_a1"], track="activist", title=f"第{i}批", actor=secretary)
        if i < rounds - 1:
            services.round_close(round=round_, reason="合并", actor=secretary)
    client = login(secretary)
    rounds_url = reverse("promotion:rounds", args=[tree["branch_a1"].pk])
    client.get(rounds_url)  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(7):
        response = client.get(rounds_url)
    assert len(response.context["page"].object_list) == rounds


# --- what the page offers: computed in Python from the round's stage and the user ----------------------

OFFERED = {
    # round stage → the steps the round page offers the branch's workers
    RoundStage.PRELIMINARY: {"nominate", "open_opinions", "remove_nominee", "close"},
    RoundStage.OPINIONS: {"remove_nominee", "close", "record_opinion", "enter_vote"},
    RoundStage.VOTED: {"start_publicity"},
    RoundStage.PUBLICITY: {"record_objection", "resolve_objection", "await_publicity_end"},
    RoundStage.SUBMITTED: set(),
    RoundStage.CLOSED: set(),
}


@pytest.mark.parametrize("stage", list(OFFERED))
def test_the_round_s_next_actions_follow_its_stage(tree, people, round_, stage):
    PromotionRound.objects.filter(pk=round_.pk).update(stage=stage, publicity_ends_on=date(2026, 6, 16))
    round_.refresh_from_db()
    actions = round_next_actions(round_, people["secretary_a1"], today=TODAY)
    assert {name for name, offered in actions.items() if offered} == OFFERED[stage]
    assert not any(round_next_actions(round_, people["secretary_b1"], today=TODAY).values())


def test_the_submission_is_offered_once_publicity_has_ended(people, round_, in_publicity):
    round_.refresh_from_db()
    secretary = people["secretary_a1"]
    assert not round_next_actions(round_, secretary, today=PUBLICITY_END)["submit"]
    assert round_next_actions(round_, secretary, today=PUBLICITY_END)["await_publicity_end"]
    after = round_next_actions(round_, secretary, today=date(2026, 6, 17))
    assert after["submit"] and not after["await_publicity_end"]


def test_only_county_staff_are_offered_exceptions(people, round_):
    assert not round_next_actions(round_, people["secretary_a1"])["allow_exceptions"]
    assert not round_next_actions(round_, people["township_a_staff"])["allow_exceptions"]
    assert round_next_actions(round_, people["county_staff"])["allow_exceptions"]


def test_an_objection_is_offered_only_on_a_candidate_still_in_publicity(people, round_, in_publicity, cases):
    services.case_withdraw(case=cases[1], reason="本人申请", actor=people["secretary_a1"])
    nominations = {n.case_id: n for n in Nomination.objects.select_related("case")}
    round_.refresh_from_db()
    actions = round_next_actions(round_, people["secretary_a1"], today=TODAY)
    assert nominee_actions(actions, nominations[cases[0].pk])["record_objection"]
    assert not nominee_actions(actions, nominations[cases[1].pk])["record_objection"]


def test_the_page_shows_the_actions_it_is_given_whatever_the_stage(
    people, login, round_, cases, secretary, monkeypatch
):
    """The template renders round_next_actions, it does not decide from the stage's name."""
    listed(round_, cases[:1], secretary)
    client = login(secretary)
    page = client.get(url("round", round_)).content.decode()
    for testid in ("nominate", "open-opinions"):
        assert f'data-testid="{testid}"' in page
    assert url("round-close", round_) in page

    monkeypatch.setattr(round_views, "round_next_actions", lambda *args, **kwargs: dict.fromkeys(OFFERING, False))
    page = client.get(url("round", round_)).content.decode()
    for testid in ("nominate", "open-opinions", "candidate", "enter-vote", "start-publicity", "submit-round"):
        assert f'data-testid="{testid}"' not in page
    assert url("round-close", round_) not in page
    assert url("nomination-remove", Nomination.objects.get()) not in page

    monkeypatch.setattr(
        round_views,
        "round_next_actions",
        lambda *args, **kwargs: {**dict.fromkeys(OFFERING, False), "enter_vote": True},
    )
    assert 'data-testid="enter-vote"' in client.get(url("round", round_)).content.decode()


OFFERING = [*round_views.ROUND_STEPS, "await_publicity_end", "allow_exceptions"]


# --- the add-to-list panel, a page at a time ------------------------------------------------------------


def test_the_candidates_panel_is_paginated(people, login, round_, roster, cases, secretary, monkeypatch):
    monkeypatch.setattr(round_views, "CANDIDATES_PAGE_SIZE", 4)
    client = login(secretary)
    first = client.get(url("round", round_))
    assert len(first.context["candidates"]) == 4
    assert first.context["page"].paginator.count == 10
    page = first.content.decode()
    assert page.count('data-testid="candidate"') == 4
    assert "?page=2" in page
    # The members who may be listed come first; the rest follow on the later pages.
    assert {row.case for row in first.context["candidates"][:3]} == set(cases)
    third = client.get(url("round", round_) + "?page=3")
    assert len(third.context["candidates"]) == 2
    names = [
        row.member.name
        for number in (1, 2, 3)
        for row in client.get(url("round", round_) + f"?page={number}").context["candidates"]
    ]
    assert sorted(names) == sorted(member.name for member in roster)
    assert len(client.get(url("round", round_) + "?page=x").context["candidates"]) == 4  # bad input: page 1


@pytest.mark.parametrize("members", [12, 40])
def test_a_long_branch_s_round_page_reads_a_fixed_number_of_queries(
    tree, people, login, secretary, members, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(round_views, "CANDIDATES_PAGE_SIZE", 10)
    roster = [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(members)]
    for member in roster[::2]:
        services.case_open(member=member, track="activist", party_applied_on=date(2025, 9, 1), actor=secretary)
    round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
    client = login(secretary)
    client.get(url("round", round_))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(11):
        response = client.get(url("round", round_) + "?page=2")
    assert response.content.decode().count('data-testid="candidate"') == min(members - 10, 10)


# --- the publicity's end, shown as the start date changes --------------------------------------------


def test_the_page_gives_the_browser_the_working_day_calendar(
    people, login, round_, voted, secretary, django_assert_max_num_queries
):
    CalendarDay.objects.create(day=date(2026, 6, 19), is_working_day=False, note="端午节")
    CalendarDay.objects.create(day=date(2026, 6, 20), is_working_day=True, note="调休上班")
    client = login(secretary)
    client.get(url("round", round_))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(9):  # the calendar is one of them
        response = client.get(url("round", round_))
    calendar = response.context["publicity_calendar"]
    assert (calendar["from"], calendar["to"], calendar["days"]) == ("2026-06-03", "2026-08-09", 5)
    days = calendar["working_days"]
    assert days[:5] == ["2026-06-03", "2026-06-04", "2026-06-05", "2026-06-08", "2026-06-09"]
    assert "2026-06-19" not in days and "2026-06-20" in days and "2026-06-13" not in days
    page = response.content.decode()
    assert '<script id="publicity-calendar" type="application/json">' in page
    assert '"2026-06-20"' in page and "js/promotion-publicity.js" in page
    assert 'data-end-pattern="公示5个工作日：{start}开始，{end}结束。"' in page


def test_the_calendar_is_given_only_where_publicity_can_start(people, login, round_, in_opinions, secretary):
    page = login(secretary).get(url("round", round_)).content.decode()
    assert "publicity-calendar" not in page and "promotion-publicity.js" not in page
