"""The demo county's branch life: a year of activities with attendance that matches the kept
counts, a topic for every month, regular, silent and hollow branches; idempotent and deterministic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from branches.activity_selectors import quarter_start
from branches.demo import seed_county, seed_demo_accounts
from branches.demo_activities import HOLLOW_BRANCHES, seed_activities
from branches.models import Activity, Attendance, Organization, ThemedDayTopic
from members.demo import seed_members


@pytest.fixture
def demo(db):
    """The demo county with its accounts and 500 members (what the activities need), then its activities."""
    county = seed_county(1)
    seed_demo_accounts(1)
    seed_members(county, target=500)
    seed_activities(county)
    return county


def snapshot() -> list[tuple]:
    return sorted(
        Activity.objects.values_list("organization__code", "kind", "held_on", "present_count", "absent_count")
    )


def test_a_year_of_activities_with_matching_attendance_in_regular_silent_and_hollow_branches(demo):
    today = timezone.localdate()
    activities = Activity.objects.all()
    assert activities.count() > 1000
    assert activities.filter(held_on__gt=today).count() == 0
    assert activities.filter(held_on__lt=today - timedelta(days=366)).count() == 0
    assert ThemedDayTopic.objects.filter(county=demo).count() == 12
    assert activities.exclude(themed_day_topic=None).exclude(kind="themed_day").count() == 0
    kept = activities.aggregate(present=Sum("present_count"), absent=Sum("absent_count"))
    assert kept == {
        "present": Attendance.objects.filter(present=True).count(),
        "absent": Attendance.objects.filter(present=False).count(),
    }
    assert Attendance.objects.filter(present=False).exclude(absence_reason="").exists()
    # The activities were recorded over the year, not at seeding time.
    assert activities.filter(created_at__date__lt=today - timedelta(days=30)).exists()

    # Most branches meet, about one in ten has gone silent lately, a few have never met.
    branches = Organization.objects.branches().active()
    since = min(quarter_start(timezone.localdate()), timezone.localdate() - timedelta(days=90))
    by_branch = dict(branches.annotate(n=Count("activities")).values_list("pk", "n"))
    recent = dict(
        branches.annotate(n=Count("activities", filter=Q(activities__held_on__gte=since))).values_list("pk", "n")
    )
    hollow = [pk for pk, n in by_branch.items() if n == 0]
    silent = [pk for pk, n in recent.items() if n == 0 and by_branch[pk]]
    assert len(hollow) == HOLLOW_BRANCHES
    assert 0.05 * len(by_branch) <= len(silent) <= 0.2 * len(by_branch)
    assert sum(1 for pk in by_branch if recent[pk]) > 0.75 * len(by_branch)


def test_it_adds_nothing_the_second_time_and_is_deterministic(demo):
    before = snapshot()
    assert seed_activities(demo) == 0
    assert snapshot() == before
    Attendance.objects.all().delete()
    Activity.objects.all().delete()
    seed_activities(demo)
    assert snapshot() == before


def test_seeding_leaves_the_model_alone_for_everyone_else(db, monkeypatch):
    """The recording moments are set after the insert, not by switching off `auto_now_add` for the
    whole process: an activity recorded meanwhile (another request, another thread) still gets its
    own moment."""
    county = seed_county(1)
    seed_demo_accounts(1)
    seed_members(county, target=200)
    inserted = Activity.objects.bulk_create
    meanwhile = []

    def insert_and_record_another(objs, *args, **kwargs):
        result = inserted(objs, *args, **kwargs)
        meanwhile.append(
            Activity.objects.create(
                organization=objs[0].organization,
                kind="other",
                held_on=objs[0].held_on,
                topic="t",
                recorded_by_id=objs[0].recorded_by_id,
            )
        )
        return result

    monkeypatch.setattr(Activity.objects, "bulk_create", insert_and_record_another)
    before = timezone.now()
    assert seed_activities(county) > 0
    (other,) = meanwhile
    assert other.created_at >= before
    seeded = Activity.objects.exclude(pk=other.pk)
    assert seeded.filter(created_at__lt=before - timedelta(days=30)).exists()
    # Each recorded on or after its day, none in the future.
    assert not seeded.filter(Q(created_at__date__lt=F("held_on")) | Q(created_at__gt=timezone.now())).exists()
