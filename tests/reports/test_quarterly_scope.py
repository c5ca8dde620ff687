"""How the quarterly report finds a unit's members (Context.near_scope): by index for a small part of
the tree, by reading the members through for most of it. Both shapes give the same report for every
unit and period of tests/reports/quarterly_data.py, with its members moved within, out of and across
the units before, in and after the quarter."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from reports.periods import Period
from reports.quarterly import build_quarterly, context
from reports.quarterly.context import Context
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2


@pytest.fixture
def quarter(tree):
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield {**tree, **quarterly_data.build(tree)}


def built(unit, period: Period, *, index_first: bool, monkeypatch) -> dict:
    """The document's figures (not the moment it was computed), by the shape asked for."""
    monkeypatch.setattr(context, "INDEX_FIRST_BELOW", 2.0 if index_first else 0.0)
    with CaptureQueriesContext(connection) as captured:
        document = build_quarterly(unit, period).to_dict()
    assert any("UNION ALL" in q["sql"] for q in captured.captured_queries) == index_first
    document.pop("generated_at")
    return document


@pytest.mark.parametrize("period", [Q2.previous(), Q2, Q2.next()], ids=lambda p: p.key)
@pytest.mark.parametrize(
    "scope", ["county", "township_a", "general_ag", "branch_ag1", "branch_a1", "township_b", "branch_b1"]
)
def test_both_shapes_give_the_same_report(quarter, scope, period, monkeypatch):
    unit = quarter[scope]
    assert built(unit, period, index_first=True, monkeypatch=monkeypatch) == built(
        unit, period, index_first=False, monkeypatch=monkeypatch
    )


def test_a_small_part_of_the_tree_is_read_by_index(quarter):
    def small(scope: str) -> bool:
        return Context(unit=quarter[scope], period=Q2, today=NOW.date()).small_part_of_the_tree

    # One unit of the county's eleven; five; all of them.
    assert (small("branch_b1"), small("township_a"), small("county")) == (True, False, False)
