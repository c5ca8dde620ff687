"""Query counts of the branch-life pages: the same at two data sizes for a branch's list, an activity's
page (attendance, attachments, history) and the calendar; pinned for the completeness table of the
demo county."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from branches import activity_services as services
from branches.demo import seed_county, seed_demo_accounts
from branches.demo_activities import seed_activities
from branches.models import Activity, ActivityKind, Organization, User
from members.demo import seed_members
from tests.branches.test_activities import image_file, pdf_file
from tests.conftest import make_member


def grow(tree, people, members: int, activities: int, files: int) -> Activity:
    """`members` more on branch A1's roster, `activities` more records; the last one, with every member
    listed, `files` attachments and a few edits in its history, is returned."""
    branch = tree["branch_a1"]
    start = branch.members.count()
    for n in range(members):
        make_member(branch, f"团员{start + n}")
    roster = list(branch.members.values_list("pk", flat=True))
    activity = None
    for n in range(activities):
        activity = services.activity_record(
            organization=branch,
            actor=people["secretary_a1"],
            data={
                "kind": ActivityKind.THEMED_DAY if n % 2 else ActivityKind.LEAGUE_CLASS,
                "held_on": timezone.localdate() - timedelta(days=n % 20),
                "topic": f"活动{n}",
            },
            attendance={pk: (i % 3 != 0, "" if i % 3 else "生病") for i, pk in enumerate(roster)},
            files=[image_file(f"{n}-{i}.jpg") if i % 2 else pdf_file(f"{n}-{i}.pdf") for i in range(files)],
        )
    for n in range(files):  # edits: entries in the history
        services.activity_update(
            activity=activity,
            actor=people["township_a_staff"],
            data={"kind": activity.kind, "held_on": activity.held_on, "topic": f"更正{n}"},
            attendance={},
        )
    return activity


PAGES = {
    "list": lambda activity: reverse("branches:unit-activities", kwargs={"pk": activity.organization_id}),
    "detail": lambda activity: reverse("branches:activity", kwargs={"pk": activity.pk}),
    "calendar": lambda activity: reverse("branches:unit-activity-calendar", kwargs={"pk": activity.organization_id}),
}


@pytest.mark.parametrize(("page", "limit"), [("list", 11), ("detail", 9), ("calendar", 7)])
def test_the_pages_take_the_same_queries_at_any_size(
    client, tree, people, login, django_assert_max_num_queries, page, limit
):
    login(people["secretary_a1"])
    small = grow(tree, people, members=2, activities=1, files=1)
    # Out of the count: the per-process caches (content types…) and the session's first renewal (a write).
    client.get(PAGES[page](small))
    with django_assert_max_num_queries(limit) as few:
        assert client.get(PAGES[page](small)).status_code == 200
    large = grow(tree, people, members=30, activities=25, files=6)
    with django_assert_max_num_queries(limit) as many:
        response = client.get(PAGES[page](large))
    assert response.status_code == 200
    if page == "detail":
        assert len(response.context["present"]) + len(response.context["absent"]) == 32
        assert len(response.context["attachments"]) == 6 and len(response.context["history"]) > 6
    assert len(many.captured_queries) == len(few.captured_queries), page


@pytest.fixture
def demo_county(db):
    """The demo county with its accounts, 1,500 members and a year of activities."""
    county = seed_county(1)
    seed_demo_accounts(1)
    seed_members(county, target=1500)
    seed_activities(county)
    return county


def test_the_completeness_table_of_the_demo_county_takes_a_fixed_number_of_queries(
    client, demo_county, django_assert_num_queries
):
    client.force_login(User.objects.get(username="county"))
    url = reverse("branches:activity-completeness")
    client.get(url)  # warm the per-process caches, and renew the session (not again within the minute)
    branches = Organization.objects.subtree_of([demo_county.path]).branches().active().count()
    assert branches > 100
    with django_assert_num_queries(9):
        response = client.get(url, {"year": timezone.localdate().year, "quarter": 0})
    table = response.context["table"]
    assert len(table.rows) == branches and len(table.months) == 12
    assert table.silent_count and sum(row.late_total for row in table.rows)
    with django_assert_num_queries(7):
        client.get(reverse("branches:activity-completeness-export"), {"year": timezone.localdate().year})
