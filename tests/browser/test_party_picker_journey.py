"""County staff create a unit on a phone and pair it with a Party organization found by typing part
of its name (a search-as-you-type choice fed by branches:party-organization-choices for the purpose
pairing:<parent>), instead of the parent's Party organization the form starts with.

As in test_journeys, the text of the UI is not asserted: elements are found by form field names,
link targets built with reverse(), and data from the fixtures. The test requests `transactional_db`
before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from branches.models import Organization, OrganizationKind
from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, pick_unit, screenshot, sign_in

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_county_staff_pair_a_new_unit_with_a_party_organization_found_by_part_of_its_name_on_a_phone(
    transactional_db, live_server, tree, people, page: Page
):
    base = live_server.url
    township_a, party_b = tree["township_a"], tree["party_b"]

    sign_in(page, base, people["county_staff"].username)
    page.goto(base + reverse("branches:unit-create", kwargs={"parent_pk": township_a.pk}))
    # Only the empty choice and the parent's Party organization are sent, the latter chosen.
    expect(page.locator("select[name=party_organization] option")).to_have_count(2)
    expect(page.locator("select[name=party_organization]")).to_have_value(str(tree["party_a"].pk))

    # A Party organization is shown with its county's name, as a unit with its parent's: the same
    # picker helper serves.
    # A picker with a choice keeps its search input out of sight until the field is tapped.
    page.locator(".ts-wrapper:has(#id_party_organization-ts-control) .ts-control").click()
    pick_unit(page, "party_organization", "乙镇", party_b, tree["county"], "/tmp/journey-party-picker-typed.png")

    form = page.locator("form:has(select[name=party_organization])")
    form.locator("input[name=name]").fill("甲二村团支部")
    form.locator("input[name=code]").fill("C-A-2")
    form.locator("select[name=kind]").select_option(OrganizationKind.BRANCH)
    form.locator("[type=submit]").click()
    created = Organization.objects.get(code="C-A-2")
    page.wait_for_url(base + reverse("branches:unit", kwargs={"pk": created.pk}))
    screenshot(page, "/tmp/journey-party-picker.png")
    assert created.party_organization == party_b
