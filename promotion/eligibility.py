"""Who may be recommended (推优), rule by rule (domain.md §6.2; locality settings in PROMOTION_RULES).

Eligibility is checked and explained, never silently applied: every rule gives a line saying what was
found, and the services decide what a failing rule means (refused, unless the county allows an
exception with a reason; a short wait since the Party application passes with a written reason).
The facts a check needs (registration, last year's grade, open sanctions, posts and honours) are read
as annotations, so a whole branch is checked in a fixed number of queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
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
from promotion.models import Nomination, PromotionCase, Track
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


def with_facts(members: QuerySet[Member], day: date, *, year: int | None = None) -> QuerySet[Member]:
    """Members annotated with what the rules need on `day` (two queries however many members): the
    registration of `year` (by default the day's) and the grade of the year before it."""
    year = year or day.year
    sanctions = Sanction.objects.open_on(day).filter(member=OuterRef("pk")).order_by("imposed_on")
    # is_cadre and is_honoured: the priority marks shared with the honours pages.
    return (
        with_priority(members, on=day)
        .annotate(
            registered_this_year=Exists(Registration.objects.filter(member=OuterRef("pk"), year=year)),
            last_years_grade=Subquery(
                Evaluation.objects.filter(member=OuterRef("pk"), year=year - 1).values("grade")[:1]
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
    return check_cases([case], day)[case.pk]


def check_cases(cases: Iterable[PromotionCase], day: date, *, year: int | None = None) -> dict[int, Eligibility]:
    """Case id → its member against every rule on `day` (two queries however many cases); `year` as
    in with_facts."""
    cases = list(cases)
    members = with_facts(Member.objects.filter(pk__in={c.member_id for c in cases}), day, year=year)
    members = {m.pk: m for m in members}
    return {
        case.pk: check_member(
            members[case.member_id],
            track=case.track,
            party_applied_on=case.party_applied_on,
            month_only=case.party_applied_month_only,
            activist_since=case.activist_since,
            day=day,
            year=year,
        )
        for case in cases
    }


def recheck(cases: Iterable[tuple[PromotionCase, Nomination | None]], day: date) -> dict[int, list[RuleCheck]]:
    """Case id → the rules its member fails on `day` that its listing does not excuse (unexcused), for
    cases already listed and voted on, checked again at submission and at approval. The member's status,
    sanctions, age and times are as of `day`; registration and grade are those of the year the case was
    listed in, which the round was built on: a round listed in December and submitted in January is not
    held back by the new year's registration window, nor by an evaluation still under way. Two queries
    per listing year."""
    by_year: dict[int, list[tuple[PromotionCase, Nomination | None]]] = {}
    for case, nomination in cases:
        year = timezone.localtime(nomination.created_at).year if nomination and nomination.created_at else day.year
        by_year.setdefault(year, []).append((case, nomination))
    failing = {}
    for year, pairs in by_year.items():
        results = check_cases([case for case, _nomination in pairs], day, year=year)
        failing.update({case.pk: unexcused(results[case.pk], nomination) for case, nomination in pairs})
    return failing


def unexcused(result: Eligibility, nomination: Nomination | None) -> list[RuleCheck]:
    """The rules failing now that the listing does not excuse: a rule failing when the case was listed
    stays excused by the county's exception recorded then (a short wait since the Party application, by
    its written reason). A rule failing since (the member left, a sanction opened, the leaving age
    reached, a grade corrected below the minimum) is not: nobody has allowed it."""
    if nomination is None:
        return result.failing
    failed_when_listed = {c["rule"] for c in nomination.eligibility if not c.get("ok")}
    excused = set()
    if nomination.exception_reason:
        excused |= failed_when_listed - {SHORT_WAIT_RULE}
    if nomination.short_wait_reason:
        excused.add(SHORT_WAIT_RULE)
    return [c for c in result.failing if c.rule not in excused]


def check_member(
    member: Member,
    *,
    track: str,
    party_applied_on: date | None,
    month_only: bool = False,
    activist_since: date | None = None,
    day: date,
    year: int | None = None,
) -> Eligibility:
    """`member` must come from `with_facts(…, day, year=year)`. Without a Party application the application rule
    fails: a case (which records the application) is opened first."""
    rules = settings.PROMOTION_RULES
    checks = [
        _age(member, day, rules["min_age"]),
        _league_years(member, day, rules["min_league_years"]),
        _application(party_applied_on, month_only, day, rules["application_wait_months"]),
        _active_and_registered(member, year or day.year),
        _evaluation(member, (year or day.year) - 1, rules["min_evaluation_grade"]),
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
    figures = {"age": age, "min": minimum, "max": settings.LEAGUE_RULES["leaving_age"]}
    if age < minimum:
        return RuleCheck("age", False, _("Aged %(age)d: under %(min)d.") % figures)
    # At the leaving age a member without a League post leaves (超龄离团); post holders stay members
    # while in post and go through 推优 like everyone else (domain.md §5.5, §6.1).
    if age >= figures["max"] and not member.league_post:
        return RuleCheck(
            "age",
            False,
            _("Aged %(age)d: has reached the League's leaving age (%(max)d) without a League post.") % figures,
        )
    return RuleCheck("age", True, _("Aged %(age)d (at least %(min)d).") % figures)


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


def _active_and_registered(member: Member, year: int) -> RuleCheck:
    if not member.is_active:
        return RuleCheck(
            "registered", False, _("Not an active member (%(status)s).") % {"status": member.get_status_display()}
        )
    if member.registered_this_year:
        return RuleCheck("registered", True, _("Active, registered for %(year)d.") % {"year": year})
    return RuleCheck("registered", False, _("Not registered for %(year)d.") % {"year": year})


def _evaluation(member: Member, year: int, minimum: str) -> RuleCheck:
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
