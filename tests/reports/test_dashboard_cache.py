"""The statistics dashboard keeps the quarterly document it computed until an audited change to the
records (reports/cache.py): a second view does not compute it again; every kind of write the report
reads shows on the next view, exactly as computed then; another unit, quarter, day or language has
its own document; ten minutes bound the rest; a frozen quarter is read from the archive. The builder
is the real one, counted."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from branches import activity_services
from branches import services as unit_services
from branches.models import ActivityKind, OrganizationKind, Sector
from members import imports, lifecycle, transfers
from members import services as member_services
from members.models import MemberStatus
from promotion import services as promotion_services
from promotion.models import Track
from reports import cache as live_cache
from reports import selectors
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import QUARTER, Period
from reports.quarterly import build_quarterly
from tests.conftest import make_member, valid_id_number

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))  # a Monday of 2026-Q4
Q4 = Period(QUARTER, 2026, 4)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def builds(monkeypatch) -> list[tuple[int, str]]:
    """The quarterly documents computed (unit, quarter), by the real builder."""
    computed: list[tuple[int, str]] = []
    build = selectors.build_document

    def counted(kind, scope, period, **options):
        computed.append((scope.pk, period.key))
        return build(kind, scope, period, **options)

    monkeypatch.setattr(selectors, "build_document", counted)
    return computed


@pytest.fixture
def members(tree):
    a1, b1 = tree["branch_a1"], tree["branch_b1"]
    return {
        "a1": [make_member(a1, f"甲{n}", joined_on=date(2020, 5, 4)) for n in range(3)],
        "b1": [make_member(b1, f"乙{n}", joined_on=date(2020, 5, 4)) for n in range(2)],
    }


@pytest.fixture
def staff(client, people, members):
    client.force_login(people["county_staff"])
    return client


def dashboard(unit, period: str = "") -> str:
    return reverse("reports:unit", args=[unit.pk]) + (f"?period={period}" if period else "")


def figures(document) -> dict:
    """The document's figures, not when they were computed."""
    return {**document.to_dict(), "generated_at": None}


def members_at_end(response) -> int:
    return response.context["document"].section("members").figures[0].value


def test_a_second_view_is_not_computed_again(staff, tree, builds):
    first = staff.get(dashboard(tree["county"]))
    second = staff.get(dashboard(tree["county"]))
    assert builds == [(tree["county"].pk, Q4.key)]
    assert second.context["document"] == first.context["document"]
    assert members_at_end(second) == 5


def test_the_page_says_when_the_figures_were_computed(staff, tree, builds, _now):
    assert "截至 10:00" in staff.get(dashboard(tree["county"])).content.decode()
    _now.shift(timedelta(minutes=7))
    body = staff.get(dashboard(tree["county"])).content.decode()
    assert 'data-testid="computed-at"' in body and "截至 10:00" in body
    assert len(builds) == 1


def test_a_cached_view_takes_ten_queries(staff, tree, builds, django_assert_num_queries):
    staff.get(dashboard(tree["county"]))
    # session, account, the unit, roles (the county has no units above it to list); the archive's row;
    # the newest audit entry; the unread notifications; the session's expiry saved (in a savepoint)
    with django_assert_num_queries(10):
        assert staff.get(dashboard(tree["county"])).status_code == 200
    assert len(builds) == 1


def roster_csv(*names: str) -> bytes:
    rows = [f"{name},{valid_id_number(date(2003, 4, 5))},汉族,大学本科,农民,2018-05-04" for name in names]
    return "\n".join(["姓名,身份证号码,民族,学历,职业,入团时间", *rows]).encode("utf-8-sig")


def add_member(tree, people, members):
    member_services.member_create(
        actor=people["secretary_a1"],
        branch=tree["branch_a1"],
        id_number=valid_id_number(date(2005, 3, 1)),
        name="新团员",
        education="senior",
        occupation="student",
        joined_on=date(2026, 11, 2),
    )


def member_leaves(tree, people, members):
    lifecycle.member_leave(
        actor=people["secretary_a1"],
        member=members["a1"][0],
        status=MemberStatus.LEFT_WITHDRAWN,
        on_date=date(2026, 11, 10),
        reason="本人申请",
    )


def member_moves(tree, people, members):
    transfer = transfers.transfer_request(
        actor=people["secretary_a1"], member=members["a1"][1], to_unit=tree["branch_b1"]
    )
    transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)


def roster_imported(tree, people, members):
    batch = imports.create_batch(actor=people["secretary_a1"], branch=tree["branch_a1"], file_name="名册.csv")
    imports.check_batch(batch, imports.read_table("名册.csv", roster_csv("导入一", "导入二")))
    assert imports.commit_batch(actor=people["secretary_a1"], batch=batch).created == 2


def activity_recorded(tree, people, members):
    activity_services.activity_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        data={"kind": ActivityKind.THEMED_DAY, "held_on": date(2026, 11, 12), "topic": "学习团章", "place": "村委会"},
        attendance={m.pk: (True, "") for m in members["a1"]},
    )


