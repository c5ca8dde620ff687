"""LeagueAdmin settings: one module, driven by environment variables.

Production differs from development only by environment values (README, "Configuration").
Ambiguous values fail loudly: a boolean that is not a clear yes/no, or a missing SECRET_KEY
outside DEBUG, raises ImproperlyConfigured.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def strict_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but a clear yes/no raises (django-environ would read it as False)."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), not {raw!r}.")


DEBUG = strict_bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"

# National ID numbers are stored encrypted (members/idnumbers.py). ID_NUMBER_KEYS: Fernet keys, newest
# first (older ones only decrypt, for rotation); ID_NUMBER_HASH_KEY: the key of the lookup hash.
# Both are required unless DEBUG, where development keys are derived from SECRET_KEY.
ID_NUMBER_KEYS = env.list("ID_NUMBER_KEYS", default=[])
ID_NUMBER_HASH_KEY = env.str("ID_NUMBER_HASH_KEY", default="")
if not (ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY):
    if not DEBUG:
        raise ImproperlyConfigured("ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY must be set when DEBUG is off.")
    _dev_key = hashlib.sha256(f"{SECRET_KEY}:id-number".encode()).digest()
    ID_NUMBER_KEYS = ID_NUMBER_KEYS or [base64.urlsafe_b64encode(_dev_key).decode()]
    ID_NUMBER_HASH_KEY = ID_NUMBER_HASH_KEY or hashlib.sha256(f"{SECRET_KEY}:id-hash".encode()).hexdigest()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Runtime files of the embedded mode (SQLite database, filesystem broker, results).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "leagueadmin.apps.LeagueAdminConfig",  # django.contrib.admin with a role-based site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "treebeard",
    "auditlog",
    "django_celery_beat",
    "branches",
    "members",
    "promotion",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the WSGI process, before sessions and the rest (deploy/, docs/performance.md).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right after SessionMiddleware: it sees the session as the view and the middleware below left it.
    "branches.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "branches.middleware.SessionLifetimeMiddleware",
    "branches.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "leagueadmin.urls"
WSGI_APPLICATION = "leagueadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branches.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'leagueadmin.sqlite3'}"),
}
# PostgreSQL's JIT compiles a query to machine code once its estimated cost passes jit_above_cost, and
# pays it again on every run: at a million members a reminder rule's largest query took 0.73 s with it
# (0.57 s of that compiling), 0.55 s without; the reports' queries come closer to the threshold as the
# tables grow. Off for this application's connections (docs/performance.md). DATABASE_JIT=on keeps the
# server's own setting, e.g. behind a pooler that refuses connection options (PgBouncer: turn JIT off in
# postgresql.conf or with ALTER ROLE instead).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not strict_bool("DATABASE_JIT", default=False):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts and the password policy expected by graded protection (等级保护 2.0, level 2).
AUTH_USER_MODEL = "branches.User"
AUTHENTICATION_BACKENDS = ["branches.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "branches.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "branches.passwords.NoUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Lockout: LOGIN_FAILURE_LIMIT failures for one username inside LOGIN_FAILURE_WINDOW lock it
# for LOGIN_LOCKOUT_DURATION, counted from the failure that reached the limit.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = timedelta(minutes=env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15))
LOGIN_LOCKOUT_DURATION = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))

# Sessions end after 30 idle minutes (activity renews the session's and its cookie's expiry, at most
# once a minute: branches.middleware.SessionRenewalMiddleware, rather than SESSION_SAVE_EVERY_REQUEST's
# write per page) and after 12 hours in all (branches.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_ABSOLUTE_LIFETIME = timedelta(seconds=env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = strict_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Internationalization: Simplified Chinese by default, English can be switched on.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# A branch's whole evaluation is one form of one field per member: allow branches of a few thousand.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Uploaded attachments (activity photos and PDFs) are private: kept outside any served folder and
# handed out only by views that check the reader's scope. There is deliberately no MEDIA_URL.
ATTACHMENTS_ROOT = Path(env.str("ATTACHMENTS_ROOT", default=str(VAR_DIR / "attachments")))
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
# Generated reports (PDF, .xlsx) are private too: downloaded only through the archive's views.
REPORTS_ROOT = Path(env.str("REPORTS_ROOT", default=str(VAR_DIR / "reports")))
# Days of grace after a period closes before its reports' figures are frozen (5: frozen from the 6th
# day after its last day), so that entries made late for its last days still count (reports/selectors.py).
REPORTS_FREEZE_AFTER_DAYS = env.int("REPORTS_FREEZE_AFTER_DAYS", default=5)
if not 0 <= REPORTS_FREEZE_AFTER_DAYS <= 60:
    raise ImproperlyConfigured(f"REPORTS_FREEZE_AFTER_DAYS must be 0 to 60 days, not {REPORTS_FREEZE_AFTER_DAYS}.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "files"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": ATTACHMENTS_ROOT, "base_url": None},
    },
    "reports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": REPORTS_ROOT, "base_url": None},
    },
}
# Production (DEBUG off) serves what collectstatic wrote: names carrying a hash of the content, so
# browsers may cache them for ever, with gzip and Brotli copies beside them (whitenoise). Development
# and the test suite keep plain names served from the source folders: no collectstatic needed there.
# STATIC_MANIFEST=false does the same for other runs without collectstatic (the benchmarks).
TESTING = "pytest" in sys.modules
STATIC_MANIFEST = strict_bool("STATIC_MANIFEST", default=not DEBUG and not TESTING)
if STATIC_MANIFEST:
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
if TESTING:
    # Without collectstatic STATIC_ROOT does not exist: look files up on request (no warning about it).
    WHITENOISE_AUTOREFRESH = True
    WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="leagueadmin@localhost")
# The site's address, for links in e-mail (the pages' own links are relative).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# League rules that differ by locality (domain.md §4–§5), with the national defaults.
LEAGUE_RULES = {
    "joining_age": env.int("LEAGUE_JOINING_AGE", default=14),  # youngest age at admission
    "leaving_age": env.int("LEAGUE_LEAVING_AGE", default=28),  # over-age leaving unless holding a post
    "over_age_notice_days": env.int("LEAGUE_OVER_AGE_NOTICE_DAYS", default=90),
    "excellent_share": env.float("LEAGUE_EXCELLENT_SHARE", default=0.30),  # cap on 优秀 in an evaluation
    "transfer_timeout_days": env.int("LEAGUE_TRANSFER_TIMEOUT_DAYS", default=30),
    # The annual registration window (month, day) to (month, day); sources differ (domain.md §10.8).
    "registration_window": (
        tuple(env.list("LEAGUE_REGISTRATION_WINDOW_START", cast=int, default=[1, 1])),
        tuple(env.list("LEAGUE_REGISTRATION_WINDOW_END", cast=int, default=[3, 31])),
    ),
    # Required cadence per activity kind (domain.md §3.1; a monthly themed League day is the county's
    # own rule, §3.2). Kinds not listed are held as needed.
    "activity_cadence": env.dict(
        "LEAGUE_ACTIVITY_CADENCE",
        default={
            "general_meeting": "quarterly",
            "committee_meeting": "monthly",
            "league_class": "quarterly",
            "themed_day": "monthly",
        },
    ),
    # Term lengths in years (domain.md §2.4 gives conflicting figures: §10.3).
    "term_years_branch": env.int("LEAGUE_TERM_YEARS_BRANCH", default=3),  # branches and general branches
    "term_years_student_branch": env.int("LEAGUE_TERM_YEARS_STUDENT_BRANCH", default=1),
    "term_years_committee": env.int("LEAGUE_TERM_YEARS_COMMITTEE", default=5),  # county and grassroots
    "term_notice_days": env.int("LEAGUE_TERM_NOTICE_DAYS", default=60),
    # Cadres are at most 35 years old, 40 with a recorded exception (domain.md §0).
    "cadre_max_age": env.int("LEAGUE_CADRE_MAX_AGE", default=35),
    "cadre_max_age_exception": env.int("LEAGUE_CADRE_MAX_AGE_EXCEPTION", default=40),
    # From this day of the month, branches still missing a required meeting of the month (or quarter)
    # are reminded (branches/activity_reminders.py).
    "activity_reminder_day": env.int("LEAGUE_ACTIVITY_REMINDER_DAY", default=20),
    # An activity recorded more than this many days after it was held is shown as recorded late (a
    # record backdated to fill the completeness table stays visible).
    "activity_late_days": env.int("LEAGUE_ACTIVITY_LATE_DAYS", default=30),
}


def _choice(name: str, default: str, allowed: set[str]) -> str:
    value = env.str(name, default=default).strip()
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(allowed)}, not {value!r}.")
    return value


# 推优 rules (domain.md §6; §10.1 lists where localities differ), with the usual values.
PROMOTION_RULES = {
    "min_age": env.int("PROMOTION_MIN_AGE", default=18),
    "min_league_years": env.int("PROMOTION_MIN_LEAGUE_YEARS", default=1),
    # A Party application more recent than this needs a written reason (some schools accept 3 months).
    "application_wait_months": env.int("PROMOTION_APPLICATION_WAIT_MONTHS", default=6),
    # Last year's evaluation grade must be this or better (excellent > qualified > basic > unqualified).
    "min_evaluation_grade": _choice(
        "PROMOTION_MIN_EVALUATION_GRADE", "qualified", {"excellent", "qualified", "basic", "unqualified"}
    ),
    "share_cap": env.float("PROMOTION_SHARE_CAP", default=0.20),  # of the branch's active members, per round
    "activist_years": env.int("PROMOTION_ACTIVIST_YEARS", default=1),  # track (b): activist this long
    # The branch general meeting: present must be more than this share of the members entitled to vote;
    # a candidate passes with votes for more than half of the voting members ("voting") or of those
    # present ("present").
    "quorum": _choice("PROMOTION_QUORUM", "1/2", {"1/2", "2/3"}),
    "pass_basis": _choice("PROMOTION_PASS_BASIS", "voting", {"voting", "present"}),
    "publicity_working_days": env.int("PROMOTION_PUBLICITY_WORKING_DAYS", default=5),
    "validity_years": env.int("PROMOTION_VALIDITY_YEARS", default=2),
    # The follow-up report on month M is due by this day of month M+1; escalations count from then.
    "follow_up_due_day": env.int("PROMOTION_FOLLOW_UP_DUE_DAY", default=10),
    "escalate_township_days": env.int("PROMOTION_ESCALATE_TOWNSHIP_DAYS", default=10),
    "escalate_county_days": env.int("PROMOTION_ESCALATE_COUNTY_DAYS", default=30),
    # The cultivation report on a quarter is due by this day of the month after the quarter.
    "cultivation_due_day": env.int("PROMOTION_CULTIVATION_DUE_DAY", default=15),
    "review_waiting_days": env.int("PROMOTION_REVIEW_WAITING_DAYS", default=7),
    "probation_years": env.int("PROMOTION_PROBATION_YEARS", default=1),
}

# Audit trail (django-auditlog): JSON changes with old and new values.
AUDITLOG_STORE_JSON_CHANGES = True
# Store a related object by its name at the time of the change: readable later, even after renames or
# deletion, and shown without a query per entry.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Celery. With REDIS_URL, Redis is broker and result store (production). Without it, the embedded
# default needs no server: kombu's filesystem transport and Celery's file result backend under var/.
REDIS_URL = env.str("REDIS_URL", default="")


def celery_transport_settings(redis_url: str, var_dir: Path) -> dict:
    """Broker and result settings for one runtime; also used by tests that start real workers."""
    if redis_url:
        return {"broker_url": redis_url, "result_backend": redis_url, "broker_transport_options": {}}
    broker_dir = var_dir / "broker"
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        },
        "result_backend": f"file://{var_dir / 'results'}",
    }


# The shared cache (the reports' live documents, the member list's counts): Redis in production, files under var/ in the embedded
# mode, so that the web and worker processes see one cache. The test suite swaps in a memory cache per
# process (tests/conftest.py), so parallel test workers never share entries.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
    # Two instances sharing a Redis database (a staging copy beside production), or one var/ (the
    # benchmark's databases), keep apart: what is kept was computed from one database.
    | {"KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=f"leagueadmin:{DATABASES['default']['NAME']}")}
}

_celery_transport = celery_transport_settings(REDIS_URL, VAR_DIR)
CELERY_BROKER_URL = _celery_transport["broker_url"]
CELERY_BROKER_TRANSPORT_OPTIONS = _celery_transport["broker_transport_options"]
CELERY_RESULT_BACKEND = _celery_transport["result_backend"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
