"""The report pages: home, the unit dashboard (quarterly document), the monthly progress reports.

These tests render documents made here (the builders are tested apart): `reports.selectors.build_document`
is replaced by a fake that records what it was asked for. The day is fixed (15 November 2026), so the
current quarter is 2026-Q4 and the current month 2026-11.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from reports.document import Chart, Figure, ReportDocument, Section, Series, Table
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from tests.conftest import add

NOW = datetime(2026, 11, 15, 10, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def make_document(kind: str, scope, period: Period, *, units=(), marker: str = "实时") -> ReportDocument:
    """A small document about `scope` whose one table has a row per unit in `units` (with row_units)."""
    return ReportDocument(
        kind=kind,
        title="季度报告" if kind == ReportKind.QUARTERLY else "月度进展报告",
        scope_label=scope.name,
        period_key=period.key,
        period_label=period.label,
        generated_at="2026-11-15T10:00:00+08:00",
        sections=[
            Section(
                key="members",
                title="团员",
                figures=[Figure("团员总数", 42, marker), Figure("出勤率 (%)", 87.5)],
                tables=[
                    Table(
                        title="各单位",
                        columns=["单位", "团员"],
                        rows=[[unit.name, 10 + i] for i, unit in enumerate(units)],
                        row_units=[unit.pk for unit in units],
                        footer=["合计", sum(10 + i for i in range(len(units)))],
                    )
                ],
                charts=[Chart("bar", "各单位团员", [u.name for u in units], [Series("团员", [10] * len(units))])],
            ),
            Section(key="notes", title="说明", notes=["本表按季度统计。"]),
        ],
    )


@pytest.fixture
def built(monkeypatch):
    """The fake builder: a document of the scope's children; the calls it got, for assertions."""
    from branches.models import Organization

    calls: list[tuple[str, object, Period]] = []

    def build_document(kind, scope, period, *, progress=None):
        calls.append((kind, scope, period))
        children = list(Organization.objects.get_children(scope)) if isinstance(scope, Organization) else []
        return make_document(kind, scope, period, units=children)

    monkeypatch.setattr("reports.selectors.build_document", build_document)
    return calls


def dashboard(unit, **query) -> str:
    url = reverse("reports:unit", args=[unit.pk])
    return url + (f"?period={query['period']}" if "period" in query else "")


def monthly(unit, **query) -> str:
    url = reverse("reports:unit-monthly", args=[unit.pk])
    return url + (f"?period={query['period']}" if "period" in query else "")


def party(party_organization, **query) -> str:
    url = reverse("reports:party", args=[party_organization.pk])
    return url + (f"?period={query['period']}" if "period" in query else "")


# --- home --------------------------------------------------------------------------------------------


def test_home_lists_the_user_s_units_with_their_dashboard_and_monthly_report(login, tree, people):
    response = login(people["secretary_a1"]).get(reverse("reports:home"))
    assert response.status_code == 200
    assert [u.pk for u in response.context["units"]] == [tree["branch_a1"].pk]
    body = response.content.decode()
    assert reverse("reports:unit", args=[tree["branch_a1"].pk]) in body
    assert reverse("reports:unit-monthly", args=[tree["branch_a1"].pk]) in body
    assert reverse("reports:unit", args=[tree["branch_b1"].pk]) not in body
    assert response.context["county_parties"] == []


def test_county_staff_also_find_the_county_s_party_organizations(login, tree, people):
    response = login(people["county_staff"]).get(reverse("reports:home"))
    assert [u.pk for u in response.context["units"]] == [tree["county"].pk]
    assert {p.pk for p in response.context["county_parties"]} == {tree["party_a"].pk, tree["party_b"].pk}
    body = response.content.decode()
    for key in ("party_a", "party_b"):
        assert reverse("reports:party", args=[tree[key].pk]) in body


def test_township_staff_do_not_get_the_county_s_party_organizations(login, tree, people):
    response = login(people["township_a_staff"]).get(reverse("reports:home"))
    assert [u.pk for u in response.context["units"]] == [tree["township_a"].pk]
    assert response.context["county_parties"] == []
    assert reverse("reports:party", args=[tree["party_a"].pk]) not in response.content.decode()


def test_a_party_organizer_lands_on_their_party_organization_s_report(login, tree, people):
    response = login(people["party_a"]).get(reverse("reports:home"))
    assert response.status_code == 302
    assert response.url == reverse("reports:party", args=[tree["party_a"].pk])


