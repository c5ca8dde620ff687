"""The statistics dashboard keeps the quarterly document it computed (reports/cache.py): a second view
does not compute it again; after every kind of write the report reads, the next view shows the kept
figures at once, flagged as updating, and queues one task that computes them again; the view after it
shows them, exactly as computed then; another unit, quarter, day or language has its own document; ten
minutes bound the rest, refreshed without flagging the page; the mark "being computed" is removed only
by whoever took it; a frozen quarter is read from the archive. The builder is the real one,
counted; the tasks are held as a broker holds them and run as a worker runs them
(tests/reports/test_live_refresh.py covers the worker's side)."""

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
from reports import selectors, tasks
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import QUARTER, Period
from reports.quarterly import build_quarterly
from tests.conftest import make_member, valid_id_number
from tests.reports import live_fixtures

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))  # a Monday of 2026-Q4
Q4 = Period(QUARTER, 2026, 4)

queue = live_fixtures.queue  # the fixture, shared by name


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


@pytest.mark.parametrize("changed", [False, True])
def test_a_kept_view_takes_seven_queries_at_most_fresh_or_updating(
    staff, tree, people, members, builds, queue, changed, django_assert_max_num_queries
):
    staff.get(dashboard(tree["county"]))
    if changed:
        add_member(tree, people, members)
    # session, account, the unit, roles (the county has no units above it to list); the archive's row;
    # the newest audit entry; the unread notifications (the view above renewed the session: not saved
    # again). Queuing the refresh adds none.
    with django_assert_max_num_queries(7):
        response = staff.get(dashboard(tree["county"]))
    assert response.status_code == 200 and response.context["updating"] is changed
    assert len(builds) == 1 and len(queue.held) == int(changed)


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
def test_an_audited_change_shows_once_the_worker_computed_it(staff, tree, people, members, builds, queue, change):
    unit = tree["township_a"]
    before = staff.get(dashboard(unit)).context["document"]
    change(tree, people, members)
    # The next view waits for nothing: the kept figures, saying they are being updated; one task queued.
    kept = staff.get(dashboard(unit))
    assert kept.context["document"] == before and kept.context["updating"]
    assert builds == [(unit.pk, Q4.key)] and len(queue.held) == 1
    assert queue.run() == ["computed"]
    after = staff.get(dashboard(unit))
    assert not after.context["updating"] and not queue.held
    assert len(builds) == 2
    assert figures(after.context["document"]) == figures(build_quarterly(unit, Q4)) != figures(before)


def test_the_page_says_its_figures_are_being_updated_and_polls_for_the_new_ones(
    staff, tree, people, members, builds, queue
):
    unit = tree["township_a"]
    fresh = staff.get(dashboard(unit, Q4.key)).content.decode()
    assert 'data-testid="updating"' not in fresh and "live-figures.js" not in fresh
    add_member(tree, people, members)
    response = staff.get(dashboard(unit, Q4.key))
    body = response.content.decode()
    assert "正在更新…" in body and "截至 10:00" in body
    live_url = reverse("reports:unit-live", args=[unit.pk]) + f"?period={Q4.key}"
    assert f'data-live-url="{live_url}"' in body
    assert f'data-computed-at="{response.context["document"].generated_at}"' in body
    assert "/static/js/live-figures.js" in body
    refresh = reverse("reports:unit", args=[unit.pk]) + f"?period={Q4.key}"
    assert f'href="{refresh}" data-testid="refresh">刷新</a>' in body  # without script: by hand
    # What the script shows in place of the note once the new figures are kept: a link, no reload.
    assert f'href="{refresh}" data-testid="new-figures" data-live-ready hidden>' in body
    assert "已有新数据，点击刷新" in body


def test_a_burst_of_views_after_a_change_queues_one_task(staff, tree, people, members, builds, queue):
    staff.get(dashboard(tree["county"]))
    add_member(tree, people, members)
    for _ in range(3):
        assert staff.get(dashboard(tree["county"])).context["updating"]
    assert len(queue.held) == 1 and len(builds) == 1


def test_a_broker_away_means_computing_in_the_request(staff, tree, people, members, builds, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_away(args, **options):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.refresh_live_figures, "apply_async", broker_away)
    staff.get(dashboard(tree["county"]))
    add_member(tree, people, members)
    response = staff.get(dashboard(tree["county"]))
    assert response.status_code == 200 and not response.context["updating"]
    assert members_at_end(response) == 6 and len(builds) == 2
    # The mark went with the computation: the next change is computed again on the next view.
    member_leaves(tree, people, members)
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 5 and len(builds) == 3


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


def test_after_ten_minutes_the_figures_are_computed_again_without_a_word(staff, tree, people, builds, queue, _now):
    """No change is missing from them: the page neither says it is updating nor polls."""
    staff.get(dashboard(tree["county"]))
    _now.shift(timedelta(minutes=9))
    assert not staff.get(dashboard(tree["county"])).context["updating"] and not queue.held
    _now.shift(timedelta(minutes=2))
    staff.force_login(people["county_staff"])
    for _ in range(2):  # the second view finds the mark: still one task
        response = staff.get(dashboard(tree["county"]))
        body = response.content.decode()
        assert not response.context["updating"] and "截至 10:00" in body
        assert 'data-testid="updating"' not in body and "live-figures.js" not in body
    assert len(queue.held) == 1 and len(builds) == 1
    assert queue.run() == ["computed"] and len(builds) == 2
    assert "截至 10:11" in staff.get(dashboard(tree["county"])).content.decode()
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


def test_a_view_that_failed_before_taking_the_mark_leaves_another_s_mark(staff, tree, builds, queue, monkeypatch):
    """Kept figures it cannot read (a release's other document) are computed in the request; the mark
    another request or the worker holds stays theirs, so the next view still queues nothing."""
    staff.get(dashboard(tree["county"]))
    mark = live_cache.live_key(ReportKind.QUARTERLY, tree["county"], Q4) + ":computing"
    live_cache.cache.add(mark, "the worker's token")

    def unreadable(data):
        raise KeyError("a field of another release")

    monkeypatch.setattr(live_cache.ReportDocument, "from_dict", unreadable)
    assert staff.get(dashboard(tree["county"])).status_code == 200 and len(builds) == 2
    assert live_cache.cache.get(mark) == "the worker's token" and not queue.held


def test_views_during_a_computation_show_the_figures_kept(staff, tree, people, members, builds, queue):
    staff.get(dashboard(tree["county"]))
    add_member(tree, people, members)
    key = live_cache.live_key(ReportKind.QUARTERLY, tree["county"], Q4)
    live_cache.cache.add(f"{key}:computing", True)  # another request or a worker is computing them
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 5
    assert len(builds) == 1 and not queue.held
    live_cache.cache.delete(f"{key}:computing")  # it died: the mark expired
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 5
    assert queue.run() == ["computed"]
    assert members_at_end(staff.get(dashboard(tree["county"]))) == 6
    assert len(builds) == 2
