"""The quarterly report agrees with counts made directly on the database (written plainly, one question
at a time), on the small quarter with five more branches; and its drill-down rows agree with its sections."""

from __future__ import annotations

import pytest
import time_machine
from django.db.models import Q

from branches.models import BRANCH_KINDS, Activity, Attendance, CommitteeSeat, CommitteeTerm, Organization
from members.models import LEFT_STATUSES, Member, Transfer, TransferStatus
from promotion.models import CaseTransition, PromotionCase, Stage
from reports.quarterly import build_quarterly
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2

START, END = Q2.start, Q2.end


@pytest.fixture
def document(tree):
    with time_machine.travel(NOW, tick=False):
        data = quarterly_data.build(tree)
        quarterly_data.add_branches(tree, data["recorder"], 5)
        yield build_quarterly(tree["county"], Q2)


def values(document, key):
    return [figure.value for figure in document.section(key).figures]


def test_members_agree(document):
    at_end = Member.objects.filter(joined_on__lte=END).exclude(left_on__lte=END)
    left = Member.objects.filter(status__in=LEFT_STATUSES, left_on__gte=START, left_on__lte=END)
    out_of_county = Transfer.objects.filter(
        status=TransferStatus.COMPLETED, to_branch__isnull=True, decided_at__date__gte=START, decided_at__date__lte=END
    )
    assert values(document, "members") == [
        at_end.count(),
        Member.objects.filter(joined_on__gte=START, joined_on__lte=END).count(),
        left.count(),
        0,  # nothing comes into a county from outside it through a transfer
        out_of_county.count(),
    ]
    section = document.section("members")
    by_sex = section.tables[2]  # after the reasons for leaving and the age bands
    assert [row[1] for row in by_sex.rows] == [at_end.filter(sex="M").count(), at_end.filter(sex="F").count()]
    by_reason = section.tables[0]
    assert sum(row[1] for row in by_reason.rows) == left.count()


def test_organizations_agree(document):
    active = Organization.objects.filter(Q(founded_on__isnull=True) | Q(founded_on__lte=END)).filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=END)
    )
    figures = values(document, "organizations")
    assert figures[:4] == [
        active.count(),
        active.filter(kind__in=BRANCH_KINDS).count(),
        Organization.objects.filter(founded_on__gte=START, founded_on__lte=END).count(),
        Organization.objects.filter(dissolved_on__gte=START, dissolved_on__lte=END).count(),
    ]


def test_branch_life_agrees(document):
    activities = Activity.objects.filter(
        organization__kind__in=BRANCH_KINDS, held_on__gte=START, held_on__lte=END, voided_at__isnull=True
    )
    attendance = Attendance.objects.filter(
        activity__in=Activity.objects.filter(held_on__gte=START, held_on__lte=END, voided_at__isnull=True)
    )
    figures = values(document, "branch_life")
    assert figures[4] == activities.count()
    assert figures[5] == round(100 * attendance.filter(present=True).count() / attendance.count(), 1)
    assert figures[6] == sum(
        1
        for branch in Organization.objects.filter(kind__in=BRANCH_KINDS)
        .filter(Q(founded_on__isnull=True) | Q(founded_on__lte=END))
        .exclude(dissolved_on__lt=START)
        if not activities.filter(organization=branch).exists()
    )


def test_cadres_agree(document):
    serving = (
        CommitteeSeat.objects.held_on(END)
        .filter(term__starts_on__lte=END)
        .filter(Q(term__ended_on__isnull=True) | Q(term__ended_on__gt=END))
    )
    assert values(document, "cadres")[0] == serving.values("cadre").distinct().count()


def test_funnel_agrees(document):
    def people(stage):
        return (
            CaseTransition.objects.filter(to_stage=stage, at__date__gte=START, at__date__lte=END)
            .exclude(from_stage=stage)
            .values("case__member")
            .distinct()
            .count()
        )

    applications = (
        PromotionCase.objects.filter(party_applied_on__gte=START, party_applied_on__lte=END)
        .values("member")
        .distinct()
        .count()
    )
    assert values(document, "promotion")[:6] == [
        applications,
        people(Stage.RECOMMENDED),
        people(Stage.ACTIVIST),
        people(Stage.DEVELOPMENT),
        people(Stage.PROBATIONARY),
        people(Stage.FULL_MEMBER),
    ]


def test_terms_overdue_agree(document):
    overdue = CommitteeTerm.objects.filter(starts_on__lte=END, due_on__lt=END).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=END)
    )
    assert values(document, "late")[3] == overdue.count()


def test_units_agree_with_the_sections(document):
    (units,) = document.section("units").tables
    members = values(document, "members")
    branch_life = document.section("branch_life")
    by_month = branch_life.tables[0]
    late = values(document, "late")
    assert units.footer[1:4] == members[:3]
    assert units.footer[4] == values(document, "organizations")[1]
    assert units.footer[5:7] == by_month.footer[2:4]
    assert units.footer[7] == values(document, "promotion")[1]
    assert units.footer[8] == late[-1]
    # Everything recorded under the county is under one of its townships but the county's own: the rows
    # add up, late items aside (none are the county's own here).
    for column in range(1, 9):
        assert sum(row[column] for row in units.rows) == units.footer[column]
