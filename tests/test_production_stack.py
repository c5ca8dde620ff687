"""The production stack (deploy/) and the load test (loadtest/): fast checks of their pieces.

The stack itself and the load test's figures are run by hand (docs/performance.md); these tests keep
what they rely on true: static files served with caching headers outside DEBUG, gunicorn's settings,
the start script's refusals, and the load test's reading of the real pages.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from loadtest import cpu, pages
from tests.conftest import PASSWORD, make_member

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PRODUCTION_ENV = {
    "SECRET_KEY": "production-stack-test-only",
    "ID_NUMBER_KEYS": "dGVzdC1vbmx5LWlkLWtleS1ub3QtZm9yLXByb2QtMzI=",
    "ID_NUMBER_HASH_KEY": "production-stack-test-only",
}


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without the settings the tests vary, plus `values`."""
    varied = {"DEBUG", "STATIC_MANIFEST", "WEB_CONCURRENCY", "BIND", "DATABASE_URL", "REDIS_URL", *PRODUCTION_ENV}
    environment = {name: value for name, value in os.environ.items() if name not in varied}
    return {**environment, **values}


def load_gunicorn_config(monkeypatch, **environment: str):
    for name in ("WEB_CONCURRENCY", "BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "deploy" / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- static files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, "whitenoise.storage.CompressedManifestStaticFilesStorage"),
        ({"DEBUG": "true"}, "django.contrib.staticfiles.storage.StaticFilesStorage"),
        ({"STATIC_MANIFEST": "false"}, "django.contrib.staticfiles.storage.StaticFilesStorage"),
    ],
)
def test_hashed_static_files_only_in_production(environment, backend):
    """Outside the test suite (a process of its own), DEBUG off means hashed names, unless told not to."""
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_environment(DJANGO_SETTINGS_MODULE="leagueadmin.settings", **PRODUCTION_ENV, **environment),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == backend


def test_an_unclear_static_manifest_value_is_refused():
    code = "from django.conf import settings; settings.STORAGES"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_environment(DJANGO_SETTINGS_MODULE="leagueadmin.settings", STATIC_MANIFEST="maybe", **PRODUCTION_ENV),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "STATIC_MANIFEST must be a boolean" in result.stderr


def test_the_test_suite_keeps_plain_static_names():
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert settings.MIDDLEWARE[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


# collectstatic as in production (hashed names, compressed copies), for our own static folder only
# (Django admin's files would triple the time).
PRODUCTION_STATIC = {
    "DEBUG": False,
    "STORAGES": {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    },
    "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
    "WHITENOISE_AUTOREFRESH": False,  # files are looked up once, at start
    "WHITENOISE_USE_FINDERS": False,
}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, **PRODUCTION_STATIC):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected_static(static_root):
    with override_settings(STATIC_ROOT=static_root, **PRODUCTION_STATIC):
        yield Client()  # a new client: its handler builds the middleware with these settings


def test_whitenoise_serves_hashed_files_cached_for_ever_and_compressed(collected_static):
    url = staticfiles_storage.url("css/leagueadmin.css")
    assert url != "/static/css/leagueadmin.css"  # the name carries the content's hash

    response = collected_static.get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Type"].startswith("text/css")
    assert "Set-Cookie" not in response  # answered before sessions: no session work for a file


def test_whitenoise_serves_plain_names_briefly_cached(collected_static):
    response = collected_static.get("/static/css/leagueadmin.css")

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"
    assert "Content-Encoding" not in response  # the client did not ask for it


def test_unknown_static_files_fall_through_to_a_404(collected_static):
    assert collected_static.get("/static/css/absent.css").status_code == 404


# --- gunicorn ----------------------------------------------------------------------------------------


def test_gunicorn_workers_follow_the_cores(monkeypatch):
    config = load_gunicorn_config(monkeypatch)

    assert config.workers == 2 * config.available_cores() + 1
    assert [config.workers_for(cores) for cores in (1, 2, 8)] == [3, 5, 17]
    assert config.bind == "127.0.0.1:8000"
    assert config.worker_class == "sync"
    assert config.accesslog == "-"


def test_gunicorn_settings_from_the_environment(monkeypatch):
    config = load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="3", BIND="127.0.0.1:9000")

    assert config.workers == 3
    assert config.bind == "127.0.0.1:9000"


@pytest.mark.parametrize("value", ["0", "-2", "four", "2.5"])
def test_gunicorn_refuses_an_unclear_worker_count(monkeypatch, value):
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a positive whole number"):
        load_gunicorn_config(monkeypatch, WEB_CONCURRENCY=value)


def test_web_and_worker_processes_leave_what_they_loaded_out_of_collections(monkeypatch):
    from leagueadmin.celery import freeze_loaded_objects

    config = load_gunicorn_config(monkeypatch)
    for freeze in (lambda: config.when_ready(server=None), freeze_loaded_objects):
        assert gc.get_freeze_count() == 0
        try:
            freeze()
            assert gc.get_freeze_count() > 10_000  # Django and the apps, loaded by now
        finally:
            gc.unfreeze()


