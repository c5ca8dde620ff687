"""The live figures of a quarterly report, kept in Django's cache and computed again in the worker.

The statistics dashboard shows the quarterly report of a unit; computing it reads the whole subtree
(0.3 s for a county, 1.2 s for a city's 100,000 members: docs/performance.md), and a closed period
not yet frozen or the quarter under way is computed live (reports/selectors.py). The computed
document is kept under a key of what it depends on, with the newest change it has seen:

- the key: the kind, the scope and the period; today's date ("at the period's end" figures of an
  open period stand at today, and what is late is late by today); the language (labels are
  translated when the document is built);
- kept with it, the id of the newest audit entry of a change when it was computed (auditlog's
  LogEntry; entries of a mere look are left out), and when it was computed. Every write to a record
  the report reads goes through a service that writes an entry in the same transaction — members
  (created, edited, leaving, imported: one entry per row written in bulk), transfers and the branch
  they move a member to, units (created, edited, dissolved, moved: the move explicitly), activities
  (recorded, edited, attendance, voided), themed-day topics, committee terms, seats and cadres, 推优
  cases (opened, each step, a move with the member, the daily lapse: an explicit entry each, as the
  case is not registered with auditlog), their transitions, cultivation and follow-up reports, and
  the Party's intake totals. The Django admin shows these records read-only. So a new entry is how a
  change shows.

Stale while revalidate: no view waits for figures to be computed again once some are kept. Figures
kept are stale when a newer change came in, or when they are older than LIVE_FIGURES_SECONDS. The
first view that finds them stale marks the key ":computing" (cache.add: one request wins) and queues
`reports.refresh_live_figures`; it and every view until the worker is done show the kept figures. Only
after a newer change are they flagged as being updated: the page says since when they stand, polls
the dashboard's status endpoint for two minutes at most, and once newer figures are kept offers a
link to them. It never reloads by itself: with changes trickling in, the figures it would load would
be stale again, and every reload would renew the session of a tab nobody looks at. Figures merely
older than LIVE_FIGURES_SECONDS (the morning's first view of the figures warmed after midnight) are
computed again silently: nothing says a change is missing from them. A burst of views queues one
task. The task computes the figures unless fresh ones are kept already (a duplicate or redelivered
task does nothing), keeps them and removes the mark. Should the broker be unreachable, the view that
holds the mark computes the figures itself, as it did before the worker took this over: slow, never
an error.

Should the worker be stopped while the broker takes tasks, the mark expires after COMPUTING_SECONDS
and the next view queues again; the kept figures are shown, saying since when, until the day ends.
So figures are kept for their key's day (KEEP_SECONDS), not for LIVE_FIGURES_SECONDS: at that age
they only turn stale, where expiring would make the next view wait for a computation.

The mark's value is a token (uuid4) of whoever took it, passed to the task it queues; only its taker
removes it, by reading it and deleting it if the token is still its own. A holder past
COMPUTING_SECONDS (its mark expired, another took a new one) therefore leaves the newer mark alone.
Reading then deleting is not atomic: a mark expiring and taken again between the two is deleted, and
the worst that does is one more computation queued by the next view — acceptable for a cache.

With nothing kept — a unit nobody viewed today, or the cache emptied — the view computes the figures
(a user must see figures; concurrent cold views each compute). Each day's key starts empty, so the
daily `reports.warm_live_figures` computes every county's (root unit's) current quarter in the
default language after midnight: the heaviest and most viewed dashboards are not cold in the morning.

Operations. Figures are kept for the day per unit, period and language: with Redis (REDIS_URL) and
many units viewed, that is a lot of documents, so Redis needs a memory budget and an eviction policy
(maxmemory with maxmemory-policy allkeys-lru: an evicted document is computed again at its next view,
never an error). Without REDIS_URL the file cache is used, whose `add` is not atomic: "one request
computes, the others show the kept figures" holds only with Redis; with files, concurrent views may
each queue a refresh (the tasks then find the figures fresh, or compute them twice).

The newest entry is the instance's, not the unit's: a change anywhere has every unit's figures
computed again after their next view. Telling units apart would need the unit of every entry; the
worker computes a unit once per burst of views.

Entries become visible in the order their transactions commit, not in the order of their ids: a
transaction that wrote its entries before another one that commits first (a roster import writing
its entries just before committing) can commit unseen. Writes the audit trail does not see — data
loaded by the demo or benchmark commands, a fix in the database shell — are not noticed at all. For
both, figures older than LIVE_FIGURES_SECONDS are computed again after the next view. The page says
when they were computed. A frozen period never gets here: the archive's figures are read instead.

Monthly reports are computed each time: their Party organizations' scope reads other records.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from django.core.cache import cache
from django.utils import timezone, translation

from branches.audit import newest_change
from reports.document import ReportDocument

if TYPE_CHECKING:
    from reports.periods import Period
    from reports.selectors import Scope

logger = logging.getLogger(__name__)

Build = Callable[[str, "Scope", "Period"], ReportDocument]

# Figures older than this are computed again after the next view, even with no audited change (the
# module's docstring: what the key cannot see).
LIVE_FIGURES_SECONDS = 10 * 60
# How long figures stay kept at all: their key holds the day, so a day (warmed after midnight, read
# in the morning).
KEEP_SECONDS = 24 * 60 * 60
# How long the mark "being computed" holds at most, should its worker or request die: a city's figures
# take 1–2 s, but the task may wait in the queue behind others. The page polls about as long.
COMPUTING_SECONDS = 2 * 60


class LiveFigures(NamedTuple):
    document: ReportDocument
    updating: bool  # the figures kept, shown while newer ones are computed


def live_key(kind: str, scope: Scope, period: Period) -> str:
    scope_name = f"{scope._meta.model_name}:{scope.pk}"
    parts = [kind, scope_name, period.key, timezone.localdate().isoformat(), translation.get_language()]
    return ":".join(["reports", "live", *parts])


def _mark(key: str) -> str:
    return f"{key}:computing"


def _fresh(kept: dict, change: int) -> bool:
    return kept["change"] == change and timezone.now().timestamp() - kept["at"] < LIVE_FIGURES_SECONDS


def cached_document(kind: str, scope: Scope, period: Period, build: Build) -> LiveFigures:
    """The figures `build` computes for the kind, scope and period, kept (today, in this language):
    fresh ones as they are; stale ones as they are too while the worker computes them again, flagged
    as updating if a newer change made them stale; none kept, computed here (the module's docstring)."""
    key, change, started = live_key(kind, scope, period), newest_change(), timezone.now()
    taken = None  # the token of the mark, once this request took it: only then is it ours to remove
    try:
        kept = cache.get(key)
        if kept is not None:
            document = ReportDocument.from_dict(kept["document"])
            if _fresh(kept, change):
                return LiveFigures(document, updating=False)
            changed = change > kept["change"]  # else merely old: refreshed without a word
            token = uuid.uuid4().hex
            if not cache.add(_mark(key), token, COMPUTING_SECONDS):
                return LiveFigures(document, updating=changed)  # someone computes them already
            taken = token
            if _queue_refresh(kind, scope, period, token):
                return LiveFigures(document, updating=changed)  # the mark is the task's now
    except Exception:
        # The cache only saves time: a cache server down, or figures kept by a release whose document
        # had other fields, mean computing them, never an error page.
        logger.warning("Cached report figures unreadable under %s; computing them", key, exc_info=True)
    try:
        document = build(kind, scope, period)
        _keep(key, change, started, document)
    finally:
        # After keeping them: a view or a poll in between would take the old figures for the last.
        if taken is not None:
            _release(key, taken)
    return LiveFigures(document, updating=False)


def refresh_document(kind: str, scope: Scope, period: Period, build: Build, *, token: str | None) -> bool:
    """Compute and keep the figures unless fresh ones are kept; whether it computed them. `token`: the
    mark the caller took (the view that queued the task); None, it is taken here, and another
    computing them already means nothing to do. The mark is removed either way, if it is still ours."""
    key, change, started = live_key(kind, scope, period), newest_change(), timezone.now()
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(_mark(key), token, COMPUTING_SECONDS):
            return False
    try:
        kept = cache.get(key)
        if kept is not None and _fresh(kept, change):
            return False
        _keep(key, change, started, build(kind, scope, period))
    finally:
        _release(key, token)  # after keeping them, as in cached_document
    return True


def live_status(kind: str, scope: Scope, period: Period) -> dict[str, str | bool | None]:
    """What a page showing kept figures polls: when the figures kept now were computed, and whether
    newer ones are being computed. Reads the cache only."""
    key = live_key(kind, scope, period)
    try:
        kept = cache.get(key)
        return {
            "computed_at": kept["document"]["generated_at"] if kept is not None else None,
            "updating": cache.get(_mark(key)) is not None,
        }
    except Exception:  # as in cached_document: the page keeps its figures and its refresh link
        logger.warning("Cached report figures unreadable under %s", key, exc_info=True)
        return {"computed_at": None, "updating": False}


def _queue_refresh(kind: str, scope: Scope, period: Period, token: str) -> bool:
    """Queue the worker's computation of these figures; False if the broker cannot take it. Not
    retried: the view computes them itself rather than wait for a broker (retry=False)."""
    # Imported here: the tasks module reads the selectors, which read this module.
    from reports.selectors import scope_kind
    from reports.tasks import refresh_live_figures

    arguments = [kind, scope_kind(scope), scope.pk, period.key, translation.get_language(), token]
    try:
        refresh_live_figures.apply_async(arguments, retry=False)
    except Exception:
        logger.warning("Refresh of %s %s not queued; computing it in the request", kind, scope, exc_info=True)
        return False
    return True


def _keep(key: str, change: int, started: datetime, document: ReportDocument) -> None:
    """`change` and `started`: the newest change and the moment before the figures were computed, as
    they stand for the records then."""
    kept = {"change": change, "at": started.timestamp(), "document": document.to_dict()}
    try:
        cache.set(key, kept, KEEP_SECONDS)
    except Exception:  # as in cached_document
        logger.warning("Report figures not cached under %s", key, exc_info=True)


def _release(key: str, token: str) -> None:
    """Remove the mark "being computed" of `key` if it is still the one taken with `token`: a holder
    whose mark expired must not remove the next one's. Read then deleted, not atomically (the module's
    docstring)."""
    mark = _mark(key)
    try:
        if cache.get(mark) == token:
            cache.delete(mark)
    except Exception:  # as in cached_document; the mark expires by itself
        logger.warning("Cache mark %s not removed", mark, exc_info=True)
