"""The worker's side of the dashboard's kept figures (reports/cache.py): the refresh a view queued,
run twice; the daily warm-up of every county; the endpoint a page showing kept figures polls, scoped
like the dashboard. Tasks run as a worker runs them (Task.apply); the builder is the real one, counted."""

from __future__ import annotations

from datetime import date, datetime
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from branches.models import Organization, OrganizationKind, Sector
from leagueadmin.celery import app
from reports import cache as live_cache
from reports import selectors, tasks
from reports.models import ReportKind
from reports.periods import QUARTER, Period
from reports.selectors import SCOPE_UNIT
from tests.conftest import make_member
from tests.reports import live_fixtures

NOW = datetime(2026, 11, 16, 0, 5, tzinfo=timezone.get_fixed_timezone(8 * 60))  # just after midnight
Q4 = Period(QUARTER, 2026, 4)

queue = live_fixtures.queue  # the fixture, shared by name


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """The units whose quarterly figures were computed, by the real builder."""
    computed: list[int] = []
    build = selectors.build_document

    def counted(kind, scope, period, **options):
        computed.append(scope.pk)
        return build(kind, scope, period, **options)

    monkeypatch.setattr(selectors, "build_document", counted)
    return computed


@pytest.fixture
def counties(tree) -> list[Organization]:
    """The tree's county, another one, and a dissolved one (nobody's dashboard: not warmed)."""
    other = Organization.objects.add_root(
        dict(name="共青团邻县委员会", code="D", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    Organization.objects.add_root(
        dict(
            name="共青团旧县委员会",
            code="E",
            kind=OrganizationKind.COUNTY,
            sector=Sector.PUBLIC_INSTITUTION,
            dissolved_on=date(2020, 1, 1),
        )
    )
    make_member(tree["branch_a1"], "甲", joined_on=date(2020, 5, 4))
    return [tree["county"], other]


def refresh(unit, language: str = "zh-hans", token: str | None = None) -> str:
    arguments = [ReportKind.QUARTERLY, SCOPE_UNIT, unit.pk, Q4.key, language, token]
    return tasks.refresh_live_figures.apply(args=arguments).get()


def mark(unit) -> str:
    with translation.override("zh-hans"):
        return live_cache.live_key(ReportKind.QUARTERLY, unit, Q4) + ":computing"


def kept(unit, language: str = "zh-hans") -> dict | None:
    with translation.override(language):
        return live_cache.cache.get(live_cache.live_key(ReportKind.QUARTERLY, unit, Q4))


def test_the_refresh_computes_once_run_twice(tree, builds):
    assert refresh(tree["county"]) == "computed"
    assert refresh(tree["county"]) == "fresh"  # redelivered, or queued twice: nothing to do
    assert builds == [tree["county"].pk]
    assert kept(tree["county"])["document"]["scope_label"] == tree["county"].name


def test_the_mark_goes_once_the_new_figures_are_kept(tree, builds, monkeypatch):
    """Else a page polling in between would see nothing coming and the old figures, and stop."""
    kept_when_the_mark_went = []
    release = live_cache._release

    def watched(key, token):
        kept_when_the_mark_went.append(kept(tree["county"]))
        release(key, token)

    monkeypatch.setattr(live_cache, "_release", watched)
    assert refresh(tree["county"]) == "computed"
    assert kept_when_the_mark_went[0] is not None and live_cache.cache.get(mark(tree["county"])) is None


def test_the_refresh_removes_the_mark_of_its_token_only(tree, builds):
    """The view's task removes the mark the view took; a duplicate or redelivered task whose mark
    expired meanwhile leaves the one a later view took (with it, that view's task)."""
    live_cache.cache.add(mark(tree["county"]), "the view's")
    assert refresh(tree["county"], token="the view's") == "computed"
    assert live_cache.cache.get(mark(tree["county"])) is None
    live_cache.cache.delete(live_cache.live_key(ReportKind.QUARTERLY, tree["county"], Q4))  # stale again
    live_cache.cache.add(mark(tree["county"]), "a later view's")
    assert refresh(tree["county"], token="an expired one") == "computed"
    assert live_cache.cache.get(mark(tree["county"])) == "a later view's"
    assert len(builds) == 2


def test_the_refresh_keeps_the_figures_in_the_language_of_the_view(tree, builds):
    assert refresh(tree["county"], "en") == "computed"
    assert kept(tree["county"], "zh-hans") is None
    assert kept(tree["county"], "en")["document"]["title"] == "Quarterly report"


def test_the_refresh_of_a_unit_gone_does_nothing(tree, builds):
    assert tasks.refresh_live_figures.apply(args=[ReportKind.QUARTERLY, SCOPE_UNIT, 999_999, Q4.key, "en"]).get() == (
        "gone"
    )
    assert builds == []


def test_the_warm_up_computes_each_county_once(counties, builds):
    assert tasks.warm_live_figures.apply().get() == {"computed": 2, "skipped": 0, "failed": 0}
    assert sorted(builds) == sorted(c.pk for c in counties)
    assert tasks.warm_live_figures.apply().get() == {"computed": 0, "skipped": 2, "failed": 0}
    assert len(builds) == 2


def test_the_morning_s_first_view_finds_the_warmed_figures(client, people, counties, builds, queue, _now):
    """At 08:30 the warmed figures are hours old but no change came in: shown at once, without saying
    they are being updated, and computed again once, silently, by the worker."""
    tasks.warm_live_figures.apply().get()
    _now.move_to(datetime(2026, 11, 16, 8, 30, tzinfo=NOW.tzinfo))
    client.force_login(people["county_staff"])
    response = client.get(reverse("reports:unit", args=[counties[0].pk]))
    body = response.content.decode()
    assert not response.context["updating"] and "截至 00:05" in body and 'data-testid="updating"' not in body
    assert len(builds) == 2  # the warm-up's: nothing computed in the request
    assert len(queue.held) == 1
    client.get(reverse("reports:unit", args=[counties[0].pk]))
    assert len(queue.held) == 1  # the mark holds: one refresh
    assert queue.run() == ["computed"] and len(builds) == 3
    assert "截至 08:30" in client.get(reverse("reports:unit", args=[counties[0].pk])).content.decode()


def test_the_warm_up_skips_a_county_being_computed_and_goes_on_after_one_fails(counties, builds, monkeypatch):
    with translation.override("zh-hans"):
        busy = live_cache.live_key(ReportKind.QUARTERLY, counties[0], Q4) + ":computing"
    live_cache.cache.add(busy, True)
    assert tasks.warm_live_figures.apply().get() == {"computed": 1, "skipped": 1, "failed": 0}
    live_cache.cache.delete(busy)

    def broken(kind, scope, period, **options):
        raise RuntimeError("a bug in a section")

    monkeypatch.setattr(selectors, "build_document", broken)
    assert tasks.warm_live_figures.apply().get() == {"computed": 0, "skipped": 1, "failed": 1}
    assert live_cache.cache.get(busy) is None  # the failed one's mark is gone: the next view may queue


def test_the_warm_up_is_scheduled_after_midnight(db):
    """The data migration's function again (a transactional test elsewhere may have flushed its row)."""
    create_schedule = import_module("reports.migrations.0004_warm_live_figures").create_schedule
    create_schedule(apps, None)
    create_schedule(apps, None)
    task = PeriodicTask.objects.get(task="reports.warm_live_figures")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("0", "5")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
    assert {"reports.warm_live_figures", "reports.refresh_live_figures"} <= set(app.tasks)


# The status endpoint --------------------------------------------------------------------------------


def live(unit, period: str = Q4.key) -> str:
    return reverse("reports:unit-live", args=[unit.pk]) + f"?period={period}"


def test_the_status_says_when_the_kept_figures_were_computed_and_whether_newer_are_coming(
    client, tree, people, builds, django_assert_max_num_queries
):
    client.force_login(people["township_a_staff"])
    assert client.get(live(tree["township_a"])).json() == {"computed_at": None, "updating": False}
    refresh(tree["township_a"])
    computed_at = kept(tree["township_a"])["document"]["generated_at"]
    with translation.override("zh-hans"):
        live_cache.cache.add(live_cache.live_key(ReportKind.QUARTERLY, tree["township_a"], Q4) + ":computing", True)
    # session, account, the unit, roles (the first status above renewed the session: not saved again).
    # Nothing computed, no audit entry read.
    with django_assert_max_num_queries(4):
        state = client.get(live(tree["township_a"])).json()
    assert state == {"computed_at": computed_at, "updating": True}
    assert len(builds) == 1


def test_the_status_is_never_cached_on_its_way(client, tree, people):
    """A poll answered by the browser's or a proxy's cache would never see the new figures."""
    client.force_login(people["township_a_staff"])
    cache_control = client.get(live(tree["township_a"]))["Cache-Control"]
    assert {"no-cache", "no-store", "must-revalidate", "private"} <= {part.strip() for part in cache_control.split(",")}


@pytest.mark.parametrize("persona", ["secretary_b1", "township_b_staff", "party_a", "nobody"])
def test_the_status_of_a_unit_out_of_scope_is_not_found(client, tree, people, persona):
    refresh(tree["township_a"])
    client.force_login(people[persona])
    assert client.get(live(tree["township_a"])).status_code == 404


def test_the_status_needs_a_sign_in_and_a_quarter(client, tree, people):
    response = client.get(live(tree["township_a"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(people["township_a_staff"])
    assert client.get(live(tree["township_a"], "2026-11")).status_code == 404
    assert client.get(live(tree["township_a"], "nonsense")).status_code == 404
    assert client.post(live(tree["township_a"])).status_code == 405