def test_gunicorn_accepts_the_configuration_and_loads_the_application():
    result = subprocess.run(
        [GUNICORN, "--check-config", "--config", "deploy/gunicorn.conf.py", "leagueadmin.wsgi:application"],
        env=clean_environment(**PRODUCTION_ENV),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --- the start script ---------------------------------------------------------------------------------


def run_production(**environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "deploy" / "run-production.sh")],
        env=clean_environment(**environment),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_stack_names_every_missing_setting():
    result = run_production(SECRET_KEY="set")

    assert result.returncode == 2
    for name in ("DATABASE_URL", "REDIS_URL", "ID_NUMBER_KEYS", "ID_NUMBER_HASH_KEY"):
        assert name in result.stdout
    assert "SECRET_KEY" not in result.stdout.split("set ", 1)[1].split("(")[0]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DATABASE_URL": "sqlite:///var/x.sqlite3"}, "DATABASE_URL must point at PostgreSQL"),
        ({"DEBUG": "1"}, "runs with DEBUG=false"),
    ],
)
def test_the_stack_refuses_a_development_setting(environment, message):
    complete = {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        **PRODUCTION_ENV,
    }

    result = run_production(**{**complete, **environment})

    assert result.returncode == 2
    assert message in result.stdout


# --- the load test ------------------------------------------------------------------------------------


def test_the_locustfile_imports_with_a_user_class_per_role():
    result = subprocess.run(
        [sys.executable, "-m", "locust", "--locustfile", "loadtest/locustfile.py", "--list"],
        env=clean_environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    listed = set(result.stdout.split())
    assert {"BranchSecretary", "CommitteeStaff", "CountyStaff", "PartyOrganizer"} <= listed


def test_the_load_test_signs_in_through_the_form_with_its_csrf_token(db, people):
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(reverse("login"))
    assert pages.SIGNED_IN_MARK not in form.content.decode()

    data = {"username": "secretary_a1", "password": PASSWORD}
    refused = browser.post(reverse("login"), {**data, "csrfmiddlewaretoken": "wrong"})
    signed_in = browser.post(
        reverse("login"), {**data, "csrfmiddlewaretoken": pages.csrf_token(form.content.decode())}, follow=True
    )

    assert refused.status_code == 403
    assert signed_in.status_code == 200
    assert pages.SIGNED_IN_MARK in signed_in.content.decode()


def test_the_load_test_finds_its_ids_on_the_real_pages(db, tree, people, login):
    members = [make_member(tree["branch_a1"], name=f"团员{n}") for n in range(3)]

    township = login(people["township_a_staff"])
    listing = township.get(reverse("members:list")).content.decode()
    boards = township.get(reverse("promotion:branches")).content.decode()
    reports = township.get(reverse("reports:home")).content.decode()

    assert set(pages.ids(pages.MEMBER_LINK, listing)) == {member.pk for member in members}
    assert pages.last_member_page(listing) == 1
    assert tree["branch_a1"].pk in pages.ids(pages.BOARD_LINK, boards)
    assert tree["township_a"].pk in pages.ids(pages.UNIT_REPORT_LINK, reports)


def test_the_last_member_page_comes_from_the_count():
    assert pages.last_member_page('<span data-testid="member-count">10000 条记录</span>') == 200
    assert pages.last_member_page('<span data-testid="member-count">10001 条记录</span>') == 201
    assert pages.last_member_page("<p>nothing</p>") == 1


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://10.0.0.5:8000", False),
        ("https://example.org", False),
        ("not a url", False),
    ],
)
def test_the_load_test_targets_this_machine_only(url, loopback):
    assert pages.is_loopback(url) is loopback


def test_the_runner_refuses_another_host():
    result = subprocess.run(
        [sys.executable, "loadtest/run.py", "--host", "http://10.0.0.5:8000", "--users", "2", "--duration", "5s"],
        env=clean_environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "this machine only" in result.stderr


@pytest.mark.parametrize(("value", "error"), [("", None), ("0.5,2", None), ("3,1", "0 ≤ low ≤ high"), ("x", "two")])
def test_think_time_is_read_strictly(monkeypatch, value, error):
    monkeypatch.setenv("LOADTEST_THINK", value)
    if error is None:
        low, high = pages.think_time()
        assert 0 <= low <= high
    else:
        with pytest.raises(ValueError, match=error):
            pages.think_time()


def test_cpu_accounting_counts_each_kind_and_leaves_the_rest_to_others():
    before = (
        100.0,
        {1: ("web (gunicorn)", 10.0), 2: ("PostgreSQL, database demo", 1.0), 3: (cpu.EVERYTHING_ELSE, 50.0)},
    )
    after = (
        160.0,
        {
            1: ("web (gunicorn)", 40.0),
            2: ("PostgreSQL, database demo", 6.0),
            3: (cpu.EVERYTHING_ELSE, 70.0),
            4: ("web (gunicorn)", 5.0),  # a worker started meanwhile: all its time is in the window
        },
    )

    used = cpu.used_between(before, after)

    assert used == {
        "machine busy": 60.0,
        "web (gunicorn)": 35.0,
        cpu.EVERYTHING_ELSE: 20.0,
        "PostgreSQL, database demo": 5.0,
    }


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("postgres: 15/main: postgres stack_demo 127.0.0.1(42424) idle", "PostgreSQL, database stack_demo"),
        ("postgres: 15/main: checkpointer ", "PostgreSQL (server)"),
        ("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", cpu.CLOSED_CONNECTIONS),
        (".venv/bin/python3 .venv/bin/gunicorn --config deploy/gunicorn.conf.py leagueadmin.wsgi", "web (gunicorn)"),
        (".venv/bin/python3 .venv/bin/celery -A leagueadmin beat", "Celery worker and beat"),
        ("python -m pytest", cpu.EVERYTHING_ELSE),
    ],
)
def test_cpu_accounting_tells_processes_apart(command, kind):
    assert cpu.process_kind(1, command) == kind
