"""Journeys through a real browser against the live server: sign in with the login form, find your
units, and stay inside your scope.

The text of the UI is not asserted (translations may be missing or change): elements are found by
form field names, by link targets built with reverse(), by data-testid, and by unit names, which
are data from the fixtures.

Each test requests `transactional_db` before `tree`/`people` so that the fixture data is committed
and visible to the live server's thread.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

# Auto-waiting assertions give up after this long: the live server answers locally and quickly.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def device() -> dict:
    """Context options of the device; a test parametrizes it to browse on a phone."""
    return DESKTOP


@pytest.fixture
def page(browser: Browser, device: dict) -> Page:
    # The users read Chinese: ask for it as their browsers do (Chromium's default is en-US).
    context = browser.new_context(locale="zh-CN", **device)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Sign in through the real login form and wait for the home page."""
    response = page.goto(base_url + reverse("login"))
    assert response is not None and response.status == 200
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(base_url + reverse("home"))


def screenshot(page: Page, path: str) -> None:
    """A picture for the human reviewer; never a reason for the test to fail."""
    try:
        page.screenshot(path=path, full_page=True)
    except Exception as exc:
        print(f"screenshot {path} not taken: {exc}")


def pick_unit(page: Page, field: str, typed: str, unit, parent, shot: str) -> None:
    """On a phone, type part of a unit's name into a searched unit picker (branches/unit_search.py)
    and pick it: it is the only match, shown with its parent's name to tell namesakes apart, and the
    field keeps within the phone's width."""
    search = page.locator(f"#id_{field}-ts-control")
    expect(search).to_be_visible()
    search.click()
    search.press_sequentially(typed)
    choice = page.locator(f'.ts-dropdown [data-value="{unit.pk}"]')
    expect(choice).to_contain_text(unit.name)
    expect(choice).to_contain_text(parent.name)
    expect(page.locator(".ts-dropdown .option")).to_have_count(1)
    screenshot(page, shot)
    box = page.locator(".ts-wrapper").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    choice.click()
    expect(page.locator(f"select[name={field}]")).to_have_value(str(unit.pk))


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_branch_secretary_finds_their_branch_and_only_it_on_a_phone(transactional_db, live_server, tree, people, page):
    base = live_server.url
    own_branch, other_branch = tree["branch_a1"], tree["branch_b1"]
    own_url = reverse("branches:unit", args=[own_branch.pk])
    other_url = reverse("branches:unit", args=[other_branch.pk])

    sign_in(page, base, people["secretary_a1"].username)

    # Home: the branch is listed among the secretary's units.
    own_link = page.locator(f'main a[href="{own_url}"]')
    expect(own_link).to_contain_text(own_branch.name)
    expect(page.get_by_test_id("branch-count")).to_have_text("1")
    screenshot(page, "/tmp/journey-home.png")

    # Organizations, through the collapsed menu of a phone.
    tree_url = reverse("branches:tree")
    page.locator(".navbar-toggler").click()
    page.locator(f'nav a[href="{tree_url}"]').click()
    page.wait_for_url(base + tree_url)
    expect(page.locator(f'ul.tree a[href="{own_url}"]')).to_have_text(own_branch.name)
    expect(page.locator("main")).not_to_contain_text(other_branch.name)
    expect(page.locator(f'a[href="{other_url}"]')).to_have_count(0)
    screenshot(page, "/tmp/journey-tree.png")

    # The branch's own page opens.
    with page.expect_navigation() as navigation:
        page.locator(f'ul.tree a[href="{own_url}"]').click()
    assert navigation.value.status == 200
    expect(page.locator("main h1")).to_have_text(own_branch.name)


def test_township_staff_opens_own_units_but_not_another_townships(transactional_db, live_server, tree, people, page):
    base = live_server.url
    own_branch, other_branch = tree["branch_a1"], tree["branch_b1"]

    sign_in(page, base, people["township_a_staff"].username)

    response = page.goto(base + reverse("branches:unit", args=[own_branch.pk]))
    assert response is not None and response.status == 200
    expect(page.locator("main h1")).to_have_text(own_branch.name)

    # Typing the address of another township's branch: not found, the same as a missing unit.
    response = page.goto(base + reverse("branches:unit", args=[other_branch.pk]))
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text(other_branch.name)


def test_county_staff_opens_the_tree_level_by_level(transactional_db, live_server, tree, people, page):
    """The tree page shows the county and its townships; deeper units load when a unit is opened."""
    base = live_server.url
    sign_in(page, base, people["county_staff"].username)
    page.goto(base + reverse("branches:tree"))
    township_a, general_ag = tree["township_a"], tree["general_ag"]
    expect(page.locator(f'ul.tree a[href="{reverse("branches:unit", args=[township_a.pk])}"]')).to_be_visible()
    branch_link = page.locator(f'ul.tree a[href="{reverse("branches:unit", args=[tree["branch_ag1"].pk])}"]')
    expect(branch_link).to_have_count(0)

    page.locator(f'a[href="#sub-{township_a.pk}"]').click()
    expect(page.locator(f"#sub-{township_a.pk}")).to_contain_text(general_ag.name)
    page.locator(f'a[href="#sub-{general_ag.pk}"]').click()
    expect(branch_link).to_be_visible()
    # Each unit's list holds its own children only.
    township_b = tree["township_b"]
    page.locator(f'a[href="#sub-{township_b.pk}"]').click()
    expect(page.locator(f"#sub-{township_b.pk}")).to_contain_text(tree["branch_b1"].name)
    expect(page.locator(f"#sub-{township_a.pk}")).not_to_contain_text(tree["branch_b1"].name)
    screenshot(page, "/tmp/journey-tree-opened.png")
