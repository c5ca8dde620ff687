"""The benchmark runner (bench/run.py, bench/scenarios.py): a scenario measured on the tiny load, the
table's ratios and percentiles, failures and writes kept in their place, the admin kept to the bench."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.utils import timezone

from bench import run, scenarios
from branches.models import User
from members.models import Member

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the runner reads PostgreSQL's statistics")


def no_load() -> str:
    return "0.00 0.00 0.00"


def test_one_scenario_gives_a_row_of_the_table(db, loaded):
    (scenario,) = scenarios.build(runs=2, only={"member list: first page"})
    result = scenarios.measure(scenario, (0, 0), no_load)
    assert not result.error
    assert len(result.times) == 2 and result.median_ms > 0
    assert result.queries >= 3  # the session, the account, the page's members at least
    assert result.floor is not None and 0 < result.floor * 1000 < result.median_ms  # reads only, no Django
    table = run.render([result])
    header, _rule, row = table.splitlines()
    assert header.split()[:3] == ["scenario", "runs", "median"]
    assert row.startswith("member list: first page")
    assert row.removeprefix("member list: first page").split()[0] == "2"  # runs


def test_the_admin_changelist_is_registered_for_the_bench_process_only(db, loaded):
    assert not admin.site.is_registered(Member)  # the app keeps members out of its admin
    try:
        assert scenarios.register_member_admin()
        chosen = scenarios.build(runs=1, only={"admin: first page", "admin: deep page"})
        results = [scenarios.measure(s, (0, 0), no_load) for s in chosen]
        assert [r.error for r in results] == ["", ""]
    finally:
        admin.site.unregister(Member)
        scenarios.reload_urls()
    assert not admin.site.is_registered(Member)


def test_ratios_and_percentiles():
    page = scenarios.Scenario("member list: first page", lambda: None, compare_to="admin: first page")
    reference = scenarios.Scenario("admin: first page", lambda: None)
    ours = scenarios.Result(page, [0.010] * 19 + [0.050], 11, 100, 10, floor=0.002)
    theirs = scenarios.Result(reference, [0.005, 0.005, 0.006], 12, 100, 10)
    assert ours.median_ms == pytest.approx(10) and ours.p95_ms == pytest.approx(10)  # 19th of 20
    assert theirs.p95_ms == pytest.approx(6)  # fewer than 20 runs: the slowest
    row = run.rows([ours, theirs])[0]
    assert row[run.COLUMNS.index("× floor")] == "5.0"
    assert row[run.COLUMNS.index("× admin")] == "2.00"


def test_a_failing_scenario_is_reported_and_a_writing_one_rolled_back(db, loaded):
    broken = scenarios.Scenario("broken", lambda: 1 / 0, runs=1)
    result = scenarios.measure(broken, (0, 0), no_load)
    assert result.error.startswith("ZeroDivisionError")
    assert "failed: ZeroDivisionError" in run.render([result])

    def write() -> None:
        User.objects.create(username="bench_probe")

    scenarios.measure(scenarios.Scenario("writes", write, runs=2, writes=True), (0, 0), no_load)
    assert not User.objects.filter(username="bench_probe").exists()


def test_the_province_scenario_makes_every_countys_quarterly_report(db, loaded, capsys):
    from branches.models import Organization, OrganizationKind, Sector
    from reports.periods import QUARTER, Period

    quarter = Period.containing(QUARTER, timezone.localdate()).previous()
    assert scenarios.province_reports(quarter, 1) == []  # one county: nothing to add
    Organization.objects.add_root(
        dict(name="共青团第二县委员会", code="C002", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    one_process, _worker_pool = scenarios.province_reports(quarter, 1)
    assert one_process.name == "quarterly reports of all 2 counties: figures + PDF + .xlsx"
    seconds, slowest = one_process.run()
    assert slowest in {"C001", "C002"} and seconds > 0
    assert "2 counties; slowest" in capsys.readouterr().out
    # The worker pool's processes read committed data (not this test's transaction): not run here.
