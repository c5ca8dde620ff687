"""The statistics dashboard after a change, through a real browser (reports/cache.py): the page shows
the figures kept, says they are being updated, and once the worker has computed the new ones it
offers a link to them in place of the note (static/js/live-figures.js polling reports:unit-live) —
never a reload by itself; following the link shows them. The refresh task is held as a broker holds
it and run by the test, as a worker would, while the page polls."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, screenshot, sign_in
from tests.conftest import make_member
from tests.reports import live_fixtures
from tests.reports.test_dashboard_cache import add_member

browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page
queue = live_fixtures.queue


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_the_dashboard_offers_the_new_figures_once_computed(
    transactional_db,
    live_server,
    tree,
    people,
    queue,
    browser,
    page: Page,
):
    county = tree["county"]
    make_member(tree["branch_a1"], "甲", joined_on=date(2020, 5, 4))
    url = live_server.url + reverse("reports:unit", args=[county.pk])
    sign_in(page, live_server.url, people["county_staff"].username)
    page.goto(url)
    expect(page.get_by_test_id("computed-at")).to_be_visible()
    expect(page.get_by_test_id("updating")).to_have_count(0)

    add_member(tree, people, members=None)  # an audited change, as the cache tests make it
    page.goto(url)
    updating = page.get_by_test_id("updating")
    expect(updating).to_be_visible()
    assert len(queue.held) == 1
    screenshot(page, "/tmp/journey-dashboard-updating.png")

    assert queue.run() == ["computed"]
    offer = page.get_by_test_id("new-figures")
    expect(offer).to_be_visible(timeout=10_000)
    expect(offer).to_have_text("已有新数据，点击刷新")
    expect(updating).to_be_hidden()
    screenshot(page, "/tmp/journey-dashboard-new-figures.png")
    # Not reloaded by the script: the page is still the one navigated to, and stays so.
    page.wait_for_timeout(3_000)
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
    offer.focus()  # a plain link: reached and followed from the keyboard
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("updating")).to_have_count(0)
    expect(page.get_by_test_id("new-figures")).to_have_count(0)
    assert page.url == url and not queue.held
