"""The quarterly report agrees with counts made directly on the database (written plainly, one question
at a time, member by member where a rule needs history), on the small quarter with five more branches
— the county's figures and each row of its drill-down table."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db.models import Q

from branches.activity_selectors import branch_completeness
from branches.models import BRANCH_KINDS, Activity, CommitteeSeat, CommitteeTerm, Organization
from members.models import LEFT_STATUSES, Member, MemberStatus, Transfer, TransferStatus
from promotion.models import CaseTransition, PromotionCase, Stage
from reports.quarterly import build_quarterly
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2, TZ

START, END = Q2.start, Q2.end
END_MOMENT = datetime.combine(END + timedelta(days=1), time.min, tzinfo=TZ)  # 1 July, 00:00 in the county
START_MOMENT = datetime.combine(START, time.min, tzinfo=TZ)


@pytest.fixture
def document(tree):
    with time_machine.travel(NOW, tick=False):
        data = quarterly_data.build(tree)
        quarterly_data.add_branches(tree, data["recorder"], 5)
        yield build_quarterly(tree["county"], Q2)


def values(document, key):
    return [figure.value for figure in document.section(key).figures]


def completed(member):
    return Transfer.objects.filter(member=member, status=TransferStatus.COMPLETED, to_branch__isnull=False)


def branch_at_end(member) -> Organization:
    """The branch a member was in at the quarter's end: the one the first later transfer left."""
    later = completed(member).filter(decided_at__gte=END_MOMENT).order_by("decided_at").first()
    return later.from_branch if later else member.branch


def branch_joined(member) -> Organization:
    """The branch a member joined in: the one the first transfer since the joining day left."""
    since = datetime.combine(member.joined_on, time.min, tzinfo=TZ)
    later = completed(member).filter(decided_at__gte=since).order_by("decided_at").first()
    return later.from_branch if later else member.branch


def member_at_end(member) -> bool:
    return member.joined_on <= END and (member.left_on is None or member.left_on > END)


def in_period(day) -> bool:
    return day is not None and START <= day <= END


LEFT_REASONS = LEFT_STATUSES - {MemberStatus.TRANSFERRED_OUT}


def test_members_agree(document):
    everyone = list(Member.objects.all())
    at_end = [m for m in everyone if member_at_end(m)]
    out_of_county = Member.objects.filter(
        status=MemberStatus.TRANSFERRED_OUT, left_on__gte=START, left_on__lte=END
    ).count()
    # Within the county, a transfer in or out of the county as a whole does not exist.
    assert values(document, "members") == [
        len(at_end),
        Member.objects.filter(joined_on__gte=START, joined_on__lte=END).count(),
        Member.objects.filter(status__in=LEFT_REASONS, left_on__gte=START, left_on__lte=END).count(),
        0,
        out_of_county,
    ]
    section = document.section("members")
    by_sex = section.tables[2]  # after the reasons for leaving and the age bands
    assert [row[1] for row in by_sex.rows] == [
        sum(1 for m in at_end if m.sex == "M"),
        sum(1 for m in at_end if m.sex == "F"),
    ]
    assert sum(row[1] for row in section.tables[0].rows) == values(document, "members")[2]


def test_each_units_row_agrees(document):
    """Each township's row of the drill-down table, against counts of its own subtree. (Late items are
    checked against hand-computed figures in test_quarterly: their rules are the reminders'.)"""
    (units,) = document.section("units").tables
    everyone = list(Member.objects.select_related("branch"))
    for row, pk in zip(units.rows, units.row_units, strict=True):
        child = Organization.objects.get(pk=pk)

        def under(unit, child=child):
            return unit.path.startswith(child.path)

        branches = (
            Organization.objects.filter(path__startswith=child.path, kind__in=BRANCH_KINDS)
            .filter(Q(founded_on__isnull=True) | Q(founded_on__lte=END))
            .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=END))
        )
        cells = [
            cell
            for branch in branch_completeness(
                Organization.objects.filter(path__startswith=child.path).branches(), START, END.replace(day=1)
            ).rows
            for cell in branch.cells
        ]
        recommended = {
            t.case.member
            for t in CaseTransition.objects.filter(
                to_stage=Stage.RECOMMENDED, at__gte=START_MOMENT, at__lt=END_MOMENT
            ).exclude(from_stage=Stage.RECOMMENDED)
            if under(branch_at_end(t.case.member))
        }
        assert row[1:8] == [
            sum(1 for m in everyone if member_at_end(m) and under(branch_at_end(m))),
            sum(1 for m in everyone if in_period(m.joined_on) and under(branch_joined(m))),
            sum(1 for m in everyone if m.status in LEFT_REASONS and in_period(m.left_on) and under(branch_at_end(m))),
            branches.count(),
            sum(len(cell.required) for cell in cells),
            sum(cell.met for cell in cells),
            len(recommended),
        ], child.name


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
    activities = Activity.objects.filter(held_on__gte=START, held_on__lte=END, voided_at__isnull=True)
    present = sum(a.present_count for a in activities)
    expected = sum(a.present_count + a.absent_count for a in activities)
    figures = values(document, "branch_life")
    assert figures[4] == activities.filter(organization__kind__in=BRANCH_KINDS).count()
    assert figures[5] == round(100 * present / expected, 1)
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
        .exclude(term__organization__dissolved_on__lte=END)
    )
    assert values(document, "cadres")[0] == serving.values("cadre").distinct().count()


def test_funnel_agrees(document):
    def people(stage, **case):
        return len(
            {
                t.case.member_id
                for t in CaseTransition.objects.filter(to_stage=stage, at__gte=START_MOMENT, at__lt=END_MOMENT)
                .filter(**case)
                .exclude(from_stage=stage)
                .select_related("case")
            }
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
        people(Stage.ACTIVIST, case__track="activist"),
        people(Stage.DEVELOPMENT),
        people(Stage.PROBATIONARY),
        people(Stage.FULL_MEMBER),
    ]


def test_terms_overdue_agree(document):
    overdue = CommitteeTerm.objects.filter(starts_on__lte=END, due_on__lt=END).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=END)
    )
    assert values(document, "late")[3] == overdue.count()
