"""County staff hand a branch secretary's role over to a successor found by typing part of their name
in the successor picker (a search-as-you-type choice fed by branches:account-choices for the purpose
successor:<holder>).

As in test_journeys, the text of the UI is not asserted: elements are found by form field names,
link targets built with reverse(), and data from the fixtures. The test requests `transactional_db`
before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

from branches.models import RoleAssignment
from tests.browser import test_journeys
from tests.browser.test_journeys import screenshot, sign_in

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


def test_county_staff_hand_a_role_over_to_a_successor_found_by_part_of_their_name(
    transactional_db, live_server, tree, people, page: Page
):
    base = live_server.url
    holder, successor = people["secretary_a1"], people["secretary_b1"]
    successor.full_name = "王小明"
    successor.save()
    role = holder.roles.get()

    sign_in(page, base, people["county_staff"].username)
    page.goto(base + reverse("branches:role-hand-over", kwargs={"pk": role.pk}))
    expect(page.locator("select[name=successor] option")).to_have_count(1)  # only the empty choice sent

    # Part of the name finds the successor, shown with their username.
    search = page.locator("#id_successor-ts-control")
    search.click()
    search.press_sequentially("小明")
    choice = page.locator(f'.ts-dropdown [data-value="{successor.pk}"]')
    expect(choice).to_contain_text(successor.username)
    expect(page.locator(".ts-dropdown .option")).to_have_count(1)
    screenshot(page, "/tmp/journey-hand-over-typed.png")
    choice.click()
    expect(page.locator("select[name=successor]")).to_have_value(str(successor.pk))

    page.locator("form:has(select[name=successor]) [type=submit]").click()
    page.wait_for_url(base + reverse("branches:account", kwargs={"pk": successor.pk}))
    assert RoleAssignment.objects.get(pk=role.pk).ends_on is not None
    assert successor.roles.filter(organization=tree["branch_a1"], ends_on=None).exists()