@pytest.mark.parametrize("persona", ["nobody", "system_admin", "security_admin", "audit_admin"])
def test_home_without_a_scope_says_so(login, people, persona):
    response = login(people[persona]).get(reverse("reports:home"))
    assert response.status_code == 200
    assert 'data-testid="no-scope"' in response.content.decode()
    assert response.context["units"] == [] and response.context["parties"] == []


def test_home_needs_a_sign_in(client):
    response = client.get(reverse("reports:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- the dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_current_quarter_of_the_unit(login, tree, people, built):
    response = login(people["county_staff"]).get(dashboard(tree["county"]))
    assert response.status_code == 200
    assert built == [(ReportKind.QUARTERLY, tree["county"], Period(QUARTER, 2026, 4))]
    body = response.content.decode()
    assert "团员总数" in body and "<svg" in body
    assert response.context["period"] == Period(QUARTER, 2026, 4)
    # The picker: the last 8 quarters, newest first, the current one chosen.
    assert [p.key for p in response.context["periods"]] == [
        "2026-Q4",
        "2026-Q3",
        "2026-Q2",
        "2026-Q1",
        "2025-Q4",
        "2025-Q3",
        "2025-Q2",
        "2025-Q1",
    ]
    assert '<option value="2026-Q4" selected>' in body
    assert response.context["period_error"] == ""
    assert 'data-frozen="0"' in body  # computed now: 实时数据


def test_rows_about_units_link_down_to_their_dashboards_for_the_same_quarter(login, tree, people, built):
    body = login(people["county_staff"]).get(dashboard(tree["county"], period="2026-Q2")).content.decode()
    for key in ("township_a", "township_b"):
        link = f'href="{reverse("reports:unit", args=[tree[key].pk])}?period=2026-Q2"'
        assert link in body, key


def test_the_breadcrumbs_climb_only_to_units_the_user_may_read(login, tree, people, built):
    response = login(people["township_a_staff"]).get(dashboard(tree["branch_ag1"]))
    assert response.context["crumbs"] == [tree["township_a"], tree["general_ag"]]
    body = response.content.decode()
    assert f'href="{reverse("reports:unit", args=[tree["township_a"].pk])}?period=2026-Q4"' in body
    assert reverse("reports:unit", args=[tree["county"].pk]) not in body

    response = login(people["county_staff"]).get(dashboard(tree["branch_ag1"]))
    assert response.context["crumbs"] == [tree["county"], tree["township_a"], tree["general_ag"]]

    response = login(people["secretary_a1"]).get(dashboard(tree["branch_a1"]))
    assert response.context["crumbs"] == []


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("abc", "“abc”不是季度"),
        ("2026-13", "“2026-13”不是季度"),
        ("2026-07", "“2026-07”不是季度"),  # a month on the quarterly page
        ("2026-Q5", "“2026-Q5”不是季度"),
        ("2027-Q1", "尚未开始"),  # the future
        ("1999-Q3", "超出报告涵盖的年份"),
        ("<script>", "“&lt;script&gt;”不是季度"),
    ],
)
def test_a_bad_or_future_quarter_shows_the_current_one_with_a_message(login, tree, people, built, asked, message):
    response = login(people["county_staff"]).get(dashboard(tree["county"], period=asked))
    assert response.status_code == 200
    assert response.context["period"] == Period(QUARTER, 2026, 4)
    assert built[-1][2] == Period(QUARTER, 2026, 4)
    body = response.content.decode()
    assert 'data-testid="period-error"' in body
    assert message in body
    assert "<script>" not in body.split('data-testid="period-error"')[1].split("</div>")[0]


def test_an_older_quarter_is_shown_and_kept_in_the_picker(login, tree, people, built):
    response = login(people["county_staff"]).get(dashboard(tree["county"], period="2023-Q2"))
    assert response.context["period"] == Period(QUARTER, 2023, 2)
    assert built[-1][2] == Period(QUARTER, 2023, 2)
    assert response.context["period_error"] == ""
    assert '<option value="2023-Q2" selected>' in response.content.decode()


def test_the_quarter_under_way_is_accepted(login, tree, people, built):
    with time_machine.travel(datetime(2026, 10, 1, 0, 30, tzinfo=timezone.get_fixed_timezone(8 * 60)), tick=False):
        response = login(people["county_staff"]).get(dashboard(tree["county"], period="2026-Q4"))
    assert response.context["period"] == Period(QUARTER, 2026, 4) and response.context["period_error"] == ""


