"""The live figures of a quarterly report, kept in Django's cache until their records change.

The statistics dashboard shows the quarterly report of a unit; computing it reads the whole subtree
(a second or more for a city's 100,000 members), and a closed period not yet frozen or the quarter
under way is computed live (reports/selectors.py). The computed document is kept under a key of
what it depends on, with the newest change it has seen:

- the key: the kind, the scope and the period; today's date ("at the period's end" figures of an
  open period stand at today, and what is late is late by today); the language (labels are
  translated when the document is built);
- kept with it, the id of the newest audit entry of a change when it was computed (auditlog's
  LogEntry; entries of a mere look are left out). Every write to a record the report reads goes
  through a service that writes an entry in the same transaction — members (created, edited,
  leaving, imported: one entry per row written in bulk), transfers and the branch they move a
  member to, units (created, edited, dissolved, moved: the move explicitly), activities (recorded,
  edited, attendance, voided), themed-day topics, committee terms, seats and cadres, 推优 cases
  (opened, each step, a move with the member, the daily lapse: an explicit entry each, as the case
  is not registered with auditlog), their transitions, cultivation and follow-up reports, and the
  Party's intake totals. The Django admin shows these records read-only. So a new entry is how a
  change shows: the next view computes the figures again, while views arriving during that
  computation show the figures kept, with the time they were computed.

The newest entry is the instance's, not the unit's: a change anywhere has every unit's figures
computed again on their next view. Telling units apart would need the unit of every entry; at the
sizes measured (docs/performance.md) a computation takes 0.3–1.2 s, once per burst of views.

Entries become visible in the order their transactions commit, not in the order of their ids: a
transaction that wrote its entries before another one that commits first (a roster import writing
its entries just before committing) can commit unseen. Writes the audit trail does not
see — data loaded by the demo or benchmark commands, a fix in the database shell — are not noticed
at all. For both, the figures are kept for LIVE_FIGURES_SECONDS at most. The page says when they
were computed. A frozen period never gets here: the archive's figures are read instead.

Monthly reports are computed each time: their Party organizations' scope reads other records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.core.cache import cache
from django.utils import timezone, translation

from reports.document import ReportDocument

if TYPE_CHECKING:
    from reports.periods import Period
    from reports.selectors import Scope

logger = logging.getLogger(__name__)

# The safety net for what the key cannot see (the module's docstring): figures are computed again
# after this long even when no audited change came in.
LIVE_FIGURES_SECONDS = 10 * 60
# How long the mark "being computed" holds at most, should its request die: a city's figures take 1–2 s.
COMPUTING_SECONDS = 60


def newest_audit_entry() -> int:
    """The id of the newest audit entry of a change (0 with none): one backward scan of the primary
    key's index. Entries that record a look (a full ID number shown, an export, a Party organizer
    opening a case) change no figure, and they would empty the cache at every read."""
    changes = LogEntry.objects.exclude(action=LogEntry.Action.ACCESS)
    return changes.order_by("-pk").values_list("pk", flat=True).first() or 0


def live_key(kind: str, scope: Scope, period: Period) -> str:
    scope_name = f"{scope._meta.model_name}:{scope.pk}"
    parts = [kind, scope_name, period.key, timezone.localdate().isoformat(), translation.get_language()]
    return ":".join(["reports", "live", *parts])


def cached_document(
    kind: str, scope: Scope, period: Period, build: Callable[[str, Scope, Period], ReportDocument]
) -> ReportDocument:
    """The document `build` computes for the kind, scope and period, or the one it computed since the
    last audited change (today, in this language). While one request computes the figures again after
    a change, the others show the figures kept, which say when they were computed: a burst of views
    after a change costs one computation, not one each."""
    key, change = live_key(kind, scope, period), newest_audit_entry()
    kept = None
    try:
        kept = cache.get(key)
        if kept is not None:
            if kept["change"] == change:
                return ReportDocument.from_dict(kept["document"])
            if not cache.add(f"{key}:computing", True, COMPUTING_SECONDS):
                return ReportDocument.from_dict(kept["document"])
    except Exception:
        # The cache only saves time: a cache server down, or figures kept by a release whose document
        # had other fields, mean computing them, never an error page.
        logger.warning("Cached report figures unreadable under %s; computing them", key, exc_info=True)
    try:
        document = build(kind, scope, period)
    finally:
        if kept is not None:
            _forget(f"{key}:computing")
    try:
        cache.set(key, {"change": change, "document": document.to_dict()}, LIVE_FIGURES_SECONDS)
    except Exception:  # as above
        logger.warning("Report figures not cached under %s", key, exc_info=True)
    return document


def _forget(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:  # as above; the mark expires by itself
        logger.warning("Cache mark %s not removed", key, exc_info=True)
