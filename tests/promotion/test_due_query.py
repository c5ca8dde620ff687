"""The reports due as a query expression (due.overdue_reports, which the county's overview counts with)
agree with the rule on cases read (due.due_reports, which the pages and reminders list) on every day
around the periods' edges and due days."""

from datetime import date

import pytest

from members.models import MemberStatus
from promotion import due
from promotion.models import CultivationReport, FollowUpReport, PromotionCase, Stage
from tests.promotion.helpers import at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")

# Cultivation reports are due by the 15th of the month after the quarter, follow-up reports by the 10th
# of the month after the month: days on both sides of those, and of the periods' ends.
DAYS = [
    date(2025, 12, 31),
    date(2026, 1, 1),
    date(2026, 1, 10),
    date(2026, 1, 11),
    date(2026, 1, 15),
    date(2026, 1, 16),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 4, 10),
    date(2026, 4, 11),
    date(2026, 4, 15),
    date(2026, 4, 16),
    date(2026, 6, 10),
    date(2026, 7, 16),
    date(2027, 2, 1),
]


@pytest.fixture
def cases(tree, people):
    """Cases before the hand-over on applications at a quarter's edges, after it on recommendations at a
    month's edges, some reports filed (within the periods owed and before them), a member who has left
    the League, a probationary Party member (who owes nothing)."""
    recorder = people["county_staff"]
    made = []

    def case(stage, *, applied=date(2025, 9, 1), recommended=None, cultivation=(), follow_up=(), left=False):
        member = eligible_member(tree["branch_a1"], f"人{len(made)}", recorder=recorder)
        made.append(
            at_stage(make_case(member, recorder=recorder, party_applied_on=applied), stage, recommended_on=recommended)
        )
        for year, quarter in cultivation:
            CultivationReport.objects.create(case=made[-1], year=year, quarter=quarter, content="好", filed_by=recorder)
        for month in follow_up:
            FollowUpReport.objects.create(
                case=made[-1], month=month, thinking="好", work="好", study="好", filed_by=recorder
            )
        if left:
            member.status = MemberStatus.LEFT_OVER_AGE
            member.save(update_fields=["status"])

    for applied in (date(2024, 11, 20), date(2025, 9, 30), date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 1)):
        case(Stage.CULTIVATION, applied=applied)
    # Q4 2024 is the application's own quarter (not owed), Q3 2025 is owed.
    case(Stage.IN_REVIEW, applied=date(2024, 11, 20), cultivation=[(2024, 4), (2025, 3)])
    case(Stage.APPROVED, applied=date(2025, 7, 1), cultivation=[(2025, 3), (2025, 4), (2026, 1)])
    for recommended in (date(2025, 11, 30), date(2025, 12, 1), date(2026, 2, 28), date(2026, 3, 1)):
        case(Stage.RECOMMENDED, recommended=recommended)
    # October 2025 is before the recommendation (not owed), December is owed.
    case(Stage.ACTIVIST, recommended=date(2025, 11, 3), follow_up=[date(2025, 10, 1), date(2025, 12, 1)])
    case(Stage.DEVELOPMENT, recommended=date(2025, 12, 20), follow_up=[date(2025, 12, 1), date(2026, 1, 1)])
    case(Stage.RECOMMENDED, recommended=date(2025, 6, 1), left=True)
    case(Stage.PROBATIONARY, recommended=date(2025, 6, 1))
    return made


@pytest.mark.parametrize("day", DAYS)
def test_the_query_counts_the_overdue_reports_the_pages_list(cases, day):
    all_cases = PromotionCase.objects.all()
    listed = {
        pk: count
        for pk, reports in due.due_reports(all_cases, day).items()
        if (count := sum(report.overdue for report in reports))
    }
    counted = dict(
        all_cases.annotate(overdue=due.overdue_reports(day)).filter(overdue__gt=0).values_list("pk", "overdue")
    )
    assert counted == listed


def test_the_rule_has_overdue_reports_to_count(cases):
    """The days above are not all empty ones: most cases owe overdue reports in 2027."""
    overdue = PromotionCase.objects.annotate(overdue=due.overdue_reports(date(2027, 2, 1))).filter(overdue__gt=0)
    assert overdue.count() == len(cases) - 2  # all but the member who left and the probationary one
