"""The application's PostgreSQL connections run without JIT (leagueadmin/settings.py): compiling costs
more than it saves for this workload's queries."""

import pytest
from django.db import connection


def test_postgresql_connections_run_without_jit(db):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
