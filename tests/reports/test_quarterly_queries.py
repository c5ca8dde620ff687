"""The quarterly report's queries do not grow with the number of branches, members, activities or cases:
counted on the small quarter, then again with more of everything under the unit reported on (five more
branches under the townships, or five times as much in the branch)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.quarterly import build_quarterly
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2

MAX_QUERIES = 19  # 18 here; the themed-day topics of the completeness table add one where there are any


def queries(unit) -> tuple[int, int]:
    """The number of queries, and the members at the quarter's end (so the sizes are seen to differ)."""
    with CaptureQueriesContext(connection) as captured:
        document = build_quarterly(unit, Q2)
    return len(captured.captured_queries), document.section("members").figures[0].value


@pytest.mark.parametrize("scope", ["county", "township_a", "branch_b1"])
def test_queries_do_not_grow_with_the_data(tree, scope, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        data = quarterly_data.build(tree)
        small, members = queries(tree[scope])
        if scope == "branch_b1":  # more of everything in the branch itself
            for n in range(5):
                quarterly_data.fill_branch(tree[scope], data["recorder"], f"extra{n}", elsewhere=tree["branch_a1"])
        else:
            quarterly_data.add_branches(tree, data["recorder"], 5)
        tree[scope].refresh_from_db()
        with django_assert_max_num_queries(MAX_QUERIES):
            build_quarterly(tree[scope], Q2)
        large, more_members = queries(tree[scope])
    assert large == small
    assert more_members > members
