"""The report pages end to end, with the real builders and their test data (tests/reports/*_data.py):
what the page shows is the builder's document, and the page's queries do not grow with the data."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from reports.monthly import build_monthly
from reports.periods import MONTH, Period
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
        client.get(url)
        with django_assert_max_num_queries(20) as small:
            client.get(url)
        small_count = len(small.captured_queries)
        more_cases(tree, people["county_staff"], 12)
        with django_assert_max_num_queries(small_count):
            response = client.get(url)
    assert "测试11" in response.content.decode()
