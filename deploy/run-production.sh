#!/usr/bin/env bash
# The production stack on one machine, in the foreground: migrate, collect the static files, then
# gunicorn (the web), one Celery worker and exactly one Celery beat (the database scheduler), logging to
# stdout. Ctrl-C or TERM stops all three; if one of them dies, the others are stopped too, so a
# supervisor (systemd, a container runtime) sees the failure and restarts the whole stack.
#
#   DATABASE_URL=postgres://… REDIS_URL=redis://… SECRET_KEY=… ID_NUMBER_KEYS=… ID_NUMBER_HASH_KEY=… \
#     deploy/run-production.sh
#
# Optional: BIND (127.0.0.1:8000), WEB_CONCURRENCY (2 × cores + 1), CELERY_CONCURRENCY (cores),
# LOG_LEVEL (info), PYTHON (.venv/bin/python). PostgreSQL and Redis run as services of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 2>&1  # one stream: gunicorn's error log and Celery's log go to stdout with the access log

log() { echo "[run-production] $*"; }

missing=()
for name in DATABASE_URL REDIS_URL SECRET_KEY ID_NUMBER_KEYS ID_NUMBER_HASH_KEY; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "not started: set ${missing[*]} (README, \"Configuration\" and \"Run it in production\")."
  exit 2
fi
case "$DATABASE_URL" in
  postgres://* | postgresql://* | pgsql://*) ;;
  *) log "not started: DATABASE_URL must point at PostgreSQL (postgres://…), not ${DATABASE_URL%%:*}."; exit 2 ;;
esac
case "${DEBUG:-false}" in
  0 | false | False | FALSE | no | off | "") export DEBUG=false ;;
  *) log "not started: DEBUG is on ($DEBUG); the production stack runs with DEBUG=false."; exit 2 ;;
esac

PYTHON=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PYTHON")
export DJANGO_SETTINGS_MODULE=leagueadmin.settings
VAR_DIR=${VAR_DIR:-var}
mkdir -p "$VAR_DIR"

# Exactly one beat: a second beat would send every periodic task twice. The lock on file descriptor
# 9, held by this script and by beat (the only child that keeps it open), refuses a second stack on
# this machine. Across machines, run this script on one node only and only gunicorn and workers on the
# others (docs/performance.md).
exec 9>"$VAR_DIR/celery-beat.lock"
if ! flock --nonblock 9; then
  log "not started: another stack runs here with its Celery beat ($VAR_DIR/celery-beat.lock is held)."
  exit 2
fi

"$PYTHON" manage.py migrate --noinput
"$PYTHON" manage.py collectstatic --noinput --verbosity 1

pids=()
stop_all() {
  trap - INT TERM
  log "stopping: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # Celery finishes the tasks it holds (warm shutdown); gunicorn lets requests finish (graceful_timeout).
  for _ in $(seq 1 60); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

"$BIN/celery" -A leagueadmin worker --loglevel="${LOG_LEVEL:-info}" \
  ${CELERY_CONCURRENCY:+--concurrency="$CELERY_CONCURRENCY"} --hostname="worker@%h" 9>&- &
pids+=($!)
"$BIN/celery" -A leagueadmin beat --loglevel="${LOG_LEVEL:-info}" &
pids+=($!)
"$BIN/gunicorn" --config deploy/gunicorn.conf.py leagueadmin.wsgi:application 9>&- &
pids+=($!)
log "started: worker ${pids[0]}, beat ${pids[1]}, gunicorn ${pids[2]} on ${BIND:-127.0.0.1:8000}"

# Whichever stops first (a crash, a kill from outside) takes the others with it.
set +e
wait -n "${pids[@]}"
status=$?
set -e
log "a process stopped (status $status); stopping the others."
stop_all
exit $(( status == 0 ? 1 : status ))
