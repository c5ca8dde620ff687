"""Reminder rules of the 推优 pipeline (issue 6), registered with branches.notifications.

- The monthly follow-up report on each recommended person: the branch's secretaries from the end of
  the month until the due day; the committee above once it is `escalate_township_days` overdue, the
  county's staff once it is `escalate_county_days` overdue.
- The quarterly cultivation report before recommendation (owed from the quarter after the Party
  application, promotion/due.py): the branch's secretaries, from the end of the quarter until the
  due day.
- Publicity over with no unresolved objection against a candidate still in it: the branch's
  secretaries, to submit the round.
- Cases waiting for review longer than `review_waiting_days`: the reviewers (the committee above),
  once a week while any waits.

Where nobody holds the role on the unit itself, the nearest unit above that has a holder answers for
it: a branch without a secretary account is looked after by its general branch's (团总支) secretary,
a committee without staff accounts by the committee above it, then the county.

Reminders are grouped by branch (or committee) and period, so that a branch hears once about all its
people for a month. Each has a natural key (rule, target, period). Rules look at windows, not single
days, so a day the scheduler missed is caught up; an escalation older than the catch-up window is not
sent any more (on a first run over old data it would only be noise).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import NotificationKind, Organization, Role
from branches.notifications import Reminder, Rule, nearest_role_holders, register
from promotion.due import CULTIVATION, FOLLOW_UP, owed_reports
from promotion.models import PromotionCase, PromotionRound, RoundStage, Stage
from promotion.selectors import DueReport, committees_above
from promotion.services import blocking_objections

ESCALATION_CATCH_UP_DAYS = 31
BRANCH, TOWNSHIP, COUNTY = "branch", "township", "county"
# Who answers for a unit when nobody holds the role there: the nearest unit above that has a holder.
SECRETARIES = (Role.BRANCH_SECRETARY,)
# A committee above reviews; where it has no staff account, the next committee up, then the county.
REVIEWERS = (Role.TOWNSHIP_STAFF, Role.COUNTY_STAFF)
COUNTY_STAFF = (Role.COUNTY_STAFF,)


def _counties(units: Iterable[Organization]) -> dict[str, Organization]:
    """Unit path → its county committee (the root of its tree), in one query."""
    units = list(units)
    roots = {o.path: o for o in Organization.objects.filter(path__in={u.path[: Organization.steplen] for u in units})}
    return {unit.path: roots[unit.path[: Organization.steplen]] for unit in units}


def _reviewing_units(branches: Iterable[Organization]) -> dict[int, Organization]:
    """Branch id → the committee that reviews it: the township-level committee above, or the county
    committee for units directly under it. Two queries."""
    branches = list(branches)
    committees = committees_above(branches)
    counties = _counties(branches)
    return {b.pk: committees.get(b.path, counties[b.path]) for b in branches}


def _names(cases: Iterable[PromotionCase]) -> str:
    return "、".join(sorted(case.member.name for case in cases))


# --- reports due (follow-up with escalation, cultivation) -----------------------------------------


@dataclass(frozen=True)
class _Group:
    level: str
    branch_id: int
    period: date
    due_on: date


def _levels(report: DueReport, day: date) -> list[str]:
    """Who hears of a missing report today: the branch until the due day, then the committee above and
    the county each once its escalation date has come (within the catch-up window). Every level whose
    window holds the day, each under its own key: a first run (or one after missed days) inside the
    county's window must not skip the township, which may still be within its own."""
    if not report.overdue:
        return [BRANCH]
    rules = settings.PROMOTION_RULES
    levels = []
    for level, after in ((TOWNSHIP, rules["escalate_township_days"]), (COUNTY, rules["escalate_county_days"])):
        escalate_on = report.due_on + timedelta(days=after)
        if escalate_on <= day <= escalate_on + timedelta(days=ESCALATION_CATCH_UP_DAYS):
            levels.append(level)
    return levels


