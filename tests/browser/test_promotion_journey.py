"""The 推优 pipeline through a real browser: a branch secretary runs a round on a phone, from the
preliminary list (seeing why an ineligible member cannot be listed) through the opinions, the branch
general meeting's vote and publicity to the submission; township staff return one case and approve the
other; the secretary prints the recommendation form, hands the approved case over and files its first
monthly follow-up report; county staff find the case counted in its new stage on the overview.

As in test_journeys, the UI's text is not asserted: elements are found by form field names, by link
targets built with reverse(), by data-testid and by data from the fixtures. Dates are explicit and in
the past (the meeting a week ago, publicity from that day), so publicity has ended when the round is
submitted, whatever day the test runs.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from branches.models import Organization, PartyOrganization
from members.models import Sanction
from promotion import services
from promotion.models import FollowUpReport, PromotionCase, PromotionRound, RoundStage, Stage
from tests.browser import test_journeys
from tests.browser.test_journeys import DESKTOP, PHONE, pick_unit, screenshot, sign_in
from tests.promotion.helpers import eligible_member

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


def candidate(page: Page, name: str):
    return page.get_by_test_id("candidate").filter(has_text=name)


def nominee(page: Page, name: str):
    return page.get_by_test_id("nominee").filter(has_text=name)


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_a_round_from_the_preliminary_list_to_the_first_follow_up_report(
    transactional_db, live_server, tree, people, browser, page: Page
):
    base = live_server.url
    branch = tree["branch_a1"]
    secretary = people["secretary_a1"]
    today = timezone.localdate()
    # Publicity may start at most 7 days back; five working days from then have ended by yesterday.
    meeting_on = today - timedelta(days=7)

    # Ten members who meet every rule (a round may list two); three applied to the Party last year.
    roster = {
        name: eligible_member(branch, name, recorder=people["county_staff"], day=today)
        for name in ["李明", "王芳", "陈静", "赵一", "钱二", "孙三", "周四", "吴五", "郑六", "冯七"]
    }
    for name in ["李明", "王芳", "陈静"]:
        services.case_open(
            member=roster[name], track="activist", party_applied_on=today - timedelta(days=300), actor=secretary
        )
    Sanction.objects.create(
        member=roster["陈静"],
        kind="warning",
        imposed_on=today - timedelta(days=30),
        reason="违纪",
        recorded_by=secretary,
    )

    # The secretary's workbench: one branch, so straight to its board with the three cases.
    sign_in(page, base, secretary.username)
    page.goto(base + reverse("promotion:branches"))
    page.wait_for_url(base + reverse("promotion:board", args=[branch.pk]))
    expect(page.get_by_test_id("board-case")).to_have_count(3)
    screenshot(page, "/tmp/journey-promotion-board.png")

    # A new round.
    page.get_by_test_id("rounds").click()
    page.locator(f'main a[href="{reverse("promotion:round-create", args=[branch.pk])}"]').click()
    form = page.locator("main form")
    form.locator("select[name=track]").select_option("activist")
    form.locator("input[name=title]").fill("本年度第一批推优")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/promotion/rounds/*/")
    round_ = PromotionRound.objects.get(branch=branch)

    # The preliminary list: 陈静 is greyed, the failing rule (the open sanction) says why, and the
    # secretary has no button to list her; the two others are listed.
    chen = candidate(page, "陈静")
    expect(chen).to_have_attribute("data-listable", "0")
    expect(chen.locator('[data-rule="sanction"][data-ok="0"]').first).to_be_visible()
    expect(chen.get_by_test_id("nominate")).to_have_count(0)
    screenshot(page, "/tmp/journey-promotion-list.png")
    for name in ["李明", "王芳"]:
        candidate(page, name).get_by_test_id("nominate").click()
        expect(nominee(page, name)).to_be_visible()
    expect(page.get_by_test_id("nominee")).to_have_count(2)

    # Opinions: the list is settled, then the Party organization's opinion on each nominee.
    page.get_by_test_id("open-opinions").click()
    for name in ["李明", "王芳"]:
        nominee(page, name).get_by_test_id("record-opinion").click()
        opinion = page.locator("main form")
        opinion.locator("select[name=source]").select_option("party_organization")
        opinion.locator("input[name=favourable][value=yes]").check()
        opinion.locator("textarea[name=content]").fill("表现突出，同意推荐")
        opinion.get_by_test_id("step-submit").click()
        expect(nominee(page, name).get_by_test_id("opinions")).to_contain_text("表现突出，同意推荐")

    # The vote on one page: the roster's ten are entitled to vote; the thresholds follow the figures.
    page.get_by_test_id("enter-vote").click()
    vote = page.locator("form[data-vote-form]")
    expect(vote.locator("input[name=voting_members]")).to_have_value("10")
    vote.locator("input[name=meeting_on]").fill(meeting_on.isoformat())
    vote.locator("input[name=present_members]").fill("8")
    expect(page.get_by_test_id("quorum")).to_contain_text("6")  # more than half of 10
    expect(page.get_by_test_id("needed")).to_contain_text("6")  # votes for more than half of 10
    nominations = {n.case.member.name: n for n in round_.nominations.select_related("case__member")}
    for name, figures in {"李明": ("7", "1", "0"), "王芳": ("6", "1", "1")}.items():
        pk = nominations[name].pk
        for kind, value in zip(("for", "against", "abstaining"), figures, strict=True):
            vote.locator(f'input[name="{kind}-{pk}"]').fill(value)
        expect(vote.locator(f'[data-show="result-{pk}"]')).to_have_class("badge text-bg-success")
    screenshot(page, "/tmp/journey-promotion-vote.png")
    vote.get_by_test_id("vote-submit").click()
    page.wait_for_url(base + reverse("promotion:round", args=[round_.pk]))
    expect(page.get_by_test_id("vote-result")).to_have_count(2)

    # Publicity from the meeting's day: five working days, long over, so the round can be submitted.
    publicity = page.locator(f'form[action="{reverse("promotion:round-publicity", args=[round_.pk])}"]')
    publicity.locator("input[name=starts_on]").fill(meeting_on.isoformat())
    publicity.get_by_test_id("start-publicity").click()
    page.get_by_test_id("submit-round").click()
    expect(page.get_by_test_id("round-stage")).to_have_text(_label(page, RoundStage.SUBMITTED))
    round_.refresh_from_db()
    assert round_.stage == RoundStage.SUBMITTED
    cases = {c.member.name: c for c in PromotionCase.objects.filter(branch=branch).select_related("member")}
    assert (cases["李明"].stage, cases["王芳"].stage, cases["陈静"].stage) == (
        Stage.IN_REVIEW,
        Stage.IN_REVIEW,
        Stage.CULTIVATION,
    )

    # Township staff, at their desk: the review queue; 李明's case goes back, 王芳's is approved.
    reviewer = browser.new_context(locale="zh-CN", **DESKTOP)
    staff = reviewer.new_page()
    try:
        sign_in(staff, base, people["township_a_staff"].username)
        for name, decision, comment in [("李明", "return", "请补充思想汇报"), ("王芳", "approve", "同意推荐")]:
            staff.goto(base + reverse("promotion:review-queue"))
            review_url = reverse("promotion:review-case", args=[cases[name].pk])
            # The link carries the way back to the queue (its filters and page).
            staff.locator(f'main a[href^="{review_url}?"]').first.click()
            staff.wait_for_url(re.compile(re.escape(base + review_url) + r"\?back="))
            decide = staff.get_by_test_id("review-case-form")
            decide.locator(f"input[name=decision][value={decision}]").check()
            decide.locator("textarea[name=comment]").fill(comment)
            decide.locator("button[type=submit]").click()
            staff.wait_for_url(base + reverse("promotion:review-queue"))
    finally:
        reviewer.close()
    assert PromotionCase.objects.get(pk=cases["李明"].pk).stage == Stage.RETURNED
    assert PromotionCase.objects.get(pk=cases["王芳"].pk).stage == Stage.APPROVED

    # The secretary sees 李明's case returned, with the resubmission to do.
    page.goto(base + reverse("promotion:case", args=[cases["李明"].pk]))
    expect(page.get_by_test_id("case-actions").locator('[data-action="resubmit"]')).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("请补充思想汇报")

    # 王芳's recommendation form prints in Chinese with her name and the vote.
    wang_url = reverse("promotion:case", args=[cases["王芳"].pk])
    page.goto(base + wang_url)
    pdf_url = reverse("promotion:case-form-pdf", args=[cases["王芳"].pk])
    expect(page.get_by_test_id("form-pdf")).to_have_attribute("href", pdf_url)
    response = page.request.get(base + pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace(" ", "")
    assert "王芳" in text and "推荐优秀团员作为入党积极分子人选登记表" in text
    assert "75.0%" in text  # 6 for of 8 votes cast

    # The hand-over, on today's date. The branch is paired with its village's Party branch, which the
    # form starts with; the secretary hands over to the township's Party committee paired above it
    # instead, found by typing part of its name (the picker sends no list: branches/party_search.py).
    village_party = PartyOrganization.objects.create(county=tree["county"], name="中共甲一村支部委员会")
    Organization.objects.filter(pk=branch.pk).update(party_organization=village_party)
    page.get_by_test_id("case-actions").locator('[data-action="hand-over"]').click()
    expect(page.locator("select[name=party_organization]")).to_have_value(str(village_party.pk))
    page.locator(".ts-wrapper:has(#id_party_organization-ts-control) .ts-control").click()
    pick_unit(
        page, "party_organization", "甲镇", tree["party_a"], tree["county"], "/tmp/journey-promotion-hand-over.png"
    )
    page.get_by_test_id("action-submit").click()
    page.wait_for_url(base + wang_url)
    expect(page.get_by_test_id("case-stage")).to_have_text(_label(page, Stage.RECOMMENDED))
    assert PromotionCase.objects.get(pk=cases["王芳"].pk).party_organization == tree["party_a"]

    # The first monthly follow-up report: thinking, work, study.
    page.get_by_test_id("case-actions").locator('[data-action="follow-up-report"]').click()
    report = page.locator("main form")
    report.locator("input[name=month]").fill(f"{today:%Y-%m}")
    report.locator("textarea[name=thinking]").fill("思想端正，积极向党组织靠拢")
    report.locator("textarea[name=work]").fill("带头完成村里的志愿服务")
    report.locator("textarea[name=study]").fill("认真学习党章")
    report.get_by_test_id("action-submit").click()
    page.wait_for_url(base + wang_url)
    expect(page.get_by_test_id("timeline")).to_contain_text("认真学习党章")
    assert FollowUpReport.objects.get(case=cases["王芳"]).month == today.replace(day=1)
    screenshot(page, "/tmp/journey-promotion-case.png")

    # County staff open the overview (推优总览) from the menu: under township A, 王芳's case is counted
    # as recommended, 李明's as returned, 陈静's still in cultivation.
    county = browser.new_context(locale="zh-CN", **DESKTOP)
    desk = county.new_page()
    try:
        sign_in(desk, base, people["county_staff"].username)
        overview_url = reverse("promotion:overview")
        desk.locator(f'nav a[href="{overview_url}"]').first.click()
        desk.wait_for_url(base + overview_url)
        row = desk.get_by_test_id("stage-table").locator(f'tr[data-unit="{tree["township_a"].pk}"]')
        for stage in (Stage.RECOMMENDED, Stage.RETURNED, Stage.CULTIVATION):
            expect(row.locator(f'td[data-stage="{stage}"]')).to_have_text("1")
        expect(row.locator(f'td[data-stage="{Stage.IN_REVIEW}"]')).to_have_text("0")
        screenshot(desk, "/tmp/journey-promotion-overview.png")
    finally:
        county.close()


def _label(page: Page, choice) -> str:
    """A stage's label in the language the page was served in."""
    with translation.override(page.locator("html").get_attribute("lang")):
        return str(choice.label)
