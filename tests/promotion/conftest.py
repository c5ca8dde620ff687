"""Fixtures shared by the 推优 tests; the builders are in helpers.py and staff_helpers.py.

`clock` freezes time at helpers.NOW (Wednesday 10 June 2026, 09:00 in the county). A module whose tests
depend on the day asks for it in every test with `pytestmark = pytest.mark.usefixtures("clock")`
(before any other fixture, so the records they write are dated then); it is not autouse, because the
browser journey and the demo run on the real clock. A module may define a fixture of the same name
for its own needs (pytest takes the nearest)."""

from __future__ import annotations

import pytest
import time_machine

from promotion import services
from tests.promotion.helpers import NOW, eligible_member, open_case


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def secretary(people):
    return people["secretary_a1"]


@pytest.fixture
def roster(tree, people):
    """Ten members of branch A1 who meet every rule: a round may list two of them (20%)."""
    return [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(10)]


@pytest.fixture
def cases(roster, secretary):
    """Cases opened for the first three of the roster, on the activist track."""
    return [open_case(member, secretary) for member in roster[:3]]


@pytest.fixture
def round_(tree, secretary):
    """Branch A1's round on the activist track, drawing up its preliminary list."""
    return services.round_create(branch=tree["branch_a1"], track="activist", title="2026年第一批", actor=secretary)
