"""The benchmark's scenarios (issue 8) and how one is measured: server time through Django's test client
(or the service a worker runs), queries per run, and rows the database touched.

Rows touched come from pg_stat_database's tup_returned and tup_fetched for the bench database, read
before and after a scenario's runs with the backend's pending statistics flushed first
(pg_stat_force_next_flush, PostgreSQL 15+); pg_stat_statements would give them per statement, but it
must be preloaded by the server, which a shared server need not do. Each run's own reading of the
counters is measured once (an empty scenario) and taken off.

Each read scenario also gets its SQL floor: the SQL one run sent (captured), replayed directly with
cursor.execute and fetchall, without Django, templates or Python around it. A write scenario (import,
reminders) has none. The member list is also compared with Django's admin changelist of members on
the same data (registered here, inside the bench process only, when the app does not register it).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import resource
import statistics
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from django.contrib import admin
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

# --- measuring ---------------------------------------------------------------------------------------


class Rollback(Exception):
    """Raised inside a write scenario's transaction so that each run starts from the same data."""


@dataclass
class Scenario:
    name: str
    run: Callable[[], object]
    runs: int = 20
    group: str = ""  # the table's section
    compare_to: str = ""  # the admin scenario this one is compared with
    writes: bool = False  # run inside a transaction rolled back afterwards; no SQL floor
    # A write scenario's precondition, run first in the same transaction and not timed (the change the
    # dashboard's first view after a change follows).
    before: Callable[[], object] | None = None
    warm_up: bool = True
    floor_runs: int = 5  # replays of the run's reads for the SQL floor (after one to warm up)


@dataclass
class Result:
    scenario: Scenario
    times: list[float]  # seconds, one per run
    queries: float  # per run
    returned: float  # pg_stat_database tup_returned per run
    fetched: float  # tup_fetched per run
    floor: float | None = None  # seconds: the captured SQL replayed
    load: str = ""
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    @property
    def p95_ms(self) -> float:
        """Nearest rank: with fewer than 20 runs, the slowest."""
        if not self.times:
            return float("nan")
        ordered = sorted(self.times)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)] * 1000


