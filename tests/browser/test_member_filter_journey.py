"""County staff narrow the member list to one branch on a phone, by typing part of its name in the
unit filter (a search-as-you-type choice fed by branches:unit-choices) and picking it.

As in test_journeys, the text of the UI is not asserted: elements are found by form field names,
link targets built with reverse(), data-testid and data from the fixtures. The test requests
`transactional_db` before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, pick_unit, screenshot, sign_in
from tests.conftest import make_member

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_county_staff_narrow_the_list_to_a_branch_found_by_part_of_its_name_on_a_phone(
    transactional_db, live_server, tree, people, page: Page
):
    base = live_server.url
    branch = tree["branch_ag1"]  # 甲镇中学九年级团支部, under 甲镇中学团总支
    inside = make_member(branch, "九年级甲")
    outside = make_member(tree["branch_b1"], "乙村乙")
    list_url = reverse("members:list")

    sign_in(page, base, people["county_staff"].username)
    page.goto(base + list_url)
    expect(page.get_by_test_id("member-count")).to_contain_text("2")
    expect(page.locator("main")).to_contain_text(outside.name)

    # The unit field is a search box on the phone: type part of the branch's name, pick it.
    pick_unit(page, "unit", "九年级", branch, tree["general_ag"], "/tmp/journey-member-filter-typed.png")
    screenshot(page, "/tmp/journey-member-filter.png")

    # Search: the list narrows to the branch, and the choice stays shown.
    page.locator("form:has(select[name=unit]) button[type=submit]").click()
    page.wait_for_url(lambda url: f"unit={branch.pk}" in url)
    expect(page.get_by_test_id("member-count")).to_contain_text("1")
    expect(page.locator(f'main a[href="{reverse("members:member", args=[inside.pk])}"]')).to_have_text(inside.name)
    expect(page.locator("main")).not_to_contain_text(outside.name)
    expect(page.locator(".ts-wrapper .item")).to_contain_text(branch.name)
