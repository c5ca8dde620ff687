"""Reads of member records shaped for pages."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from branches.audit import ACTION_LABELS, describe_changes, newest_change
from branches.models import Honour, User
from branches.selectors import has_record_scope
from members.models import Member, Transfer, add_years, choice_labels, years_between


def get_member_for_user(user: User, pk: int) -> Member:
    """The member if the user works with their branch; 404 otherwise, the same as missing."""
    return get_object_or_404(Member.objects.visible_to(user).select_related("branch"), pk=pk)


@dataclass(frozen=True)
class MemberRow:
    """One line of the member list, its labels already looked up."""

    pk: int
    name: str
    url: str
    sex: str
    age: int
    id_number_masked: str
    branch_name: str
    status: str


def member_rows(members: Iterable[Member]) -> list[MemberRow]:
    """The list's rows: the choice labels, today and the link are worked out once for the page,
    not once a row (a row's own work is then a few dictionary lookups)."""
    sexes, statuses = choice_labels("sex"), choice_labels("status")
    today = timezone.localdate()
    # The page's one reverse(): each row's link only puts its id in.
    link_start, link_end = reverse("members:member", args=[0]).rsplit("0", 1)
    return [
        MemberRow(
            pk=member.pk,
            name=member.name,
            url=f"{link_start}{member.pk}{link_end}",
            sex=sexes.get(member.sex, member.sex),
            age=years_between(member.birth_date, today),
            id_number_masked=member.id_number_masked,
            branch_name=member.branch.name,
            status=statuses.get(member.status, member.status),
        )
        for member in members
    ]


logger = logging.getLogger(__name__)

# The longest a list's count is kept when no audited change came in: writes the audit trail does not
# see (the demo and benchmark loaders, a fix in the database shell), as the dashboard's figures.
KEPT_COUNT_SECONDS = 10 * 60


def kept_count(members: QuerySet[Member]) -> int:
    """How many members the list holds, kept in the cache under the list's own query (the scope and
    the filters, today's date for an age band) until an audited change (branches.audit.newest_change):
    counting a city district's active members was a third of a list page's SQL (25 of 60 ms), and
    every page of the list counts. A cache that cannot be read or written means counting."""
    sql, params = members.query.sql_with_params()
    key = "members:count:" + hashlib.sha256(f"{sql}\n{params!r}".encode()).hexdigest()
    change = newest_change()
    try:
        kept = cache.get(key)
        if kept is not None and kept[0] == change:
            return kept[1]
    except Exception:
        logger.warning("Member count unreadable under %s; counting", key, exc_info=True)
    count = members.count()
    try:
        cache.set(key, (change, count), KEPT_COUNT_SECONDS)
    except Exception:
        logger.warning("Member count not kept under %s", key, exc_info=True)
    return count


class MemberListPaginator(Paginator):
    """Pages of the member list as rows (member_rows). A page is found through the members' ids
    first, then its rows are fetched whole: to reach a deep page PostgreSQL sorts narrow
    (branch path, name, id) tuples instead of whole member rows (page 2,001 of a city: 220 ms of SQL
    instead of 360). A page in the second half is counted from the end, in the reversed order, so
    the last page costs what the first does and the middle one is the deepest. The same two parts
    as before: the count (kept until a change: kept_count) and one query for the page."""

    @cached_property
    def count(self) -> int:
        return kept_count(self.object_list)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        members = self.object_list
        ordering = [*(members.query.order_by or Member._meta.ordering)]
        if "pk" not in ordering:
            ordering.append("pk")  # a total order: pages that neither skip nor repeat anyone
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom > self.count - top:
            reversed_order = [term[1:] if term.startswith("-") else f"-{term}" for term in ordering]
            window = members.order_by(*reversed_order).values("pk")[self.count - top : self.count - bottom]
        else:
            window = members.order_by(*ordering).values("pk")[bottom:top]
        rows = Member.objects.filter(pk__in=window).select_related("branch").order_by(*ordering)
        return self._get_page(member_rows(rows), number, self)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    title: str
    detail: str
    actor: str


def member_timeline(member: Member) -> list[TimelineItem]:
    """Everything that happened to the member, newest first, from the audit trail: record changes,
    registrations, evaluations, leaving, the member's transfers and honours. A fixed number of queries."""
    items = []
    member_type = ContentType.objects.get_for_model(Member)
    transfer_ids = [str(pk) for pk in member.transfers.values_list("pk", flat=True)]
    entries = LogEntry.objects.filter(
        Q(content_type=member_type, object_pk=str(member.pk))
        | Q(content_type=ContentType.objects.get_for_model(Transfer), object_pk__in=transfer_ids)
        # A subquery, not another query: the count stays fixed however many honours there are.
        | Q(content_type=ContentType.objects.get_for_model(Honour), object_id__in=member.honours.values("pk"))
    ).order_by("-timestamp")
    for entry in entries.select_related("actor", "content_type"):
        # A record's creation lists its empty fields too (None → ""): they read "— → —", say nothing.
        changes = "; ".join(f"{label}: {old} → {new}" for label, old, new in describe_changes(entry) if old != new)
        note = (entry.additional_data or {}).get("note", "")
        actor = entry.actor.display_name if entry.actor else ""
        title = str(ACTION_LABELS.get(entry.action, ""))
        if entry.content_type_id != member_type.pk:  # a transfer or an honour: say which
            title = f"{capfirst(entry.content_type.model_class()._meta.verbose_name)}: {title}"
        items.append(TimelineItem(entry.timestamp, title, f"{changes} {note}".strip(), actor))
    return items


@dataclass(frozen=True)
class YearRecord:
    year: int
    registered_on: date | None
    grade: str


def yearly_record(member: Member) -> list[YearRecord]:
    """Registration and evaluation year by year, newest first (two queries)."""
    registered = dict(member.registrations.values_list("year", "registered_on"))
    graded = {e.year: e.get_grade_display() for e in member.evaluations.all()}
    return [
        YearRecord(year, registered.get(year), graded.get(year, ""))
        for year in sorted(registered.keys() | graded.keys(), reverse=True)
    ]


@dataclass(frozen=True)
class MemberSummary:
    active: int
    registered_this_year: int
    over_age_due: int
    transfers_waiting: int
    transfers_lapsed: int


LAPSED_NOTICE_DAYS = 30


def member_summary(user: User) -> MemberSummary | None:
    """The member figures and to-dos of the user's scope for the home page (a handful of queries)."""
    from members.lifecycle import over_age_due
    from members.models import Registration, Transfer
    from members.transfers import may_act_for_receiving_side, may_act_for_sending_side

    if not has_record_scope(user):
        return None
    members = Member.objects.visible_to(user)
    active = members.active()
    year = timezone.localdate().year
    pending = Transfer.objects.visible_to(user).pending().select_related("from_branch", "to_unit")
    waiting = sum(
        1
        for t in pending
        if (may_act_for_receiving_side if t.sending_approved_by_id else may_act_for_sending_side)(user, t)
    )
    return MemberSummary(
        active=active.count(),
        registered_this_year=Registration.objects.filter(year=year, member__in=active).count(),
        over_age_due=over_age_due(members, today=timezone.localdate())
        .filter(birth_date__lte=add_years(timezone.localdate(), -settings.LEAGUE_RULES["leaving_age"]))
        .count(),
        transfers_waiting=waiting,
        # Both sides learn here that a transfer they were part of ran out of time.
        transfers_lapsed=Transfer.objects.visible_to(user)
        .filter(status="lapsed", decided_at__gte=timezone.now() - timedelta(days=LAPSED_NOTICE_DAYS))
        .count(),
    )
