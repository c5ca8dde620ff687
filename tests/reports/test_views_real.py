"""The report pages end to end, with the real builders and their test data (tests/reports/*_data.py):
what the page shows is the builder's document, and the page's queries do not grow with the data."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from reports.models import ReportKind
from reports.monthly import build_monthly
from reports.periods import MONTH, Period
from reports.quarterly import build_quarterly
from tests.reports import quarterly_data
from tests.reports.monthly_data import NOW, county_cases, more_cases

MAY = Period(MONTH, 2026, 5)


@pytest.fixture
def monthly_cases(tree, people):
    with time_machine.travel(NOW, tick=False):
        county_cases(tree, people["county_staff"])
        yield


def texts_of(document) -> list[str]:
    """Every figure value and table cell of a document, as the page prints them."""
    found: list[str] = []
    for section in document.sections:
        found += [str(f.value) for f in section.figures if f.value is not None]
        for table in section.tables:
            found += [str(cell) for row in table.rows for cell in row if cell is not None]
    return found


@pytest.mark.usefixtures("monthly_cases")
def test_the_party_organization_s_page_shows_its_monthly_report(login, tree, people):
    url = reverse("reports:party", args=[tree["party_a"].pk]) + "?period=2026-05"
    with time_machine.travel(NOW, tick=False):
        response = login(people["party_a"]).get(url)
        expected = build_monthly(tree["party_a"], MAY)
    assert response.status_code == 200
    body = response.content.decode()
    # The people handed over to Party organization A, not those handed to B.
    for name in ["王一", "李二", "张三", "孙六"]:
        assert name in body, name
    for name in ["吴八", "陈十一", "周七"]:
        assert name not in body, name
    # The page prints the builder's document: every section, figure and cell.
    assert [s.title for s in response.context["document"].sections] == [s.title for s in expected.sections]
    for section in expected.sections:
        assert section.title in body
    for text in texts_of(expected):
        assert text in body, text


@pytest.mark.usefixtures("monthly_cases")
def test_a_unit_s_monthly_report_covers_its_subtree(login, tree, people):
    url = reverse("reports:unit-monthly", args=[tree["township_b"].pk]) + "?period=2026-05"
    with time_machine.travel(NOW, tick=False):
        body = login(people["township_b_staff"]).get(url).content.decode()
    assert "吴八" in body
    assert "王一" not in body and "陈十一" not in body


@pytest.mark.parametrize("page", ["party", "unit-monthly"])
def test_the_monthly_pages_queries_do_not_grow_with_the_cases(
    login, tree, people, monthly_cases, page, django_assert_max_num_queries
):
    if page == "party":
        client, url = login(people["party_a"]), reverse("reports:party", args=[tree["party_a"].pk])
    else:
        client, url = login(people["township_a_staff"]), reverse("reports:unit-monthly", args=[tree["township_a"].pk])
    url += "?period=2026-05"
    with time_machine.travel(NOW, tick=False):
        client.get(url)  # the session's first renewal (a write) out of the count
        with django_assert_max_num_queries(11) as small:
            client.get(url)
        small_count = len(small.captured_queries)
        more_cases(tree, people["county_staff"], 12)
        with django_assert_max_num_queries(small_count):
            response = client.get(url)
    assert "测试11" in response.content.decode()


# --- the dashboard: the quarterly report -----------------------------------------------------------


@pytest.fixture
def quarter(tree, people):
    """The second quarter of 2026 of tests/reports/quarterly_data.py, seen on 15 August 2026."""
    with time_machine.travel(quarterly_data.NOW, tick=False):
        yield quarterly_data.build(tree)


def test_the_county_dashboard_shows_the_quarterly_report_and_drills_down_to_the_townships(login, tree, people, quarter):
    url = reverse("reports:unit", args=[tree["county"].pk]) + "?period=2026-Q2"
    with time_machine.travel(quarterly_data.NOW, tick=False):
        response = login(people["county_staff"]).get(url)
        expected = build_quarterly(tree["county"], quarterly_data.Q2)
    assert response.status_code == 200
    assert response.context["document"].kind == ReportKind.QUARTERLY
    body = response.content.decode()
    assert [s.title for s in response.context["document"].sections] == [s.title for s in expected.sections]
    for text in texts_of(expected):
        assert text in body, text
    assert "<svg" in body  # the funnel
    # The table of the units directly under the county links each to its own dashboard, same quarter.
    for key in ("township_a", "township_b"):
        assert f'href="{reverse("reports:unit", args=[tree[key].pk])}?period=2026-Q2"' in body, key


def test_a_township_s_dashboard_leaves_the_other_township_out(login, tree, people, quarter):
    url = reverse("reports:unit", args=[tree["township_a"].pk]) + "?period=2026-Q2"
    with time_machine.travel(quarterly_data.NOW, tick=False):
        body = login(people["township_a_staff"]).get(url).content.decode()
    assert tree["branch_a1"].name in body
    assert tree["branch_b1"].name not in body


def test_the_dashboard_s_queries_do_not_grow_with_the_units(
    login, tree, people, quarter, django_assert_max_num_queries
):
    client = login(people["county_staff"])
    url = reverse("reports:unit", args=[tree["county"].pk]) + "?period=2026-Q2"
    with time_machine.travel(quarterly_data.NOW, tick=False):
        client.get(url)  # the session's first renewal (a write) out of the count
        cache.clear()  # the figures computed, not the dashboard's kept ones (reports/cache.py)
        with django_assert_max_num_queries(25) as small:
            client.get(url)
        small_count = len(small.captured_queries)
        quarterly_data.add_branches(tree, people["county_staff"], 6)
        cache.clear()  # computed again in the request, not shown kept while the worker refreshes them
        with django_assert_max_num_queries(small_count):
            response = client.get(url)
    assert "extra5团支部" in response.content.decode()