def case_opened(tree, people, members):
    promotion_services.case_open(
        member=members["a1"][2], track=Track.ACTIVIST, party_applied_on=date(2026, 10, 8), actor=people["secretary_a1"]
    )


def unit_founded(tree, people, members):
    unit_services.organization_create(
        actor=people["county_staff"],
        parent=tree["township_a"],
        kind=OrganizationKind.BRANCH,
        name="甲二村团支部",
        code="C-A-2",
        sector=Sector.VILLAGE,
        founded_on=date(2026, 11, 1),
    )


@pytest.mark.parametrize(
    "change",
    [add_member, member_leaves, member_moves, roster_imported, activity_recorded, case_opened, unit_founded],
)
def test_an_audited_change_shows_on_the_next_view(staff, tree, people, members, builds, change):
    unit = tree["township_a"]
    before = staff.get(dashboard(unit)).context["document"]
    change(tree, people, members)
    after = staff.get(dashboard(unit)).context["document"]
    assert len(builds) == 2
    assert figures(after) == figures(build_quarterly(unit, Q4)) != figures(before)


def test_another_unit_or_quarter_has_its_own_document(staff, tree, builds):
    views = [(tree["county"], ""), (tree["township_a"], ""), (tree["county"], "2026-Q3")]
    documents = [staff.get(dashboard(unit, period)).context["document"] for unit, period in views]
    assert [(d.scope_label, d.period_key) for d in documents] == [
        (tree["county"].name, "2026-Q4"),
        (tree["township_a"].name, "2026-Q4"),
        (tree["county"].name, "2026-Q3"),
    ]
    for unit, period in views:
        staff.get(dashboard(unit, period))
    assert builds == [
        (tree["county"].pk, "2026-Q4"),
        (tree["township_a"].pk, "2026-Q4"),
        (tree["county"].pk, "2026-Q3"),
    ]


def test_a_new_day_computes_the_figures_again(staff, tree, people, builds, _now):
    _now.move_to(datetime(2026, 11, 16, 23, 55, tzinfo=NOW.tzinfo))
    staff.force_login(people["county_staff"])  # a session lasts 12 hours at most
    staff.get(dashboard(tree["county"]))
    _now.move_to(datetime(2026, 11, 17, 0, 5, tzinfo=NOW.tzinfo))
    staff.get(dashboard(tree["county"]))
    assert len(builds) == 2


def test_each_language_has_its_own_document(tree):
    def key(language: str) -> str:
        with translation.override(language):
            return live_cache.live_key(ReportKind.QUARTERLY, tree["county"], Q4)

    assert key("zh-hans") != key("en")


def test_after_ten_minutes_the_figures_are_computed_again(staff, tree, builds, _now):
    staff.get(dashboard(tree["county"]))
    _now.shift(timedelta(minutes=9))
    staff.get(dashboard(tree["county"]))
    _now.shift(timedelta(minutes=2))
    staff.get(dashboard(tree["county"]))
    assert len(builds) == 2


def test_a_frozen_quarter_is_read_from_the_archive_not_from_the_cache(staff, tree, builds):
    q3 = Period(QUARTER, 2026, 3)
    live = staff.get(dashboard(tree["county"], q3.key)).context["document"]
    frozen = build_quarterly(tree["county"], q3)
    frozen.title = "冻结的季度报告"
    Report.objects.create(
        kind=ReportKind.QUARTERLY,
        period_start=q3.start,
        period_end=q3.end,
        organization=tree["county"],
        status=ReportStatus.DONE,
        document=frozen.to_dict(),
        frozen_at=timezone.now(),
    )
    shown = staff.get(dashboard(tree["county"], q3.key))
    assert shown.context["document"].title == "冻结的季度报告" != live.title
    assert 'data-testid="computed-at"' not in shown.content.decode()
    assert len(builds) == 1


def test_a_look_that_is_audited_keeps_the_cached_figures(staff, tree, people, members, builds):
    staff.get(dashboard(tree["county"]))
    member_services.member_reveal_id_number(actor=people["county_staff"], member=members["a1"][0])
    staff.get(dashboard(tree["county"]))
    assert len(builds) == 1


def test_an_unreadable_cache_means_computing_the_figures_not_an_error(staff, tree, builds, monkeypatch):
    staff.get(dashboard(tree["county"]))

    class CacheServerDown:
        def get(self, *args, **kwargs):
            raise ConnectionError("the cache server is down")

        set = get

    monkeypatch.setattr(live_cache, "cache", CacheServerDown())
    response = staff.get(dashboard(tree["county"]))
    assert response.status_code == 200 and members_at_end(response) == 5
    assert len(builds) == 2


def test_views_during_a_computation_show_the_figures_kept(staff, tree, people, members, builds):
    staff.get(dashboard(tree["county"]))
    add_member(tree, people, members)
    key = live_cache.live_key(ReportKind.QUARTERLY, tree["county"], Q4)
    live_cache.cache.add(f"{key}:computing", True)  # another request is computing the new figures
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 5
    assert len(builds) == 1
    live_cache.cache.delete(f"{key}:computing")
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 6
    assert len(builds) == 2
