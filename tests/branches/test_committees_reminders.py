"""The committee-term reminder (issue 6): a term ending within the notice period, or overdue, reaches
the unit's own people and the staff of the committee above, once per term and stage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from branches.committee_reminders import committee_terms_due
from branches.models import CommitteeTerm, Notification, Organization, OrganizationKind, Role, Sector, add_years
from branches.notifications import RULES, preview_rule, run_rule
from tests.branches.test_committees import make_cadre, make_term
from tests.conftest import add, make_user

DAY = date(2026, 6, 10)


def term_due_on(unit: Organization, due: date, years: int = 3) -> CommitteeTerm:
    return make_term(unit, add_years(due, -years), [(make_cadre(unit), "secretary")], length_years=years)


def recipients(term: CommitteeTerm, stage: str) -> set[str]:
    return set(
        Notification.objects.filter(key=f"committee-term:{term.pk}:{stage}").values_list(
            "recipient__username", flat=True
        )
    )


def test_the_rule_is_registered_for_the_daily_run():
    assert "committee_terms_due" in RULES


def test_a_branch_hears_sixty_days_ahead_and_again_when_overdue(tree, people):
    term = term_due_on(tree["branch_a1"], DAY + timedelta(days=60))
    assert run_rule("committee_terms_due", DAY - timedelta(days=1)) == 0  # 61 days ahead: not yet
    assert run_rule("committee_terms_due", DAY) == 3
    assert recipients(term, "soon") == {"secretary_a1", "deputy_a1", "township_a_staff"}
    assert run_rule("committee_terms_due", DAY) == 0  # running twice sends nothing new
    assert run_rule("committee_terms_due", DAY + timedelta(days=60)) == 0  # the last day: still "soon"
    assert run_rule("committee_terms_due", DAY + timedelta(days=61)) == 3
    assert recipients(term, "overdue") == {"secretary_a1", "deputy_a1", "township_a_staff"}
    assert run_rule("committee_terms_due", DAY + timedelta(days=90)) == 0  # overdue is told once
    notification = Notification.objects.get(key=f"committee-term:{term.pk}:overdue", recipient=people["secretary_a1"])
    assert notification.kind == "committee_term"
    assert "任期已于 2026-08-09 届满，请及时换届" in notification.subject
    assert notification.link == reverse("branches:committee", kwargs={"pk": tree["branch_a1"].pk})


def test_a_missed_run_is_caught_up(tree, people):
    term = term_due_on(tree["branch_a1"], DAY - timedelta(days=200))  # overdue long before the first run
    run_rule("committee_terms_due", DAY)
    assert recipients(term, "overdue") == {"secretary_a1", "deputy_a1", "township_a_staff"}
    assert not recipients(term, "soon")


def test_a_township_committee_and_the_county_hear_of_the_township_s_term(tree, people):
    term = term_due_on(tree["township_a"], DAY + timedelta(days=10), years=5)
    run_rule("committee_terms_due", DAY)
    assert recipients(term, "soon") == {"township_a_staff", "county_staff"}


def test_a_branch_under_a_general_branch_reaches_the_township(tree, people):
    """The general branch has no staff: the nearest committee above with staff hears."""
    term = term_due_on(tree["branch_ag1"], DAY, years=1)
    run_rule("committee_terms_due", DAY)
    assert recipients(term, "soon") == {"township_a_staff"}  # branch AG1 has no secretary account


def test_a_committee_without_accounts_passes_the_reminder_up(tree, people):
    school = add(tree["county"], name="县一中团委", code="C-S", kind=OrganizationKind.GRASSROOTS, sector=Sector.SCHOOL)
    branch = add(school, name="高一(1)班团支部", code="C-S-1", kind=OrganizationKind.BRANCH, sector=Sector.SCHOOL)
    secretary = make_user("secretary_s1", Role.BRANCH_SECRETARY, organization=branch)
    term = term_due_on(branch, DAY - timedelta(days=1), years=1)
    run_rule("committee_terms_due", DAY)
    assert recipients(term, "overdue") == {secretary.username, "county_staff"}


def test_ended_terms_and_dissolved_units_are_not_reminded(tree, people):
    ended = term_due_on(tree["branch_a1"], DAY - timedelta(days=5))
    CommitteeTerm.objects.filter(pk=ended.pk).update(ended_on=DAY - timedelta(days=10))
    dissolved = term_due_on(tree["branch_b1"], DAY)
    Organization.objects.filter(pk=tree["branch_b1"].pk).update(dissolved_on=DAY, dissolution_reason="合并")
    assert preview_rule("committee_terms_due", DAY) == []
    assert not Notification.objects.filter(key__contains=f":{dissolved.pk}:").exists()


def test_terms_in_good_time_are_left_alone(tree, people):
    term_due_on(tree["branch_a1"], DAY + timedelta(days=61))
    assert preview_rule("committee_terms_due", DAY) == []


def test_the_rule_takes_a_constant_number_of_queries(tree, people, django_assert_num_queries):
    for unit in ("branch_a1", "branch_b1", "branch_ag1", "township_a", "township_b", "county"):
        term_due_on(tree[unit], DAY + timedelta(days=5))
    with django_assert_num_queries(4):
        reminders = list(committee_terms_due(DAY))
    assert len(reminders) == 6


@pytest.mark.parametrize("ended_by", ["secretary_a1", "township_a_staff"])
def test_ended_roles_hear_nothing(tree, people, ended_by):
    term = term_due_on(tree["branch_a1"], DAY)
    people[ended_by].roles.update(ends_on=DAY - timedelta(days=1))
    run_rule("committee_terms_due", DAY)
    assert ended_by not in recipients(term, "soon")


# --- units with no committee recorded -------------------------------------------------------------


def unrecorded(unit: Organization, year: int = DAY.year) -> set[str]:
    return set(
        Notification.objects.filter(key=f"committee-unrecorded:{unit.pk}:{year}").values_list(
            "recipient__username", flat=True
        )
    )


def test_units_with_no_committee_recorded_hear_once_a_year(tree, people):
    assert "committees_unrecorded" in RULES
    term_due_on(tree["branch_b1"], DAY + timedelta(days=400))  # recorded: not reminded
    created = run_rule("committees_unrecorded", DAY)
    assert unrecorded(tree["branch_a1"]) == {"secretary_a1", "deputy_a1", "township_a_staff"}
    assert unrecorded(tree["township_a"]) == {"township_a_staff", "county_staff"}
    assert unrecorded(tree["county"]) == {"county_staff"}
    assert unrecorded(tree["branch_ag1"]) == {"township_a_staff"}  # no account of its own, none at AG
    assert not unrecorded(tree["branch_b1"])
    assert created == Notification.objects.count()
    assert run_rule("committees_unrecorded", DAY) == 0  # running twice sends nothing new
    assert run_rule("committees_unrecorded", DAY + timedelta(days=100)) == 0  # the same year
    notification = Notification.objects.get(
        key=f"committee-unrecorded:{tree['branch_a1'].pk}:{DAY.year}", recipient=people["secretary_a1"]
    )
    assert notification.kind == "committee_term" and "尚未录入委员会" in notification.subject
    assert notification.link == reverse("branches:committee", kwargs={"pk": tree["branch_a1"].pk})
    next_year = date(DAY.year + 1, 1, 5)
    assert run_rule("committees_unrecorded", next_year) == created  # a new year, a new reminder
    assert unrecorded(tree["branch_a1"], DAY.year + 1) == {"secretary_a1", "deputy_a1", "township_a_staff"}


def test_recording_the_committee_or_dissolving_the_unit_stops_the_reminder(tree, people):
    for name in tree:
        if not name.startswith("party") and name not in ("branch_a1", "branch_b1"):
            term_due_on(tree[name], DAY + timedelta(days=400))
    Organization.objects.filter(pk=tree["branch_b1"].pk).update(dissolved_on=DAY, dissolution_reason="合并")
    reminders = preview_rule("committees_unrecorded", DAY)
    assert [r.key for r in reminders] == [f"committee-unrecorded:{tree['branch_a1'].pk}:{DAY.year}"]


def test_the_unrecorded_rule_takes_a_constant_number_of_queries(tree, people, django_assert_num_queries):
    from branches.committee_reminders import committees_unrecorded

    with django_assert_num_queries(4):
        few = list(committees_unrecorded(DAY))
    for i in range(10):
        add(
            tree["township_b"],
            name=f"乙{i}村团支部",
            code=f"C-B-X{i}",
            kind=OrganizationKind.BRANCH,
            sector=Sector.VILLAGE,
        )
    with django_assert_num_queries(4):
        many = list(committees_unrecorded(DAY))
    assert len(many) == len(few) + 10
