"""Who may be recommended (推优), rule by rule (domain.md §6.2; locality settings in PROMOTION_RULES).

Eligibility is checked and explained, never silently applied: every rule gives a line saying what was
found, and the services decide what a failing rule means (refused, unless the county allows an
exception with a reason; a short wait since the Party application passes with a written reason).
The facts a check needs (registration, last year's grade, open sanctions, posts and honours) are read
as annotations, so a whole branch is checked in a fixed number of queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from branches.honour_selectors import with_priority
from branches.models import Honour
from members.models import (
    Evaluation,
    EvaluationGrade,
    LeaguePost,
    Member,
    Registration,
    Sanction,
    SanctionKind,
    years_between,
)
from promotion.models import PromotionCase, Track
from promotion.workdays import add_months, month_end, months_between

# The rule a written reason (not an exception) lets pass: a Party application more recent than usual.
SHORT_WAIT_RULE = "application_wait"
SHARE_CAP_RULE = "share_cap"
GRADE_ORDER = list(EvaluationGrade.values)  # best first


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Eligibility:
    checks: tuple[RuleCheck, ...]
    priority_reasons: tuple[str, ...] = ()

    @property
    def failing(self) -> list[RuleCheck]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.failing

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_reasons)

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.checks]


def with_facts(members: QuerySet[Member], day: date) -> QuerySet[Member]:
    """Members annotated with what the rules need on `day` (two queries however many members)."""
    sanctions = Sanction.objects.open_on(day).filter(member=OuterRef("pk")).order_by("imposed_on")
    # is_cadre and is_honoured: the priority marks shared with the honours pages.
    return (
        with_priority(members, on=day)
        .annotate(
            registered_this_year=Exists(Registration.objects.filter(member=OuterRef("pk"), year=day.year)),
            last_years_grade=Subquery(
                Evaluation.objects.filter(member=OuterRef("pk"), year=day.year - 1).values("grade")[:1]
            ),
            open_sanction_kind=Subquery(sanctions.values("kind")[:1]),
            open_sanction_since=Subquery(sanctions.values("imposed_on")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "honours",
                queryset=Honour.objects.current().select_related("title").order_by("-year", "pk"),
                to_attr="current_honours",
            )
        )
    )


def check(case: PromotionCase, day: date) -> Eligibility:
    """The case's member against every rule on `day`."""
    member = with_facts(Member.objects.filter(pk=case.member_id), day).get()
    return check_member(
        member,
        track=case.track,
        party_applied_on=case.party_applied_on,
        month_only=case.party_applied_month_only,
        activist_since=case.activist_since,
        day=day,
    )


def check_member(
    member: Member,
    *,
    track: str,
    party_applied_on: date | None,
    month_only: bool = False,
    activist_since: date | None = None,
    day: date,
) -> Eligibility:
    """`member` must come from `with_facts(…, day)`. Without a Party application the application rule
    fails: a case (which records the application) is opened first."""
    rules = settings.PROMOTION_RULES
    checks = [
        _age(member, day, rules["min_age"]),
        _league_years(member, day, rules["min_league_years"]),
        _application(party_applied_on, month_only, day, rules["application_wait_months"]),
        _active_and_registered(member, day),
        _evaluation(member, day, rules["min_evaluation_grade"]),
        _sanction(member),
    ]
    if track == Track.DEVELOPMENT:
        checks.append(_activist(activist_since, day, rules["activist_years"]))
    return Eligibility(checks=tuple(checks), priority_reasons=tuple(priority_reasons(member)))


def share_cap(active_members: int) -> int:
    """How many of a branch's active members one round may list. Rounded down, on purpose: "no more
    than 20%" is a ceiling, so a branch of 4 members lists nobody without the county's exception,
    rather than the rule being stretched to let a quarter of it through."""
    return math.floor(active_members * settings.PROMOTION_RULES["share_cap"] + 1e-9)


def share_cap_check(*, listed: int, active_members: int) -> RuleCheck:
    """`listed`: the nominees the round would have, counting the one being listed."""
    cap = share_cap(active_members)
    figures = {
        "n": listed,
        "cap": cap,
        "members": active_members,
        "share": round(settings.PROMOTION_RULES["share_cap"] * 100),
    }
    if listed <= cap:
        return RuleCheck(
            SHARE_CAP_RULE,
            True,
            _("Nominee %(n)d of at most %(cap)d (%(share)d%% of %(members)d active members).") % figures,
        )
    return RuleCheck(
        SHARE_CAP_RULE,
        False,
        _(
            "A round may list at most %(cap)d of the branch's %(members)d active members (%(share)d%%, rounded "
            "down); this would be nominee %(n)d."
        )
        % figures,
    )


