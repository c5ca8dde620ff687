"""County staff move a branch under another township on a phone, finding the township by typing part of
its name in the "Move under" picker (a search-as-you-type choice fed by branches:unit-choices for
the purpose move:<pk>) and picking it.

As in test_journeys, the text of the UI is not asserted: elements are found by form field names,
link targets built with reverse(), and data from the fixtures. The test requests `transactional_db`
before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from branches.models import Organization
from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, pick_unit, screenshot, sign_in

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_county_staff_move_a_branch_under_a_township_found_by_part_of_its_name_on_a_phone(
    transactional_db, live_server, tree, people, page: Page
):
    base = live_server.url
    branch, township_b = tree["branch_a1"], tree["township_b"]
    move_url = reverse("branches:unit-move", kwargs={"pk": branch.pk})

    sign_in(page, base, people["county_staff"].username)
    page.goto(base + move_url)
    expect(page.locator("select[name=new_parent] option")).to_have_count(1)  # only the empty choice sent

    # The picker is a search box on the phone: type part of the township's name, pick it.
    pick_unit(page, "new_parent", "乙镇", township_b, tree["county"], "/tmp/journey-unit-move-typed.png")

    # Move: back on the branch's page, now under township B.
    page.locator("form:has(select[name=new_parent]) [type=submit]").click()
    page.wait_for_url(base + reverse("branches:unit", kwargs={"pk": branch.pk}))
    screenshot(page, "/tmp/journey-unit-move.png")
    moved = Organization.objects.get(pk=branch.pk)
    assert Organization.objects.get_parent(moved) == township_b
