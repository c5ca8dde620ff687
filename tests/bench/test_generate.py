"""The benchmark's data generator (bench/bulk.py) at a tiny size: the rows it COPYs follow the rules the
services keep, so the pages and reports measured on them read what real data would give them."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from bench import bulk, suite
from branches.models import Activity, Attendance, Organization, Role, RoleAssignment, User
from members import idnumbers
from members.lifecycle import excellent_cap
from members.models import Evaluation, EvaluationGrade, Member, Registration, add_years
from promotion.models import (
    CaseTransition,
    FollowUpReport,
    Nomination,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from tests.bench.conftest import TINY

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator COPYs into PostgreSQL")


def test_units_hang_in_the_tree_with_their_accounts(db, loaded):
    assert Organization.objects.filter(path__startswith=loaded.path).count() == 165 + 2 * bulk.UNITS_PER_TOWNSHIP
    assert Organization.objects.find_problems() == ([], [], [], [], [])  # paths, depths and child counts agree
    township = Organization.objects.get(code="C001-B002")
    assert Organization.objects.get_parent(township) == loaded
    assert Organization.objects.get_children(township).count() == 1 + bulk.OTHER_BRANCHES
    branches = Organization.objects.subtree_of([loaded.path]).branches()
    with_secretary = RoleAssignment.objects.filter(role=Role.BRANCH_SECRETARY, organization__in=branches)
    assert with_secretary.values("organization").distinct().count() == branches.count()
    staff = User.objects.get(username="county")
    assert Member.objects.visible_to(staff).count() == Member.objects.count()


def test_members_are_valid_unique_and_spread_over_the_branches(db, loaded):
    members = list(Member.objects.all())
    assert abs(len(members) - TINY.members) <= TINY.members * 0.05
    assert len({m.id_number_hash for m in members}) == len(members)
    for member in members[:: len(members) // 40]:
        number = member.id_number
        assert idnumbers.validate_id_number(number) == number
        assert idnumbers.birth_date_of(number) == member.birth_date
        assert idnumbers.sex_of(number) == member.sex
        assert (member.id_number_masked, member.id_number_tail) == (idnumbers.mask(number), number[-4:])
        assert member.joined_on >= add_years(member.birth_date, 14)
    per_branch = Counter(m.branch_id for m in members)
    assert min(per_branch.values()) >= 3


def test_evaluations_and_registrations_keep_the_rules(db, loaded):
    this_year = timezone.localdate().year
    grades = defaultdict(Counter)
    for branch_id, grade in Evaluation.objects.values_list("member__branch_id", "grade"):
        grades[branch_id][grade] += 1
    for counts in grades.values():
        assert counts[EvaluationGrade.EXCELLENT] <= excellent_cap(sum(counts.values()))
    unqualified = Evaluation.objects.filter(grade=EvaluationGrade.UNQUALIFIED).values("member")
    assert not Registration.objects.filter(year=this_year, member__in=unqualified).exists()
    assert Registration.objects.filter(year=this_year - 1).count() == Evaluation.objects.count()


def test_every_case_is_a_story_its_transitions_tell(db, loaded):
    cases = list(PromotionCase.objects.all())
    assert len(cases) >= 20
    steps = defaultdict(list)
    for step in CaseTransition.objects.order_by("at", "pk"):
        steps[step.case_id].append(step)
    for case in cases:
        history = steps[case.pk]
        assert history[0].action == "open"
        for before, after in itertools.pairwise(history):
            assert after.from_stage == before.to_stage, case.pk
        assert history[-1].to_stage == case.stage
        assert case.stage_since == history[-1].at
        assert history[-1].at <= timezone.now()
        if case.recommended_on:
            assert case.valid_until == add_years(case.recommended_on, 2) - timedelta(days=1)
        if case.stage == Stage.LAPSED:
            assert history[-1].at.date() == case.valid_until + timedelta(days=1)
            assert history[-1].actor_id is None
        nominations = Nomination.objects.filter(case=case)
        assert nominations.count() == (0 if case.stage in (Stage.CULTIVATION, Stage.WITHDRAWN) else 1)
    # One round under way per branch and track at most (the database's constraint holds them to it).
    open_rounds = PromotionRound.objects.exclude(stage__in=[RoundStage.SUBMITTED, RoundStage.CLOSED])
    assert open_rounds.count() == len({(r.branch_id, r.track) for r in open_rounds})
    # Follow-up reports only from the month of the recommendation, never in the future.
    for report in FollowUpReport.objects.select_related("case"):
        assert report.month >= report.case.recommended_on.replace(day=1)
        assert report.filed_at <= timezone.now()


def test_most_units_have_a_committee_term_of_their_length(db, loaded):
    from branches.committee_selectors import default_term_years
    from branches.models import CommitteeTerm

    units = list(Organization.objects.filter(path__startswith=loaded.path).active())
    terms = {t.organization_id: t for t in CommitteeTerm.objects.current().select_related("organization")}
    assert 0.8 * len(units) <= len(terms) < len(units)  # a few committees are left unrecorded
    today = timezone.localdate()
    assert any(t.due_on <= today for t in terms.values())  # and a few terms have run out
    for term in terms.values():
        assert term.length_years == default_term_years(term.organization)
        assert term.due_on == add_years(term.starts_on, term.length_years)
        assert term.starts_on <= today


def test_attendance_is_the_roll_of_the_day(db, loaded):
    assert Activity.objects.exists()
    wrong = Attendance.objects.exclude(member__branch=F("activity__organization"))
    assert not wrong.exists()
    assert not Attendance.objects.filter(member__joined_on__gt=F("activity__held_on")).exists()
    activity = Activity.objects.filter(present_count__gt=0).first()
    rows = Attendance.objects.filter(activity=activity)
    assert activity.present_count == rows.filter(present=True).count()
    assert activity.absent_count == rows.filter(present=False).count()


def test_foreign_keys_hold_though_the_load_skips_their_triggers(db, loaded):
    checks = {
        "members_member": ("branch_id", "branches_organization"),
        "branches_committeeterm": ("organization_id", "branches_organization"),
        "branches_attendance": ("member_id", "members_member"),
        "promotion_promotioncase": ("member_id", "members_member"),
        "promotion_casetransition": ("case_id", "promotion_promotioncase"),
        "promotion_nomination": ("round_id", "promotion_promotionround"),
        "branches_roleassignment": ("user_id", "branches_user"),
    }
    with connection.cursor() as cursor:
        for table, (column, target) in checks.items():
            cursor.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {target} x WHERE x.id = t.{column})"
            )
            assert cursor.fetchone()[0] == 0, table
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # put back after the load


def test_the_reports_read_the_generated_county(db, loaded):
    from reports.models import ReportKind
    from reports.periods import QUARTER, Period
    from reports.selectors import build_document

    quarter = Period.containing(QUARTER, timezone.localdate()).previous()
    document = build_document(ReportKind.QUARTERLY, loaded, quarter)
    assert document.sections


def test_a_database_that_exists_is_refused_unless_replaced(db):
    name = "bench_pytest_probe"
    suite.drop_database(name)
    try:
        suite.create_database(name)
        assert suite.database_exists(name)
        with pytest.raises(SystemExit, match="exists already"):
            suite.create_database(name)
        suite.create_database(name, replace=True)
        assert suite.database_exists(name)
    finally:
        suite.drop_database(name)
    assert not suite.database_exists(name)
    with pytest.raises(ValueError):
        suite.create_database("leagueadmin")