def test_a_frozen_quarter_shows_the_archived_figures_and_says_when_they_were_frozen(login, tree, people, built):
    period = Period(QUARTER, 2026, 2)
    frozen = make_document(ReportKind.QUARTERLY, tree["county"], period, marker="冻结的数字")
    frozen_at = datetime(2026, 7, 1, 3, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
    Report.objects.create(
        kind=ReportKind.QUARTERLY,
        period_start=period.start,
        period_end=period.end,
        organization=tree["county"],
        status=ReportStatus.DONE,
        document=frozen.to_dict(),
        frozen_at=frozen_at,
    )
    response = login(people["county_staff"]).get(dashboard(tree["county"], period="2026-Q2"))
    assert built == []  # nothing computed: the archive's figures
    body = response.content.decode()
    assert "冻结的数字" in body
    assert 'data-frozen="1"' in body
    assert "2026-07-01 03:00" in body
    assert "数据已于" in body


def test_an_archived_report_of_an_open_quarter_is_still_computed_live(login, tree, people, built):
    period = Period(QUARTER, 2026, 4)
    Report.objects.create(
        kind=ReportKind.QUARTERLY,
        period_start=period.start,
        period_end=period.end,
        organization=tree["county"],
        status=ReportStatus.DONE,
        document=make_document(ReportKind.QUARTERLY, tree["county"], period, marker="旧的").to_dict(),
    )
    body = login(people["county_staff"]).get(dashboard(tree["county"])).content.decode()
    assert len(built) == 1
    assert "旧的" not in body and 'data-frozen="0"' in body and "实时数据" in body


def test_the_dashboard_links_to_the_unit_s_monthly_report(login, tree, people, built):
    body = login(people["township_a_staff"]).get(dashboard(tree["township_a"])).content.decode()
    assert f'href="{reverse("reports:unit-monthly", args=[tree["township_a"].pk])}"' in body


def test_the_dashboard_offers_to_generate_the_files_for_its_quarter(login, tree, people, built):
    body = login(people["township_a_staff"]).get(dashboard(tree["township_a"], period="2026-Q3")).content.decode()
    form = body.split('data-testid="report-actions"')[1].split("</div>")[0]
    assert f'action="{reverse("reports:request")}"' in form
    for field, value in [
        ("kind", "quarterly"),
        ("scope", "unit"),
        ("scope_id", str(tree["township_a"].pk)),
        ("period", "2026-Q3"),
    ]:
        assert f'name="{field}" value="{value}"' in form
    assert 'data-testid="download-pdf"' not in body  # nothing in the archive yet


def test_the_party_page_offers_to_generate_its_monthly_report(login, tree, people, built):
    body = login(people["party_a"]).get(party(tree["party_a"], period="2026-10")).content.decode()
    form = body.split('data-testid="request-form"')[1].split("</form>")[0]
    for field, value in [
        ("kind", "monthly"),
        ("scope", "party"),
        ("scope_id", str(tree["party_a"].pk)),
        ("period", "2026-10"),
    ]:
        assert f'name="{field}" value="{value}"' in form


def archived(unit, period: Period, status: str, **fields) -> Report:
    return Report.objects.create(
        kind=ReportKind.QUARTERLY if period.kind == QUARTER else ReportKind.MONTHLY,
        period_start=period.start,
        period_end=period.end,
        organization=unit,
        status=status,
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "generated", "shown"),
    [
        (ReportStatus.DONE, True, None),
        (ReportStatus.RUNNING, True, "generating"),  # made again: the last good files meanwhile
        (ReportStatus.FAILED, True, "generation-failed"),  # made again and failed: still the last good files
        (ReportStatus.RUNNING, False, "generating"),  # never made: nothing to download
        (ReportStatus.FAILED, False, "generation-failed"),
    ],
)
def test_an_archived_report_s_last_files_are_offered_beside_its_status(
    login, tree, people, built, status, generated, shown
):
    report = archived(
        tree["township_a"],
        Period(QUARTER, 2026, 3),
        status,
        pdf="quarterly/2026-07/report.pdf",
        xlsx="quarterly/2026-07/report.xlsx",
        generated_at=NOW if generated else None,
        started_at=timezone.now(),
        message="出错",
    )
    client = login(people["township_a_staff"])
    body = client.get(dashboard(tree["township_a"], period="2026-Q3")).content.decode()
    downloads = [f'href="{reverse("reports:download", args=[report.pk, fmt])}"' for fmt in ("pdf", "xlsx")]
    assert [link in body for link in downloads] == [generated, generated]
    for testid in ("generating", "generation-failed"):
        link = f'href="{reverse("reports:report", args=[report.pk])}" data-testid="{testid}"'
        assert (link in body) == (testid == shown)
    # Another quarter's page offers none of them.
    other = client.get(dashboard(tree["township_a"], period="2026-Q2")).content.decode()
    assert not any(link in other for link in downloads)


