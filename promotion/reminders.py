"""Reminder rules of the 推优 pipeline (issue 6), registered with branches.notifications.

- The monthly follow-up report on each recommended person: the branch's secretaries from the end of
  the month until the due day; the committee above once it is `escalate_township_days` overdue, the
  county's staff once it is `escalate_county_days` overdue.
- The quarterly cultivation report before recommendation: the branch's secretaries, from the end of
  the quarter until the due day.
- Publicity over with no unresolved objection against a candidate still in it: the branch's
  secretaries, to submit the round.
- Cases waiting for review longer than `review_waiting_days`: the reviewers (the committee above).

Reminders are grouped by branch (or committee) and period, so that a branch hears once about all its
people for a month. Each has a natural key (rule, target, period). Rules look at windows, not single
days, so a day the scheduler missed is caught up; an escalation older than the catch-up window is not
sent any more (on a first run over old data it would only be noise).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import NotificationKind, Organization, Role
from branches.notifications import Reminder, Rule, register, unit_role_holders
from promotion.models import (
    CULTIVATION_STAGES,
    FOLLOW_UP_STAGES,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from promotion.selectors import DueReport, committees_above, due_reports
from promotion.services import blocking_objections

ESCALATION_CATCH_UP_DAYS = 31
BRANCH, TOWNSHIP, COUNTY = "branch", "township", "county"


def _counties(units: Iterable[Organization]) -> dict[str, Organization]:
    """Unit path → its county committee (the root of its tree), in one query."""
    units = list(units)
    roots = {o.path: o for o in Organization.objects.filter(path__in={u.path[: Organization.steplen] for u in units})}
    return {unit.path: roots[unit.path[: Organization.steplen]] for unit in units}


def _reviewers_unit(branches: Iterable[Organization]) -> dict[int, tuple[Organization, str]]:
    """Branch id → (the committee that reviews it, the role its staff hold): the township-level committee
    above, or the county committee for units directly under it. Two queries."""
    branches = list(branches)
    committees = committees_above(branches)
    counties = _counties(branches)
    return {
        b.pk: (committees[b.path], Role.TOWNSHIP_STAFF)
        if b.path in committees
        else (counties[b.path], Role.COUNTY_STAFF)
        for b in branches
    }


def _holders(targets: Iterable[tuple[Organization, str]], day: date) -> dict[tuple[int, str], set[int]]:
    """(unit id, role) → the active accounts holding the role there: two queries per role."""
    by_role: dict[str, set[int]] = defaultdict(set)
    for unit, role in targets:
        by_role[role].add(unit.pk)
    return {
        (unit_id, role): users
        for role, unit_ids in by_role.items()
        for unit_id, users in unit_role_holders(unit_ids, [role], day).items()
    }


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


def _report_reminders(day: date, kind: str, stages: frozenset[str], *, escalate: bool) -> Iterator[Reminder]:
    cases = {
        case.pk: case
        for case in PromotionCase.objects.filter(stage__in=stages).select_related("member", "branch").order_by("pk")
    }
    groups: dict[_Group, list[PromotionCase]] = defaultdict(list)
    for case_id, reports in due_reports(cases.values(), day).items():
        case = cases[case_id]
        for report in reports:
            if report.kind != kind:
                continue
            for level in _levels(report, day):
                if escalate or level == BRANCH:
                    groups[_Group(level, case.branch_id, report.period, report.due_on)].append(case)
    if not groups:
        return
    branches = {case.branch_id: case.branch for group in groups.values() for case in group}
    reviewers = _reviewers_unit(branches.values())
    counties = _counties(branches.values())

    def target(group: _Group) -> tuple[Organization, str]:
        branch = branches[group.branch_id]
        if group.level == BRANCH:
            return branch, Role.BRANCH_SECRETARY
        if group.level == TOWNSHIP:
            return reviewers[branch.pk]
        return counties[branch.path], Role.COUNTY_STAFF

    holders = _holders((target(group) for group in groups), day)
    for group, group_cases in groups.items():
        unit, role = target(group)
        recipients = holders.get((unit.pk, role))
        if not recipients:
            continue
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
            recipients=frozenset(recipients),
            kind=NotificationKind.PROMOTION,
            key=f"promotion-{kind}:{group.level}:{group.branch_id}:{group.period:%Y-%m}",
            subject=subject,
            body=body,
            link=reverse("promotion:board", kwargs={"branch_pk": group.branch_id}),
        )


def follow_up_reports(day: date) -> Iterator[Reminder]:
    return _report_reminders(day, "follow_up", FOLLOW_UP_STAGES, escalate=True)


def cultivation_reports(day: date) -> Iterator[Reminder]:
    return _report_reminders(day, "cultivation", CULTIVATION_STAGES, escalate=False)


# --- publicity over, review waiting --------------------------------------------------------------


def publicity_ended(day: date) -> Iterator[Reminder]:
    """Rounds whose publicity has ended with every objection resolved: submit them for review."""
    unresolved = blocking_objections(OuterRef("pk"), OuterRef("branch_id"))
    rounds = list(
        PromotionRound.objects.filter(stage=RoundStage.PUBLICITY, publicity_ends_on__lt=day)
        .exclude(Exists(unresolved))
        .select_related("branch")
    )
    holders = unit_role_holders({r.branch_id for r in rounds}, [Role.BRANCH_SECRETARY], day)
    for round in rounds:
        if round.branch_id not in holders:
            continue
        yield Reminder(
            recipients=frozenset(holders[round.branch_id]),
            kind=NotificationKind.PROMOTION,
            key=f"promotion-publicity-ended:{round.pk}",
            subject=_("Publicity of “%(round)s” ended on %(day)s: submit it for review")
            % {"round": round.title, "day": round.publicity_ends_on.isoformat()},
            body=_("No objection is waiting to be resolved."),
            link=reverse("promotion:round", kwargs={"pk": round.pk}),
        )


def review_waiting(day: date) -> Iterator[Reminder]:
    """Cases waiting for review longer than the configured days: the reviewing committee's staff, once
    per committee for the cases submitted on the same day (a case resubmitted later waits afresh)."""
    waited = settings.PROMOTION_RULES["review_waiting_days"]
    cases = [
        case
        for case in PromotionCase.objects.filter(stage=Stage.IN_REVIEW).select_related("member", "branch")
        if (day - timezone.localtime(case.stage_since).date()).days > waited
    ]
    if not cases:
        return
    reviewers = _reviewers_unit({case.branch_id: case.branch for case in cases}.values())
    groups: dict[tuple[tuple[Organization, str], date], list[PromotionCase]] = defaultdict(list)
    for case in cases:
        groups[(reviewers[case.branch_id], timezone.localtime(case.stage_since).date())].append(case)
    holders = _holders((target for target, _since in groups), day)
    for ((unit, role), since), group in groups.items():
        recipients = holders.get((unit.pk, role))
        if not recipients:
            continue
        yield Reminder(
            recipients=frozenset(recipients),
            kind=NotificationKind.PROMOTION,
            key=f"promotion-review-waiting:{unit.pk}:{since:%Y-%m-%d}",
            subject=_("%(n)d cases have waited for review since %(day)s") % {"n": len(group), "day": since.isoformat()},
            body=_names(group),
            link=reverse("promotion:review-queue"),
        )


register(Rule("promotion_follow_up", gettext_lazy("推优: monthly follow-up reports"), follow_up_reports))
register(Rule("promotion_cultivation", gettext_lazy("推优: quarterly cultivation reports"), cultivation_reports))
register(Rule("promotion_publicity_ended", gettext_lazy("推优: publicity ended, to submit"), publicity_ended))
register(Rule("promotion_review_waiting", gettext_lazy("推优: cases waiting for review"), review_waiting))
