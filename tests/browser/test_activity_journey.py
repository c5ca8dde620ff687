"""A branch secretary records last night's themed League day on a phone through a real browser:
from the menu to the branch's activities, the form with its defaults, one member marked absent with
a reason, and the record in the list.

As in test_journeys, the text of the UI is not asserted: elements are found by form field names, by
link targets built with reverse(), by data-testid and by data from the fixtures. The test requests
`transactional_db` before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from branches.models import Activity, ActivityKind
from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, screenshot, sign_in
from tests.conftest import make_member

browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_a_secretary_records_a_themed_day_on_a_phone(transactional_db, live_server, tree, people, page: Page):
    base = live_server.url
    branch = tree["branch_a1"]
    present = make_member(branch, "张三")
    absent = make_member(branch, "李四")
    yesterday = timezone.localdate() - timedelta(days=1)
    list_url = reverse("branches:unit-activities", kwargs={"pk": branch.pk})
    create_url = reverse("branches:activity-create", kwargs={"pk": branch.pk})

    sign_in(page, base, people["secretary_a1"].username)

    # Organizational life, through the collapsed menu: the secretary lands on the branch's list.
    page.locator(".navbar-toggler").click()
    page.locator(f'nav a[href="{reverse("branches:activities")}"]').click()
    page.wait_for_url(base + list_url)
    page.get_by_test_id("record-activity").click()
    page.wait_for_url(base + create_url)

    # The defaults: a themed League day, today, everyone present.
    form = page.locator("#activity-form")
    expect(form.locator("select[name=kind]")).to_have_value(ActivityKind.THEMED_DAY)
    expect(form.locator("input[name=held_on]")).to_have_value(timezone.localdate().isoformat())
    expect(form.locator(f"#present-{present.pk}")).to_be_checked()
    expect(form.locator(f"#present-{absent.pk}")).to_be_checked()
    expect(form.locator(f'input[name="reason-{absent.pk}"]')).to_be_hidden()

    # Last night, a topic, and one member absent with a reason (the box appears once unticked).
    form.locator("input[name=held_on]").fill(yesterday.isoformat())
    form.locator("input[name=topic]").fill("重温入团誓词")
    form.locator(f'label[for="present-{absent.pk}"]').tap()
    expect(form.locator(f"#present-{absent.pk}")).not_to_be_checked()
    reason = form.locator(f'input[name="reason-{absent.pk}"]')
    expect(reason).to_be_visible()
    reason.fill("外出务工")
    screenshot(page, "/tmp/journey-activity-form.png")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    activity = Activity.objects.get(organization=branch)
    assert page.url == base + reverse("branches:activity", kwargs={"pk": activity.pk})
    assert (activity.kind, activity.held_on, activity.topic) == (ActivityKind.THEMED_DAY, yesterday, "重温入团誓词")
    assert (activity.present_count, activity.absent_count) == (1, 1)
    assert activity.attendance.get(present=False).member == absent
    expect(page.get_by_test_id("absent-list")).to_contain_text("外出务工")

    # Back to the list: the record is there.
    page.goto(base + list_url)
    entry = page.get_by_test_id("activity-list").locator(
        f'a[href="{reverse("branches:activity", kwargs={"pk": activity.pk})}"]'
    )
    expect(entry).to_contain_text("重温入团誓词")
    screenshot(page, "/tmp/journey-activity-list.png")


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_editing_a_committee_meeting_keeps_everyone_recorded(transactional_db, live_server, tree, people, page: Page):
    """A committee meeting's record lists a member who holds no post: on editing, the page keeps their
    row shown and sent (a new committee meeting lists the committee only)."""
    from branches import activity_services

    base = live_server.url
    branch = tree["branch_a1"]
    secretary = make_member(branch, "张三", league_post="secretary")
    guest = make_member(branch, "李四")
    activity = activity_services.activity_record(
        organization=branch,
        actor=people["secretary_a1"],
        data={"kind": ActivityKind.COMMITTEE_MEETING, "held_on": timezone.localdate(), "topic": "支委会"},
        attendance={secretary.pk: (True, ""), guest.pk: (True, "")},
    )
    sign_in(page, base, people["secretary_a1"].username)

    page.goto(base + reverse("branches:activity-create", kwargs={"pk": branch.pk}))
    form = page.locator("#activity-form")
    form.locator("select[name=kind]").select_option(ActivityKind.COMMITTEE_MEETING)
    expect(form.locator(f"#present-{guest.pk}")).to_be_hidden()  # a new one: the committee only

    page.goto(base + reverse("branches:activity-edit", kwargs={"pk": activity.pk}))
    expect(form.locator("select[name=kind]")).to_have_value(ActivityKind.COMMITTEE_MEETING)
    expect(form.locator(f"#present-{guest.pk}")).to_be_visible()
    expect(form.locator(f'input[name=attendee][value="{guest.pk}"]')).to_be_enabled()
    form.locator("input[name=topic]").fill("支委会（更正）")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    activity.refresh_from_db()
    assert activity.topic == "支委会（更正）"
    assert set(activity.attendance.filter(present=True).values_list("member", flat=True)) == {secretary.pk, guest.pk}
