"""The quarterly report's queries do not grow with the number of branches, members, activities or cases:
counted on the small quarter, then again with five more branches full of everything."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.quarterly import build_quarterly
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2

MAX_QUERIES = 25


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
        quarterly_data.add_branches(tree, data["recorder"], 5)
        tree[scope].refresh_from_db()
        with django_assert_max_num_queries(MAX_QUERIES):
            build_quarterly(tree[scope], Q2)
        large, more_members = queries(tree[scope])
    assert large == small
    if scope != "branch_b1":  # the new branches are under the townships
        assert more_members > members
