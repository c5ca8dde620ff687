"""The round page in a real browser, for what only a browser shows: the publicity's end follows the start
date as it is typed, counted over the working-day calendar the page carries (no request), and agrees
with the server's own count. Elements are found by field name and data attributes, not by text."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from promotion import services, workdays
from promotion.models import CalendarDay
from tests.browser import test_journeys
from tests.browser.test_journeys import sign_in
from tests.promotion.helpers import eligible_member

browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


def test_the_publicity_end_follows_the_start_date(transactional_db, live_server, tree, people, page: Page):
    today = timezone.localdate()
    branch, secretary = tree["branch_a1"], people["secretary_a1"]
    roster = [eligible_member(branch, f"团员{i}", recorder=people["county_staff"], day=today) for i in range(10)]
    case = services.case_open(
        member=roster[0], track="activist", party_applied_on=today - timedelta(days=300), actor=secretary
    )
    round_ = services.round_create(branch=branch, track="activist", title="第一批", actor=secretary)
    nomination = services.round_nominate(round=round_, case=case, actor=secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    services.round_record_vote(
        round=round_,
        meeting_on=today,
        voting_members=services.voting_roster(branch, today),
        present_members=10,
        votes={nomination.pk: (9, 1, 0)},
        actor=secretary,
    )
    # A start ten days ahead, with a holiday on its first working day and a make-up Saturday after it.
    start = today + timedelta(days=10)
    first_working = workdays.nth_working_day(start, 1)
    CalendarDay.objects.create(day=first_working, is_working_day=False, note="节日")
    saturday = first_working + timedelta(days=(5 - first_working.weekday()) % 7 or 7)
    CalendarDay.objects.create(day=saturday, is_working_day=True, note="调休上班")
    expected = workdays.nth_working_day(start, 5)

    sign_in(page, live_server.url, secretary.username)
    page.goto(live_server.url + reverse("promotion:round", args=[round_.pk]))
    form = page.locator("form[data-publicity-form]")
    end = form.locator("[data-publicity-end]")
    expect(end).to_contain_text(workdays.nth_working_day(today, 5).isoformat())  # the server's, for today

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    form.locator("input[name=starts_on]").fill(start.isoformat())
    expect(end).to_have_attribute("data-end", expected.isoformat())
    expect(end).to_contain_text(expected.isoformat())
    assert requests == []  # counted in the browser

    form.locator("input[name=starts_on]").fill((today + timedelta(days=90)).isoformat())
    expect(end).to_have_attribute("data-end", "")
    expect(end).not_to_contain_text(expected.isoformat())

    # The server decides: starting on the chosen day gives the same end.
    form.locator("input[name=starts_on]").fill(start.isoformat())
    form.get_by_test_id("start-publicity").click()
    page.wait_for_url(live_server.url + reverse("promotion:round", args=[round_.pk]))
    round_.refresh_from_db()
    assert round_.publicity_ends_on == expected
