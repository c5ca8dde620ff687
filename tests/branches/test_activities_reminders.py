"""The reminder rule "a branch has recorded no required meeting this month / quarter by the reminder
day": who hears of it and when, once per branch and month however often it runs, a catch-up after
missed days, and bounded queries."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest

from branches.activity_reminders import RULE_NAME
from branches.models import (
    Activity,
    ActivityKind,
    CommitteeTerm,
    Notification,
    NotificationKind,
    Organization,
    OrganizationKind,
    Role,
)
from branches.notifications import RULES, preview_rule, run_rule
from branches.tasks import run_reminders
from tests.branches.test_activities_completeness import elect_committee
from tests.conftest import add, make_user

K = ActivityKind


def held(unit, kind, day, recorder) -> None:
    Activity.objects.create(organization=unit, kind=kind, held_on=day, topic="t", recorded_by=recorder)


def recipients() -> set[str]:
    return set(Notification.objects.filter(key__startswith=RULE_NAME).values_list("recipient__username", flat=True))


@pytest.fixture(autouse=True)
def committees(tree, people):
    """A1 and B1 have elected committees: their committee meetings are required (domain.md §2.3)."""
    for unit in (tree["branch_a1"], tree["branch_b1"]):
        elect_committee(unit, people["county_staff"])


@pytest.fixture
def regular_a1(tree, people):
    """Branch A1 held this month's required meetings (May 2026: not a quarter's last month)."""
    for kind in (K.COMMITTEE_MEETING, K.THEMED_DAY):
        held(tree["branch_a1"], kind, date(2026, 5, 6), people["secretary_a1"])


def test_the_rule_is_registered_for_the_daily_run():
    assert RULE_NAME in RULES


def test_nothing_before_the_reminder_day(tree, people, regular_a1, settings):
    assert settings.LEAGUE_RULES["activity_reminder_day"] == 20
    assert run_rule(RULE_NAME, date(2026, 5, 19)) == 0


def test_secretaries_of_branches_missing_a_meeting_hear_of_it_once(tree, people, regular_a1):
    created = run_rule(RULE_NAME, date(2026, 5, 20))
    assert recipients() == {"secretary_b1"}  # AG1 has no secretary account; A1 is done
    assert created == 1
    notification = Notification.objects.get(key__startswith=RULE_NAME)
    assert notification.kind == NotificationKind.BRANCH_LIFE
    assert notification.key == f"{RULE_NAME}:{tree['branch_b1'].pk}:2026-05"
    assert "支部委员会" in notification.subject and "主题团日" in notification.subject
    assert notification.link == f"/org/units/{tree['branch_b1'].pk}/activities/new/"
    assert run_rule(RULE_NAME, date(2026, 5, 20)) == 0  # the same day again
    assert run_rule(RULE_NAME, date(2026, 5, 28)) == 0  # later in the month


def test_a_branch_without_a_committee_is_not_reminded_of_committee_meetings(tree, people):
    """§2.3: fewer than 7 members and no committee elected: a secretary alone, no committee meeting."""
    CommitteeTerm.objects.filter(organization=tree["branch_b1"]).update(ended_on=date(2026, 1, 1))
    (reminder,) = [r for r in preview_rule(RULE_NAME, date(2026, 5, 20)) if people["secretary_b1"].pk in r.recipients]
    assert "主题团日" in reminder.subject and "支部委员会" not in reminder.subject
    held(tree["branch_b1"], K.THEMED_DAY, date(2026, 5, 3), people["secretary_b1"])
    assert not [r for r in preview_rule(RULE_NAME, date(2026, 5, 20)) if people["secretary_b1"].pk in r.recipients]


def test_a_deputy_hears_of_it_with_the_secretary(tree, people):
    run_rule(RULE_NAME, date(2026, 5, 21))
    assert recipients() == {"secretary_a1", "deputy_a1", "secretary_b1"}


def test_a_missed_window_start_is_caught_up_and_the_next_month_reminds_again(tree, people, regular_a1):
    # The scheduler was down from the 20th to the 24th: the run on the 25th still reminds.
    assert run_rule(RULE_NAME, date(2026, 5, 25)) == 1
    assert run_rule(RULE_NAME, date(2026, 5, 31)) == 0
    held(tree["branch_b1"], K.COMMITTEE_MEETING, date(2026, 6, 2), people["secretary_b1"])
    run_rule(RULE_NAME, date(2026, 6, 20))  # June: a new month, and B1 still lacks its themed day
    keys = set(Notification.objects.filter(recipient=people["secretary_b1"]).values_list("key", flat=True))
    assert keys == {f"{RULE_NAME}:{tree['branch_b1'].pk}:2026-05", f"{RULE_NAME}:{tree['branch_b1'].pk}:2026-06"}


def test_in_a_quarters_last_month_the_quarterly_kinds_count(tree, people, regular_a1):
    for kind in (K.COMMITTEE_MEETING, K.THEMED_DAY):
        held(tree["branch_a1"], kind, date(2026, 6, 3), people["secretary_a1"])
    (reminder_a1,) = [
        r for r in preview_rule(RULE_NAME, date(2026, 6, 22)) if people["secretary_a1"].pk in r.recipients
    ]
    assert "支部团员大会" in reminder_a1.subject and "团课" in reminder_a1.subject
    assert "主题团日" not in reminder_a1.subject
    held(tree["branch_a1"], K.GENERAL_MEETING, date(2026, 4, 10), people["secretary_a1"])  # earlier in Q2
    held(tree["branch_a1"], K.LEAGUE_CLASS, date(2026, 5, 10), people["secretary_a1"])
    assert not [r for r in preview_rule(RULE_NAME, date(2026, 6, 22)) if people["secretary_a1"].pk in r.recipients]


def test_a_short_month_reminds_on_its_last_day_when_the_day_is_later(tree, people, settings):
    settings.LEAGUE_RULES = {**settings.LEAGUE_RULES, "activity_reminder_day": 31}
    assert run_rule(RULE_NAME, date(2026, 2, 27)) == 0
    assert run_rule(RULE_NAME, date(2026, 2, 28)) > 0


def test_dissolved_and_new_branches_are_not_reminded(tree, people):
    Organization.objects.filter(pk=tree["branch_b1"].pk).update(dissolved_on=date(2026, 5, 2))
    Organization.objects.filter(pk=tree["branch_a1"].pk).update(founded_on=date(2026, 5, 10))
    assert run_rule(RULE_NAME, date(2026, 5, 20)) == 0


def test_bounded_queries_whatever_the_number_of_branches(tree, people, django_assert_max_num_queries):
    with django_assert_max_num_queries(5) as small:
        assert len(preview_rule(RULE_NAME, date(2026, 5, 20))) == 2  # A1 (secretary and deputy) and B1
    for i in range(20):
        branch = add(
            tree["township_b"], name=f"支部{i}", code=f"C-B-X{i}", kind=OrganizationKind.BRANCH, sector="village"
        )
        make_user(f"secretary_x{i}", Role.BRANCH_SECRETARY, organization=branch)
    with django_assert_max_num_queries(5) as large:
        assert len(preview_rule(RULE_NAME, date(2026, 5, 20))) == 22
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_daily_task_runs_it(tree, people):
    today = date(2026, 5, 20)
    with (
        mock.patch("branches.tasks.RULES", {RULE_NAME: RULES[RULE_NAME]}),
        mock.patch("branches.notifications.timezone.localdate", return_value=today),
    ):
        assert run_reminders() == {RULE_NAME: 3}
        assert run_reminders() == {RULE_NAME: 0}
