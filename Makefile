# LeagueAdmin task runner. `make run` and `make test` do all their own set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
export DJANGO_SETTINGS_MODULE := leagueadmin.settings

.PHONY: run serve loadtest test lint format messages bench bench-data bench-suite clean var

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

var:
	mkdir -p var/broker/queue var/broker/control var/results

# The whole system in the embedded mode (SQLite, filesystem broker) with the demo county:
# a Celery worker with its beat scheduler in the background, the web server in the foreground.
run: export DEBUG ?= 1
run: $(VENV)/.installed var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(VENV)/bin/celery -A leagueadmin worker --beat --loglevel=info --concurrency=2 & \
	  trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(ADDR)

# The production stack on this machine (deploy/run-production.sh): gunicorn, one Celery worker and one
# beat, after migrate and collectstatic. Needs DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY,
# ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY; serves at ADDR. Stop with Ctrl-C.
serve: export BIND ?= $(ADDR)
serve: $(VENV)/.installed
	deploy/run-production.sh

# Load test of the stack at ADDR (make serve, demo county loaded), bounded in time: make loadtest USERS=100
USERS ?= 20
DURATION ?= 60s
loadtest: $(VENV)/.installed
	$(PY) loadtest/run.py --users $(USERS) --duration $(DURATION) --host http://$(ADDR)

# Lint, migration and translation checks, then the whole suite. Uses DATABASE_URL / REDIS_URL
# when set (CI sets both: PostgreSQL and Redis), else SQLite and the embedded broker.
# The suite runs in TEST_WORKERS parallel processes (pytest-xdist; logical: one per CPU the system
# shows, 0: none), each with its own test database; a module's (or class's) tests stay on one worker,
# so that what they share (a browser, a seeded county) is built once.
TEST_WORKERS ?= logical
test: export SECRET_KEY ?= test-only-secret-key-not-for-production
test: export ID_NUMBER_KEYS ?= dGVzdC1vbmx5LWlkLWtleS1ub3QtZm9yLXByb2QtMzI=
test: export ID_NUMBER_HASH_KEY ?= test-only-hash-key
test: $(VENV)/.installed var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Refresh the translation catalog after changing marked strings, then translate and compile.
messages: export DEBUG ?= 1
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans --no-location --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Timings on PostgreSQL (set DATABASE_URL); printed, not asserted.
bench: export SECRET_KEY ?= bench-only-secret-key
bench: export ID_NUMBER_KEYS ?= dGVzdC1vbmx5LWlkLWtleS1ub3QtZm9yLXByb2QtMzI=
bench: export ID_NUMBER_HASH_KEY ?= bench-only-hash-key
bench: export STATIC_MANIFEST ?= false
bench: $(VENV)/.installed
	$(PY) bench/members.py
	$(PY) bench/reminders.py
	$(PY) bench/reports.py

# The benchmark suite (issue 8, docs/performance.md) on the PostgreSQL server of DATABASE_URL, at
# SIZE=county (30,000 members), city (100,000) or province (1,000,000): bench-suite loads bench_$(SIZE)
# when it is missing, then prints the table; bench-data drops and loads it again.
SIZE ?= county
bench-data: $(VENV)/.installed
	$(PY) bench/generate.py $(SIZE) --replace

bench-suite: $(VENV)/.installed
	$(PY) bench/run.py $(SIZE) --load

clean:
	rm -rf var $(VENV)