def _report_reminders(day: date, kind: str, *, escalate: bool) -> Iterator[Reminder]:
    rules = settings.PROMOTION_RULES
    # Only reports someone may still hear of: not yet due (the branch), or within an escalation window.
    latest = max(rules["escalate_township_days"], rules["escalate_county_days"]) + ESCALATION_CATCH_UP_DAYS
    due_from = day - timedelta(days=latest) if escalate else day
    cases = PromotionCase.objects.select_related("member", "branch").order_by("pk")
    groups: dict[_Group, list[PromotionCase]] = defaultdict(list)
    for case, reports in owed_reports(cases, day, kind=kind, due_from=due_from):
        for report in reports:
            for level in _levels(report, day):
                if escalate or level == BRANCH:
                    groups[_Group(level, case.branch_id, report.period, report.due_on)].append(case)
    if not groups:
        return
    branches = {case.branch_id: case.branch for group in groups.values() for case in group}
    levels = {group.level for group in groups}
    # Each level's units and the people answering for them: a fixed number of queries per level.
    answering: dict[str, dict[int, tuple[int, frozenset[int]]]] = {}
    units: dict[str, dict[int, Organization]] = {BRANCH: branches}
    if BRANCH in levels:
        answering[BRANCH] = nearest_role_holders(branches.values(), SECRETARIES, day)
    if TOWNSHIP in levels:
        units[TOWNSHIP] = _reviewing_units(branches.values())
        answering[TOWNSHIP] = nearest_role_holders(set(units[TOWNSHIP].values()), REVIEWERS, day)
    if COUNTY in levels:
        counties = _counties(branches.values())
        units[COUNTY] = {pk: counties[branch.path] for pk, branch in branches.items()}
        answering[COUNTY] = nearest_role_holders(set(units[COUNTY].values()), COUNTY_STAFF, day)
    for group, group_cases in groups.items():
        unit = units[group.level][group.branch_id]
        if unit.pk not in answering[group.level]:
            continue  # nobody holds the role there or above
        _unit_id, recipients = answering[group.level][unit.pk]
        branch = branches[group.branch_id]
        report = DueReport(kind, group.period, group.due_on, max((day - group.due_on).days, 0))
        figures = {"report": report.label, "branch": branch.name, "n": len(group_cases)}
        details = {"day": group.due_on.isoformat(), "names": _names(group_cases)}
        if group.level == BRANCH:
            subject = _("%(report)s due for %(n)d people of %(branch)s") % figures
            body = _("Due by %(day)s: %(names)s.") % details
        else:
            subject = _("%(report)s overdue for %(n)d people of %(branch)s") % figures
            body = _("Due on %(day)s and still missing: %(names)s.") % details
        yield Reminder(
            recipients=recipients,
            kind=NotificationKind.PROMOTION,
            key=f"promotion-{kind}:{group.level}:{group.branch_id}:{group.period:%Y-%m}",
            subject=subject,
            body=body,
            link=reverse("promotion:board", kwargs={"branch_pk": group.branch_id}),
        )


def follow_up_reports(day: date) -> Iterator[Reminder]:
    return _report_reminders(day, FOLLOW_UP, escalate=True)


def cultivation_reports(day: date) -> Iterator[Reminder]:
    return _report_reminders(day, CULTIVATION, escalate=False)


# --- publicity over, review waiting --------------------------------------------------------------


def publicity_ended(day: date) -> Iterator[Reminder]:
    """Rounds whose publicity has ended with every objection resolved: submit them for review."""
    unresolved = blocking_objections(OuterRef("pk"), OuterRef("branch_id"))
    rounds = list(
        PromotionRound.objects.filter(stage=RoundStage.PUBLICITY, publicity_ends_on__lt=day)
        .exclude(Exists(unresolved))
        .select_related("branch")
    )
    holders = nearest_role_holders({r.branch_id: r.branch for r in rounds}.values(), SECRETARIES, day)
    for round in rounds:
        if round.branch_id not in holders:
            continue
        _unit_id, recipients = holders[round.branch_id]
        yield Reminder(
            recipients=recipients,
            kind=NotificationKind.PROMOTION,
            key=f"promotion-publicity-ended:{round.pk}",
            subject=_("Publicity of “%(round)s” ended on %(day)s: submit it for review")
            % {"round": round.title, "day": round.publicity_ends_on.isoformat()},
            body=_("No objection is waiting to be resolved."),
            link=reverse("promotion:round", kwargs={"pk": round.pk}),
        )


def review_waiting(day: date) -> Iterator[Reminder]:
    """Cases waiting for review longer than the configured days: the reviewers (the committee above's
    staff, or the nearest staffed level up) hear once a week (ISO week) while any case waits too long,
    all of their cases in one reminder. Three queries, then two for the reviewers."""
    waited = settings.PROMOTION_RULES["review_waiting_days"]
    # Waiting more than `waited` days on `day`: submitted before the start of the day `waited` days back.
    cutoff = timezone.make_aware(datetime.combine(day - timedelta(days=waited), time.min))
    cases = list(
        PromotionCase.objects.filter(stage=Stage.IN_REVIEW, stage_since__lt=cutoff)
        .select_related("member", "branch")
        .order_by("stage_since", "pk")
    )
    if not cases:
        return
    reviewing = _reviewing_units({case.branch_id: case.branch for case in cases}.values())
    holders = nearest_role_holders(set(reviewing.values()), REVIEWERS, day)
    groups: dict[int, list[PromotionCase]] = defaultdict(list)
    recipients: dict[int, frozenset[int]] = {}
    for case in cases:
        committee = reviewing[case.branch_id]
        if committee.pk in holders:
            unit_id, recipients[unit_id] = holders[committee.pk]
            groups[unit_id].append(case)
    iso_year, iso_week, _weekday = day.isocalendar()
    for unit_id, group in groups.items():
        oldest = timezone.localtime(group[0].stage_since).date()
        yield Reminder(
            recipients=recipients[unit_id],
            kind=NotificationKind.PROMOTION,
            key=f"promotion-review-waiting:{unit_id}:{iso_year}-W{iso_week:02d}",
            subject=_("%(n)d cases have waited for review more than %(days)d days, the longest since %(day)s")
            % {"n": len(group), "days": waited, "day": oldest.isoformat()},
            body=_names(group),
            link=reverse("promotion:review-queue"),
        )


register(Rule("promotion_follow_up", gettext_lazy("推优: monthly follow-up reports"), follow_up_reports))
register(Rule("promotion_cultivation", gettext_lazy("推优: quarterly cultivation reports"), cultivation_reports))
register(Rule("promotion_publicity_ended", gettext_lazy("推优: publicity ended, to submit"), publicity_ended))
register(Rule("promotion_review_waiting", gettext_lazy("推优: cases waiting for review"), review_waiting))
