"""One tiny load (bench/bulk.py) shared by the tooling's tests, rolled back after the last of them."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from bench import bulk, suite
from branches.models import Organization

# 1,500 members at 6 a unit: 250 units wanted, the demo county's tree of 165 and two bulk townships.
TINY = suite.Size("tiny", counties=1, members=1_500, demo=False, members_per_unit=6, case_share=0.05)


@pytest.fixture(scope="package")
def loaded(django_db_setup, django_db_blocker):
    """One load for the package (a few seconds), rolled back after its last test."""
    if connection.vendor != "postgresql":
        pytest.skip("the generator COPYs into PostgreSQL")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            bulk.load(TINY, out=lambda line: None)
            yield Organization.objects.get(code="C001")
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