# --- monthly reports ----------------------------------------------------------------------------------


def test_the_unit_s_monthly_report_shows_the_current_month(login, tree, people, built):
    response = login(people["township_a_staff"]).get(monthly(tree["township_a"]))
    assert response.status_code == 200
    assert built == [(ReportKind.MONTHLY, tree["township_a"], Period(MONTH, 2026, 11))]
    assert [p.key for p in response.context["periods"]][:3] == ["2026-11", "2026-10", "2026-09"]
    assert len(response.context["periods"]) == 12
    assert response.context["periods"][-1].key == "2025-12"
    body = response.content.decode()
    # Rows drill to the monthly report of the unit below; the dashboard is one click away.
    link = f'href="{reverse("reports:unit-monthly", args=[tree["branch_a1"].pk])}?period=2026-11"'
    assert link in body
    assert f'href="{reverse("reports:unit", args=[tree["township_a"].pk])}"' in body


@pytest.mark.parametrize(
    ("asked", "message"),
    [("2026-Q3", "不是月份"), ("2026-12", "尚未开始"), ("x", "不是月份"), ("2101-01", "超出报告涵盖的年份")],
)
def test_a_bad_or_future_month_shows_the_current_one_with_a_message(login, tree, people, built, asked, message):
    response = login(people["party_a"]).get(party(tree["party_a"], period=asked))
    assert response.status_code == 200
    assert built[-1][2] == Period(MONTH, 2026, 11)
    assert message in response.content.decode()


def test_the_party_organization_s_report_shows_the_chosen_month_without_drilling(login, tree, people, monkeypatch):
    period = Period(MONTH, 2026, 9)
    units = [tree["township_a"]]  # the organization's paired unit: a League page its organizer may not open

    def build_document(kind, scope, period, *, progress=None):
        return make_document(kind, scope, period, units=units)

    monkeypatch.setattr("reports.selectors.build_document", build_document)
    response = login(people["party_a"]).get(party(tree["party_a"], period="2026-09"))
    assert response.status_code == 200
    assert response.context["period"] == period
    body = response.content.decode()
    assert tree["party_a"].name in body and tree["township_a"].name in body
    assert reverse("reports:unit-monthly", args=[tree["township_a"].pk]) not in body
    assert reverse("reports:unit", args=[tree["township_a"].pk]) not in body


# --- query bounds -------------------------------------------------------------------------------------


def grow(tree, count: int) -> None:
    """More branches under township A: more rows in the fake document (its rows are the children)."""
    for i in range(count):
        add(tree["township_a"], name=f"甲镇新村{i}团支部", code=f"C-A-N{i}", kind="branch", sector="village")


@pytest.mark.parametrize("page", ["dashboard", "monthly"])
def test_the_pages_queries_do_not_grow_with_the_rows(login, tree, people, built, page, django_assert_max_num_queries):
    url = dashboard(tree["township_a"]) if page == "dashboard" else monthly(tree["township_a"])
    client = login(people["township_a_staff"])
    client.get(url)  # the session's first renewal (a write) out of the count
    cache.clear()  # the figures computed, not the dashboard's kept ones (reports/cache.py)
    with django_assert_max_num_queries(9) as small:  # the dashboard's; the monthly page takes 8
        assert client.get(url).status_code == 200
    small_count = len(small.captured_queries)
    grow(tree, 25)
    cache.clear()  # computed again in the request, not shown kept while the worker refreshes them
    with django_assert_max_num_queries(small_count):
        response = client.get(url)
    assert len(response.context["document"].sections[0].tables[0].rows) == 27


def test_the_party_page_s_queries_are_bounded(login, tree, people, built, django_assert_max_num_queries):
    client = login(people["party_a"])
    client.get(party(tree["party_a"]))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(7):
        assert client.get(party(tree["party_a"])).status_code == 200