def read_counters() -> tuple[int, int]:
    """This database's tup_returned and tup_fetched, with this backend's pending counts flushed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:  # a new transaction: a fresh statistics snapshot
        cursor.execute("SELECT tup_returned, tup_fetched FROM pg_stat_database WHERE datname = current_database()")
        returned, fetched = cursor.fetchone()
    return returned, fetched


def counter_overhead(samples: int = 5) -> tuple[float, float]:
    """What reading the counters itself adds, per reading."""
    first = read_counters()
    for _ in range(samples):
        last = read_counters()
    return (last[0] - first[0]) / samples, (last[1] - first[1]) / samples


def is_read(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH", "(SELECT"))


def replay(queries: list[dict], runs: int = 5) -> float | None:
    """Median seconds to run the captured reads directly (a page's session update and savepoints are
    left out: the floor is what the figures cost to read)."""
    statements = [q["sql"] for q in queries if q["sql"] and is_read(q["sql"])]
    if not statements:
        return None
    times = []
    raw = connection.cursor().cursor  # psycopg2's own cursor: no Django wrapper
    for _ in range(runs + 1):
        started = time.perf_counter()
        for sql in statements:
            raw.execute(sql)
            raw.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def run_once(scenario: Scenario) -> tuple[float, int]:
    """Run a scenario once: the seconds it took and the queries of its precondition, which are neither
    timed nor counted (a write scenario's rollback is timed, as it always was)."""
    started = time.perf_counter()
    if not scenario.writes:
        scenario.run()
        return time.perf_counter() - started, 0
    untimed = 0
    try:
        with transaction.atomic():
            if scenario.before is not None:
                scenario.before()
                untimed = len(connection.queries_log)
                started = time.perf_counter()
            scenario.run()
            raise Rollback
    except Rollback:
        return time.perf_counter() - started, untimed


def measure(scenario: Scenario, overhead: tuple[float, float], load_average: Callable[[], str]) -> Result:
    try:
        if scenario.warm_up:
            run_once(scenario)
        times, captured = [], []
        # Every query of a run is kept (Django keeps 9,000 by default: an export of 10,000 rows with a
        # query per row would be counted as none).
        connection.queries_limit = 1_000_000
        connection.queries_log = deque(maxlen=connection.queries_limit)
        before = read_counters()
        for _ in range(scenario.runs):
            reset_queries()
            with CaptureQueriesContext(connection) as context:
                elapsed, untimed = run_once(scenario)
                times.append(elapsed)
            captured = context.captured_queries[untimed:]
            query_count = len(captured)
        after = read_counters()
    except Exception as error:  # noqa: BLE001 — a failing scenario is reported in the table, the others run
        return Result(scenario, [], 0, 0, 0, load=load_average(), error=f"{type(error).__name__}: {error}"[:200])
    runs = scenario.runs
    returned = (after[0] - before[0] - overhead[0]) / runs
    fetched = (after[1] - before[1] - overhead[1]) / runs
    floor = None if scenario.writes else replay(captured, scenario.floor_runs)
    return Result(scenario, times, query_count, max(returned, 0), max(fetched, 0), floor, load_average())


def profile(scenario: Scenario, top: int = 25) -> str:
    """Where one run's time goes: cProfile's heaviest functions (cumulative and own time), the
    slowest queries, and EXPLAIN (ANALYZE, BUFFERS) of the slowest read."""
    import cProfile
    import pstats

    if scenario.warm_up:
        run_once(scenario)  # a write scenario's rolled back
    reset_queries()
    profiler = cProfile.Profile()

    def profiled() -> tuple[float, CaptureQueriesContext]:
        with CaptureQueriesContext(connection) as context:
            started = time.perf_counter()
            profiler.enable()
            try:
                scenario.run()
            finally:
                profiler.disable()
        return time.perf_counter() - started, context

    if scenario.writes:
        with transaction.atomic():
            if scenario.before is not None:
                scenario.before()
            elapsed, context = profiled()
            transaction.set_rollback(True)
    else:
        elapsed, context = profiled()
    out = io.StringIO()
    sql_seconds = sum(float(q["time"]) for q in context.captured_queries)
    out.write(f"\n=== {scenario.name}: {elapsed * 1000:.0f} ms under the profiler, {len(context)} queries, ")
    out.write(f"{sql_seconds * 1000:.0f} ms of it in SQL (as Django times it)\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    slowest = sorted(context.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    for q in slowest:
        out.write(f"--- {float(q['time']) * 1000:.1f} ms: {q['sql'][:600]}\n")
    reads = [q for q in slowest if is_read(q["sql"])]
    if reads:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + reads[0]["sql"].replace("%", "%%"))
            out.write("EXPLAIN ANALYZE of the slowest:\n" + "\n".join(row[0] for row in cursor.fetchall()) + "\n")
    return out.getvalue()


# --- the data the scenarios use ----------------------------------------------------------------------


@dataclass
class Fixtures:
    """What the scenarios point at in a bench database: county 1 and its people."""

    county: object
    staff: object
    superuser: object
    member_count: int
    member_pk: int
    board_branch_pk: int
    board_user: object
    township_staff: object | None
    import_branch: object


def fixtures() -> Fixtures:
    from branches.models import Organization, Role, RoleAssignment, User
    from members.models import Member
    from promotion.models import PromotionCase

    county = Organization.objects.get(code="C001")
    staff = User.objects.get(username="county")
    superuser, made = User.objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True, "full_name": "bench"}
    )
    if made:
        superuser.set_unusable_password()
        superuser.save()
    members = Member.objects.visible_to(staff)
    # The member page with the most history: a member of the county whose case went furthest.
    case = (
        PromotionCase.objects.filter(branch__path__startswith=county.path, stage__in=["activist", "development"])
        .order_by("pk")
        .first()
    )
    member_pk = case.member_id if case else members.order_by("pk").values_list("pk", flat=True)[0]
    # The board of the branch with the most cases, seen by its secretary.
    from django.db.models import Count

    busiest = (
        PromotionCase.objects.filter(branch__path__startswith=county.path)
        .values("branch_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "branch_id")
        .first()
    )
    board_branch = busiest["branch_id"] if busiest else members.values_list("branch_id", flat=True)[0]
    secretary = (
        RoleAssignment.objects.filter(organization_id=board_branch, role=Role.BRANCH_SECRETARY, deputy_for__isnull=True)
        .select_related("user")
        .first()
    )
    township = (
        RoleAssignment.objects.filter(role=Role.TOWNSHIP_STAFF, organization__path__startswith=county.path)
        .select_related("user")
        .order_by("organization__path")
        .first()
    )
    return Fixtures(
        county=county,
        staff=staff,
        superuser=superuser,
        member_count=members.count(),
        member_pk=member_pk,
        board_branch_pk=board_branch,
        board_user=secretary.user if secretary else staff,
        township_staff=township.user if township else None,
        import_branch=Organization.objects.subtree_of([county.path]).branches().active().order_by("code").first(),
    )


# --- the admin changelist ----------------------------------------------------------------------------


def register_member_admin() -> bool:
    """Members in Django's admin for this process only, as a team would set it up: list filters like
    ours (sex, education, political status, status, the county), search by name and ID tail, 50 a
    page like our list. Returns False when the app registers Member itself (then that one is used)."""
    from members.models import Member

    if admin.site.is_registered(Member):
        return False

    class CountyFilter(admin.SimpleListFilter):
        title = "county"
        parameter_name = "county"

        def lookups(self, request, model_admin):
            from branches.models import Organization

            return [(o.code, o.name) for o in Organization.objects.filter(depth=1).order_by("code")]

        def queryset(self, request, queryset):
            from branches.models import Organization

            if self.value():
                path = Organization.objects.filter(code=self.value()).values_list("path", flat=True).first()
                return queryset.filter(branch__path__startswith=path or "-")
            return queryset

    class MemberAdmin(admin.ModelAdmin):
        list_display = ("name", "sex", "birth_date", "education", "political_status", "branch", "status")
        list_filter = ("sex", "education", "political_status", "status", CountyFilter)
        search_fields = ("name", "=id_number_tail")
        list_select_related = ("branch",)
        list_per_page = 50
        show_full_result_count = True

    admin.site.register(Member, MemberAdmin)
    reload_urls()
    return True


def reload_urls() -> None:
    """Read the URLconf again: admin.site.urls is built when it is imported, with the models
    registered by then."""
    import importlib
    import sys

    from django.conf import settings
    from django.urls import clear_url_caches

    if settings.ROOT_URLCONF in sys.modules:
        importlib.reload(sys.modules[settings.ROOT_URLCONF])
    clear_url_caches()


# --- the scenarios -----------------------------------------------------------------------------------


def roster(rows: int) -> bytes:
    """A roster file of `rows` new members (this suite's import and bench/members.py's): valid ID
    numbers of one region that no generated member uses."""
    from openpyxl import Workbook

    from members import idnumbers

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("团员")
    sheet.append(["姓名", "身份证号码", "民族", "学历", "职业", "入团时间"])
    for i in range(rows):
        born = date(1999 + i % 9, 1 + i % 12, 1 + i % 28)
        number = idnumbers.with_check_character(f"110105{born:%Y%m%d}{i % 1000:03d}")
        sheet.append([f"导入{i:05d}", number, "汉族", "高中", "工人", f"{born.year + 15}-05-04"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def county_report(county_pk: int, quarter) -> tuple[float, str, float]:
    """One county's quarterly report made as the worker's task makes it (figures, PDF, .xlsx): its
    seconds, the county's code and this process's peak memory in MiB."""
    from branches.models import Organization
    from reports.models import ReportKind
    from reports.pdf import render_pdf
    from reports.selectors import build_document
    from reports.xlsx import render_xlsx

    started = time.perf_counter()
    county = Organization.objects.get(pk=county_pk)
    with translation.override("zh-hans"):
        document = build_document(ReportKind.QUARTERLY, county, quarter)
        render_pdf(document)
        render_xlsx(document)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return time.perf_counter() - started, county.code, peak_mib


WORKER_PROCESSES = 2  # make serve's Celery worker: one process per core on the 2-core machine


def province_reports(quarter, report_runs: int) -> list[Scenario]:
    """With more than one county (the province slice): the quarterly report of every county. The tree's
    top level is the county, so a province's quarterly report is its counties' reports, which the daily
    schedule queues as one task each (reports.tasks.generate_report). Measured twice: one county after
    another in this process, and shared by WORKER_PROCESSES forked processes as the worker's prefork
    pool shares the tasks (their queries are not counted here). The line printed after each run gives
    the slowest county and the peak memory of a process, which holds one county's document at a time."""
    from branches.models import Organization

    counties = list(Organization.objects.filter(depth=1).order_by("path").values_list("pk", flat=True))
    if len(counties) < 2:
        return []

    def summary(results: list[tuple[float, str, float]]) -> tuple[float, str]:
        seconds, code, _peak = max(results)
        peak = max(result[2] for result in results)
        print(f"    {len(results)} counties; slowest {code} {seconds:.1f} s; peak memory {peak:,.0f} MiB a process")
        return seconds, code

    def one_process() -> object:
        return summary([county_report(pk, quarter) for pk in counties])

    def worker_pool() -> object:
        connection.close()  # each forked process opens its own
        pool = ProcessPoolExecutor(max_workers=WORKER_PROCESSES, mp_context=multiprocessing.get_context("fork"))
        with pool:
            return summary(list(pool.map(county_report, counties, [quarter] * len(counties))))

    name = f"quarterly reports of all {len(counties)} counties: figures + PDF + .xlsx"
    return [
        Scenario(name, one_process, 1, "reports", warm_up=False, floor_runs=1),
        Scenario(f"{name}, {WORKER_PROCESSES} worker processes", worker_pool, 1, "reports", warm_up=False),
    ]


def build(runs: int = 20, report_runs: int = 3, import_runs: int = 2, only: set[str] | None = None) -> list[Scenario]:
    from branches.notifications import RULES, run_rule
    from members import exports, imports
    from members.models import Member
    from reports.models import ReportKind
    from reports.pdf import render_pdf
    from reports.periods import MONTH, QUARTER, Period
    from reports.selectors import build_document
    from reports.xlsx import render_xlsx

    f = fixtures()
    clients: dict[int, Client] = {}

    def client_for(user) -> Client:
        client = clients.get(user.pk)
        if client is None:
            client = clients[user.pk] = Client()
            client.force_login(user)
        return client

    def get(user, url: str, params: dict | None = None) -> Callable[[], object]:
        def call() -> object:
            response = client_for(user).get(url, params or {})
            if response.status_code != 200:
                raise AssertionError(f"GET {url} {params or ''}: {response.status_code}")
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            return response

        return call

    last_page = max(1, -(-f.member_count // 50))
    middle_page = last_page // 2 + 1  # the deepest: the list reads the second half from its end
    today = timezone.localdate()
    quarter = Period.containing(QUARTER, today).previous()
    month = Period.containing(MONTH, today).previous()
    county = f.county

    def report(kind: str, period: Period, render: Callable | None) -> Callable[[], object]:
        def call() -> object:
            with translation.override("zh-hans"):
                document = build_document(kind, county, period)
                return render(document) if render else document

        return call

    content = roster(10_000) if not only or "import" in " ".join(only) else b""

    def a_change() -> None:
        """An audited edit of a member (rolled back after the run), the view's kept figures made stale:
        figures kept first (a view computes them, if none are), and the mark a previous run's view left
        removed, as the worker that ran its task would."""
        from members.services import member_update
        from reports import cache as live_cache

        with translation.override("zh-hans"):
            key = live_cache.live_key(ReportKind.QUARTERLY, county, Period.containing(QUARTER, today))
        if live_cache.cache.get(key) is None:
            get(staff, f"/reports/unit/{county.pk}/")()
        live_cache.cache.delete(f"{key}:computing")
        member_update(actor=f.staff, member=Member.objects.get(pk=f.member_pk), phone="13800000000")

    def after_a_change(broker: str) -> Callable[[], object]:
        """The dashboard's view, its refresh queued for the worker (bench/run.py runs tasks eagerly:
        here the task is published to an in-process broker instead, never run); with the broker
        "away", the view computes the figures itself, as every first view after a change once did."""
        from kombu.exceptions import OperationalError

        from leagueadmin.celery import app
        from reports.tasks import refresh_live_figures

        def broker_away(*args, **options):
            raise OperationalError("the broker is away")

        # The view's warning that it computes the figures itself (with the broker's traceback) is
        # expected here at every run: not printed amid the table.
        cache_log = logging.getLogger("reports.cache")

        def call() -> object:
            app.conf.task_always_eager = False
            if broker == "away":
                refresh_live_figures.apply_async = broker_away
                cache_log.disabled = True
            try:
                response = get(staff, f"/reports/unit/{county.pk}/")()
            finally:
                app.conf.task_always_eager = True
                refresh_live_figures.__dict__.pop("apply_async", None)
                cache_log.disabled = False
            updating = b'data-testid="updating"' in response.content  # bench/run.py records no context
            if updating != (broker == "up"):
                raise AssertionError(f"the view did not find its figures kept and stale (broker {broker})")
            return response

        return call

    def import_rows() -> object:
        table = imports.read_table("bench.xlsx", content)
        batch = imports.create_batch(actor=f.staff, branch=f.import_branch, file_name="bench.xlsx")
        imports.check_batch(batch, table)
        return imports.commit_batch(actor=f.staff, batch=batch)

    def export(fmt: str) -> Callable[[], object]:
        def call() -> object:
            # As the export view builds it (members/views.py _filtered_members), limited to 10,000.
            first = Member.objects.visible_to(f.staff).order_by("pk").values("pk")[:10_000]
            listed = Member.objects.visible_to(f.staff).select_related("branch").filter(pk__in=first)
            members = exports.exportable(f.staff, listed, full_id_numbers=False)
            if fmt == "csv":
                return sum(len(chunk) for chunk in exports.export_csv(members, full_id_numbers=False))
            return len(exports.export_xlsx(members, full_id_numbers=False))

        return call

    staff, su = f.staff, f.superuser
    filtered = {"sex": "F", "education": "senior", "status": "active"}
    admin_filtered = {"sex__exact": "F", "education__exact": "senior", "status__exact": "active"}
    admin_county = {"county": county.code}
    scenarios = [
        Scenario("member list: first page", get(staff, "/members/"), runs, "members", "admin: first page"),
        Scenario(
            "member list: filtered (sex, education)",
            get(staff, "/members/", filtered),
            runs,
            "members",
            "admin: filtered",
        ),
        Scenario(
            "member list: age band + last grade",
            get(staff, "/members/", {"age": "22-25", "grade": "basic"}),
            runs,
            "members",
        ),
        Scenario(
            "member list: search by name",
            get(staff, "/members/", {"q": "王"}),
            runs,
            "members",
            "admin: search by name",
        ),
        Scenario(
            f"member list: deep page ({last_page})",
            get(staff, "/members/", {"page": last_page}),
            runs,
            "members",
            "admin: deep page",
        ),
        Scenario(
            f"member list: middle page ({middle_page})",
            get(staff, "/members/", {"page": middle_page}),
            runs,
            "members",
            "admin: middle page",
        ),
        Scenario("admin: first page", get(su, "/admin/members/member/", admin_county), runs, "admin"),
        Scenario(
            "admin: filtered", get(su, "/admin/members/member/", {**admin_county, **admin_filtered}), runs, "admin"
        ),
        Scenario(
            "admin: search by name", get(su, "/admin/members/member/", {**admin_county, "q": "王"}), runs, "admin"
        ),
        Scenario(
            "admin: deep page", get(su, "/admin/members/member/", {**admin_county, "p": last_page}), runs, "admin"
        ),
        Scenario(
            "admin: middle page", get(su, "/admin/members/member/", {**admin_county, "p": middle_page}), runs, "admin"
        ),
        Scenario("member page", get(staff, f"/members/{f.member_pk}/"), runs, "pages"),
        Scenario("unit tree", get(staff, "/org/units/"), runs, "pages"),
        Scenario(
            "推优 pipeline board (busiest branch)",
            get(f.board_user, f"/promotion/branches/{f.board_branch_pk}/"),
            runs,
            "pages",
        ),
        Scenario("review queue (county staff)", get(staff, "/promotion/review/"), runs, "pages"),
        Scenario("county pipeline overview", get(staff, "/promotion/overview/"), runs, "pages"),
        Scenario(
            "statistics dashboard (reports:unit, county)", get(staff, f"/reports/unit/{county.pk}/"), runs, "reports"
        ),
        Scenario(
            "statistics dashboard: its status, polled while updating",
            get(staff, f"/reports/unit/{county.pk}/live/", {"period": Period.containing(QUARTER, today).key}),
            runs,
            "reports",
        ),
        Scenario(
            "statistics dashboard: first view after a change",
            after_a_change("up"),
            runs,
            "reports",
            writes=True,
            before=a_change,
        ),
        Scenario(
            "statistics dashboard: first view after a change, broker away",
            after_a_change("away"),
            report_runs,
            "reports",
            writes=True,
            before=a_change,
        ),
        Scenario("monthly progress report: HTML", get(staff, f"/reports/unit/{county.pk}/monthly/"), runs, "reports"),
        Scenario(
            f"monthly progress report: figures ({month.key})",
            report(ReportKind.MONTHLY, month, None),
            # Milliseconds, and computed at every view of its page (reports/cache.py): run as the pages are.
            runs,
            "reports",
        ),
        Scenario(
            "monthly progress report: figures + PDF",
            report(ReportKind.MONTHLY, month, render_pdf),
            report_runs,
            "reports",
        ),
        Scenario(
            f"quarterly report: figures ({quarter.key})",
            report(ReportKind.QUARTERLY, quarter, None),
            report_runs,
            "reports",
        ),
        Scenario(
            "quarterly report: figures + PDF",
            report(ReportKind.QUARTERLY, quarter, render_pdf),
            report_runs,
            "reports",
        ),
        Scenario(
            "quarterly report: figures + .xlsx",
            report(ReportKind.QUARTERLY, quarter, render_xlsx),
            report_runs,
            "reports",
        ),
        *province_reports(quarter, report_runs),
        Scenario(
            "import of 10,000 rows (read, check, commit)", import_rows, import_runs, "bulk", writes=True, warm_up=False
        ),
        Scenario("export of 10,000 rows: .xlsx", export("xlsx"), report_runs, "bulk"),
        Scenario("export of 10,000 rows: .csv", export("csv"), report_runs, "bulk"),
    ]
    if f.township_staff is not None:
        scenarios.insert(
            13, Scenario("review queue (township staff)", get(f.township_staff, "/promotion/review/"), runs, "pages")
        )
    for name in sorted(RULES):
        scenarios.append(
            Scenario(
                f"reminder rule: {name}",
                (lambda name=name: run_rule(name, today)),
                report_runs,
                "reminders",
                writes=True,
            )
        )
    for scenario in scenarios:
        # Reports and exports are measured cold (no warm-up run): seconds each, as a worker meets them.
        if scenario.group in ("reports", "bulk") and scenario.runs == report_runs:
            scenario.warm_up = False
    if only:
        scenarios = [s for s in scenarios if any(word in s.name for word in only)]
    if any(s.before is a_change for s in scenarios):
        # The refresh the dashboard queues goes to kombu's in-process transport: nothing left in the
        # broker of var/ or Redis. Every other task runs eagerly, so no connection to the configured
        # broker was made before (Celery keeps its producer pool once made).
        from leagueadmin.celery import app

        app.conf.broker_url = "memory://localhost//"
        app.conf.broker_transport_options = {}
        client_for(staff)  # signed in outside the scenario's transaction: its session must outlive the rollback
    return scenarios