def priority_reasons(member: Member) -> list[str]:
    """Cadres and honoured members are priority candidates (domain.md §0), with what makes them so."""
    reasons = []
    if member.league_post:
        reasons.append(_("League post: %(post)s") % {"post": LeaguePost(member.league_post).label})
    elif member.is_cadre:
        reasons.append(_("Holds a committee seat"))
    reasons.extend(
        _("Honour: %(year)d %(title)s") % {"year": honour.year, "title": honour.title.name}
        for honour in member.current_honours
    )
    return reasons


# --- the rules ------------------------------------------------------------------------------------


def _age(member: Member, day: date, minimum: int) -> RuleCheck:
    age = member.age_on(day)
    if age >= minimum:
        return RuleCheck("age", True, _("Aged %(age)d (at least %(min)d).") % {"age": age, "min": minimum})
    return RuleCheck("age", False, _("Aged %(age)d: under %(min)d.") % {"age": age, "min": minimum})


def _league_years(member: Member, day: date, minimum: int) -> RuleCheck:
    years = years_between(member.joined_on, day)
    figures = {"day": member.joined_on.isoformat(), "years": years, "min": minimum}
    if years >= minimum:
        return RuleCheck(
            "league_years", True, _("Joined the League on %(day)s: %(years)d years (at least %(min)d).") % figures
        )
    return RuleCheck(
        "league_years", False, _("Joined the League on %(day)s: under %(min)d years of League age.") % figures
    )


def _application(applied_on: date | None, month_only: bool, day: date, wait_months: int) -> RuleCheck:
    if applied_on is None:
        return RuleCheck(SHORT_WAIT_RULE, False, _("No Party application recorded: open a 推优 case first."))
    # With only the month known, the wait counts from the month's last day: the application is at
    # least that old whatever day it was handed in.
    counted_from = month_end(applied_on) if month_only else applied_on
    shown = f"{applied_on:%Y-%m}" if month_only else applied_on.isoformat()
    months = max(months_between(counted_from, day), 0)
    figures = {"day": shown, "months": months, "min": wait_months}
    if add_months(counted_from, wait_months) <= day:
        return RuleCheck(
            SHORT_WAIT_RULE,
            True,
            _("Party application on %(day)s: %(months)d months ago (at least %(min)d).") % figures,
        )
    return RuleCheck(
        SHORT_WAIT_RULE,
        False,
        _(
            "Party application on %(day)s: only %(months)d months ago (usually at least %(min)d; a shorter wait needs a written reason)."
        )
        % figures,
    )


def _active_and_registered(member: Member, day: date) -> RuleCheck:
    if not member.is_active:
        return RuleCheck(
            "registered", False, _("Not an active member (%(status)s).") % {"status": member.get_status_display()}
        )
    if member.registered_this_year:
        return RuleCheck("registered", True, _("Active, registered for %(year)d.") % {"year": day.year})
    return RuleCheck("registered", False, _("Not registered for %(year)d.") % {"year": day.year})


def _evaluation(member: Member, day: date, minimum: str) -> RuleCheck:
    year = day.year - 1
    grade = member.last_years_grade
    figures = {"year": year, "min": EvaluationGrade(minimum).label}
    if grade is None:
        return RuleCheck("evaluation", False, _("No evaluation grade recorded for %(year)d.") % figures)
    figures["grade"] = EvaluationGrade(grade).label
    if GRADE_ORDER.index(grade) <= GRADE_ORDER.index(minimum):
        return RuleCheck("evaluation", True, _("Graded %(grade)s in %(year)d (at least %(min)s).") % figures)
    return RuleCheck("evaluation", False, _("Graded %(grade)s in %(year)d: below %(min)s.") % figures)


def _sanction(member: Member) -> RuleCheck:
    if member.open_sanction_kind is None:
        return RuleCheck("sanction", True, _("No open sanction."))
    return RuleCheck(
        "sanction",
        False,
        _("Open sanction: %(kind)s since %(day)s.")
        % {"kind": SanctionKind(member.open_sanction_kind).label, "day": member.open_sanction_since.isoformat()},
    )


def _activist(activist_since: date | None, day: date, minimum: int) -> RuleCheck:
    if activist_since is None:
        return RuleCheck("activist_years", False, _("No date recorded for becoming a Party activist."))
    years = years_between(activist_since, day)
    figures = {"day": activist_since.isoformat(), "min": minimum}
    if years >= minimum:
        return RuleCheck("activist_years", True, _("Party activist since %(day)s (at least %(min)d years).") % figures)
    return RuleCheck("activist_years", False, _("Party activist since %(day)s: under %(min)d years.") % figures)
