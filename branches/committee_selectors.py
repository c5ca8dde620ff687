"""Reads about committees, their terms and their cadres (团干部), shaped for pages, reminders and
reports, each in a constant number of queries.

Rules: domain.md §2.3 (committee composition), §2.4 (terms), §0 (the county's own cadre norms: the
1+1+3 township committee, ≥ 50% from outside the establishment, cadres ≤ 35 or 40 by exception).
The norms are warnings for people to act on, never refusals: real committees break them for a while
(someone resigns, a co-option waits for the next congress), and the record must still be kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import (
    BRANCH_KINDS,
    STAFF_ROLES,
    Cadre,
    CommitteePost,
    CommitteeSeat,
    CommitteeTerm,
    Education,
    Employment,
    Establishment,
    Organization,
    OrganizationKind,
    Role,
    Sector,
    Sex,
    User,
    add_years,
    subtree_filter,
)
from branches.scope import user_scope
from branches.selectors import get_unit_for_records
from members.models import Member, MemberStatus, years_between

# --- term arithmetic -----------------------------------------------------------------------------

# Grassroots committees and the county committee serve committee terms; the rest are branches.
COMMITTEE_TERM_KINDS = frozenset(
    {OrganizationKind.COUNTY, OrganizationKind.TOWNSHIP, OrganizationKind.STREET, OrganizationKind.GRASSROOTS}
)
MAX_TERM_YEARS = 10  # a sanity bound on typed lengths; the sources give 1 to 5 years


def default_term_years(unit: Organization) -> int:
    """The configured term length for the unit (domain.md §2.4, conflicting sources: §10.3).

    Student branches serve one year because their members change classes every year; a school's
    general branch (a grade, a department) keeps the ordinary branch length, as the newer election
    text gives the one-year term to student *branches* only."""
    rules = settings.LEAGUE_RULES
    if unit.kind in BRANCH_KINDS:
        return rules["term_years_student_branch"] if unit.sector == Sector.SCHOOL else rules["term_years_branch"]
    if unit.kind in COMMITTEE_TERM_KINDS:
        return rules["term_years_committee"]
    return rules["term_years_branch"]  # general branches


class TermStatus:
    """Where a unit's current term stands on a day (values are used in URLs)."""

    OVERDUE = "overdue"
    SOON = "soon"
    OK = "ok"
    NONE = "none"

    LABELS = {
        OVERDUE: gettext_lazy("Overdue for election"),
        SOON: gettext_lazy("Election due soon"),
        OK: gettext_lazy("In term"),
        NONE: gettext_lazy("No term recorded"),
    }
    CHOICES = list(LABELS.items())


def notice_days() -> int:
    return settings.LEAGUE_RULES["term_notice_days"]


def term_status(due_on: date | None, day: date) -> str:
    """Overdue: the current term should have ended before `day`; soon: it ends within the notice
    period (the end day included)."""
    if due_on is None:
        return TermStatus.NONE
    if due_on < day:
        return TermStatus.OVERDUE
    if due_on <= day + timedelta(days=notice_days()):
        return TermStatus.SOON
    return TermStatus.OK


def status_filter(status: str, day: date, field: str = "due_on") -> Q:
    """The same statuses as a filter, for a queryset annotated with the current term's end day."""
    last_soon = day + timedelta(days=notice_days())
    return {
        TermStatus.OVERDUE: Q(**{f"{field}__lt": day}),
        TermStatus.SOON: Q(**{f"{field}__gte": day, f"{field}__lte": last_soon}),
        TermStatus.OK: Q(**{f"{field}__gt": last_soon}),
        TermStatus.NONE: Q(**{f"{field}__isnull": True}),
    }[status]


# --- who may see and do what ------------------------------------------------------------------


def _is_own_secretary(user: User, unit: Organization) -> bool:
    """The secretary (or their deputy) of this very branch or general branch. A general branch's
    secretary does not run the elections of the branches under it: those are the branches' own
    business, checked by the committee above."""
    if unit.kind not in BRANCH_KINDS and unit.kind != OrganizationKind.GENERAL_BRANCH:
        return False
    return any(a.role == Role.BRANCH_SECRETARY and a.organization_id == unit.pk for a in user_scope(user).assignments)


def may_manage_committee(user: User, unit: Organization) -> bool:
    """Staff over the unit; for a branch or general branch also its own secretary (or their deputy)."""
    return user_scope(user).manages(unit) or _is_own_secretary(user, unit)


def may_grant_age_exception(user: User, unit: Organization) -> bool:
    """An age exception silences the over-age warning, so the unit's own people do not grant it to
    themselves: only staff above the unit (for the county committee, the county's staff)."""
    return user_scope(user).oversees(unit)


# How long the secretary who recorded a branch's term may still correct a typo in it.
SECRETARY_CORRECTION_DAYS = 30


def may_correct_term(user: User, term: CommitteeTerm) -> bool:
    """Staff above the unit; the branch's own secretary only for a term recorded in the last days
    (a typo found at once, not history rewritten later)."""
    unit = term.organization
    if user_scope(user).oversees(unit):
        return True
    recent = term.created_at >= timezone.now() - timedelta(days=SECRETARY_CORRECTION_DAYS)
    return recent and _is_own_secretary(user, unit)


def get_committee_unit_for_user(user: User, pk: int, *, manage: bool = False) -> Organization:
    """The unit whose committee the user works with: committees are about people, so seen through
    League roles like member records (404 outside the record scope, as missing); 403 where `manage`
    is asked and the user may only look."""
    unit = get_unit_for_records(user, pk)
    if manage and not may_manage_committee(user, unit):
        raise PermissionDenied
    return unit


def get_cadre_for_user(user: User, pk: int, *, manage: bool = False) -> Cadre:
    cadre = get_object_or_404(Cadre.objects.visible_to(user).select_related("organization", "member"), pk=pk)
    if manage and not may_manage_committee(user, cadre.organization):
        raise PermissionDenied
    return cadre


def get_term_for_user(user: User, pk: int, *, correct: bool = False) -> CommitteeTerm:
    term = get_object_or_404(CommitteeTerm.objects.visible_to(user).select_related("organization"), pk=pk)
    if correct and not may_correct_term(user, term):
        raise PermissionDenied
    return term


def get_seat_for_user(user: User, pk: int, *, manage: bool = False) -> CommitteeSeat:
    seat = get_object_or_404(
        CommitteeSeat.objects.visible_to(user).select_related("term__organization", "cadre"), pk=pk
    )
    if manage and not may_manage_committee(user, seat.term.organization):
        raise PermissionDenied
    return seat


def require_staff(user: User) -> None:
    """The county-wide lists are for committee staff: 403 for everyone else."""
    if not user_scope(user).has_role(*STAFF_ROLES):
        raise PermissionDenied


def staff_units(user: User) -> QuerySet[Organization]:
    """Active units under the user's staff roles: what the lists and statistics cover."""
    return Organization.objects.filter(subtree_filter(user_scope(user).managed_paths)).active()


# --- ages -----------------------------------------------------------------------------------------


def age_on(birth_date: date, day: date) -> int:
    return years_between(birth_date, day)


def over_age_q(day: date) -> Q:
    """Cadres over the norm on `day`: past the usual limit without a recorded exception, or past
    the exceptional limit at all. "Over 35" means 36 or older: born on or before the day 36 years
    back (29 February falls back to the 28th, which years_between agrees with)."""
    rules = settings.LEAGUE_RULES
    past_usual = Q(birth_date__lte=add_years(day, -(rules["cadre_max_age"] + 1)))
    past_exception = Q(birth_date__lte=add_years(day, -(rules["cadre_max_age_exception"] + 1)))
    return (past_usual & Q(age_exception="")) | past_exception


def age_warning(cadre: Cadre, day: date) -> str | None:
    """Why the cadre's age breaks the norm on `day`, if it does."""
    rules = settings.LEAGUE_RULES
    age = age_on(cadre.birth_date, day)
    if age > rules["cadre_max_age_exception"]:
        return _("%(name)s is %(age)d: cadres serve up to %(limit)d years old even with an exception.") % {
            "name": cadre.name,
            "age": age,
            "limit": rules["cadre_max_age_exception"],
        }
    if age > rules["cadre_max_age"] and not cadre.age_exception:
        return _(
            "%(name)s is %(age)d: cadres are at most %(max)d years old unless an exception "
            "(up to %(limit)d) is recorded."
        ) % {"name": cadre.name, "age": age, "max": rules["cadre_max_age"], "limit": rules["cadre_max_age_exception"]}
    return None


# --- the norms (warnings) -------------------------------------------------------------------------

POST_ORDER = {post: index for index, post in enumerate(CommitteePost.values)}  # secretary first


def ordered_seats(seats: Iterable[CommitteeSeat]) -> list[CommitteeSeat]:
    return sorted(seats, key=lambda s: (POST_ORDER.get(s.post, len(POST_ORDER)), s.since, s.pk))


def _active_members_subquery() -> Coalesce:
    counts = (
        Member.objects.filter(branch=OuterRef("organization"), status=MemberStatus.ACTIVE)
        .order_by()
        .values("branch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def with_norm_data(terms: QuerySet[CommitteeTerm], day: date) -> QuerySet[CommitteeTerm]:
    """Terms with everything `committee_warnings` reads, for any number of terms in three queries:
    the unit, the unit's active members, and the seats held on `day` with their cadres."""
    return (
        terms.select_related("organization")
        .annotate(active_members=_active_members_subquery())
        .prefetch_related(
            Prefetch(
                "seats",
                queryset=CommitteeSeat.objects.held_on(day).select_related("cadre"),
                to_attr="seats_on_day",
            )
        )
    )


def seats_on_day(term: CommitteeTerm, day: date) -> list[CommitteeSeat]:
    seats = getattr(term, "seats_on_day", None)
    if seats is None:  # not loaded through with_norm_data
        seats = list(term.seats.held_on(day).select_related("cadre"))
    return ordered_seats(seats)


def committee_warnings(term: CommitteeTerm, day: date) -> list[str]:
    """Where the committee, as it stands on `day`, breaks the League's or the county's norms.
    Load terms through `with_norm_data(…, day)` to read many without a query each."""
    unit = term.organization
    seats = seats_on_day(term, day)
    size = len(seats)
    posts = Counter(seat.post for seat in seats)
    warnings: list[str] = []
    if posts[CommitteePost.SECRETARY] == 0:
        warnings.append(_("The committee has no secretary."))
    elif posts[CommitteePost.SECRETARY] > 1:
        warnings.append(
            _("The committee has %(n)d secretaries; it should have one.") % {"n": posts[CommitteePost.SECRETARY]}
        )
    deputies = posts[CommitteePost.DEPUTY_SECRETARY]
    if unit.kind in BRANCH_KINDS:
        warnings += _branch_size_warnings(term, unit, size)
    elif unit.kind == OrganizationKind.GENERAL_BRANCH:
        # §2.3 (选举规则 Art. 15): 5–7 people, one secretary, one or two deputies.
        warnings += _size_warnings(size, 5, 7, _("A general branch committee"))
        if deputies > 2:
            warnings.append(
                _("A general branch has at most 2 deputy secretaries; this one has %(n)d.") % {"n": deputies}
            )
    elif unit.kind == OrganizationKind.GRASSROOTS:
        # §2.3 (Art. 17): without a standing committee, 7–9 people and one to three deputies.
        warnings += _size_warnings(size, 7, 9, _("A grassroots committee"))
        if deputies > 3:
            warnings.append(
                _("A grassroots committee has at most 3 deputy secretaries; this one has %(n)d.") % {"n": deputies}
            )
    elif unit.kind in (OrganizationKind.TOWNSHIP, OrganizationKind.STREET):
        warnings += _township_warnings(seats)
    for seat in seats:
        warning = age_warning(seat.cadre, day)
        if warning:
            warnings.append(warning)
    return warnings


def _size_warnings(size: int, low: int, high: int, body: str) -> list[str]:
    if low <= size <= high:
        return []
    return [
        _("%(body)s has %(low)d to %(high)d people; this one has %(n)d.")
        % {"body": body, "low": low, "high": high, "n": size}
    ]


def _branch_size_warnings(term: CommitteeTerm, unit: Organization, size: int) -> list[str]:
    """§2.3 (支部工作条例): a branch of 7 or more members elects a committee of 3–5 people, generally
    at most 7; a smaller branch may have a secretary alone."""
    members = getattr(term, "active_members", None)
    if members is None:
        members = Member.objects.active().filter(branch=unit).count()
    if members >= 7 and size < 3:
        return [
            _("A branch of %(members)d members elects a committee of 3 to 5 people; this one has %(n)d.")
            % {"members": members, "n": size}
        ]
    if size > 7:
        return [_("A branch committee has at most 7 people; this one has %(n)d.") % {"n": size}]
    return []


def _township_warnings(seats: Sequence[CommitteeSeat]) -> list[str]:
    """The county's own 1+1+3 model for township and street committees (domain.md §0): a secretary,
    at least one part-time deputy secretary and at least three members, with at least half of the
    cadres from outside the establishment. It is preferred to §2.3's "9–21" (选举规则 Art. 17), which
    describes congress-elected committees: §0 says that what our users do wins, and the county's
    township committees are five or six people."""
    warnings = []
    part_time_deputies = sum(
        1 for s in seats if s.post == CommitteePost.DEPUTY_SECRETARY and s.cadre.employment == Employment.PART_TIME
    )
    others = sum(1 for s in seats if s.post not in (CommitteePost.SECRETARY, CommitteePost.DEPUTY_SECRETARY))
    if part_time_deputies == 0:
        warnings.append(
            _("A township committee has a part-time deputy secretary (the county's 1+1+3); this one has none.")
        )
    if others < 3:
        warnings.append(
            _(
                "A township committee has at least 3 members besides the secretaries (the county's 1+1+3); this one has %(n)d."
            )
            % {"n": others}
        )
    outside = sum(1 for s in seats if s.cadre.establishment == Establishment.OUTSIDE)
    if seats and outside * 2 < len(seats):
        warnings.append(
            _(
                "At least half of a township committee's cadres come from outside the establishment; here %(outside)d of %(n)d."
            )
            % {"outside": outside, "n": len(seats)}
        )
    return warnings


# --- one committee's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class TermView:
    term: CommitteeTerm
    seats: list[CommitteeSeat]
    status: str


def committee_terms(unit: Organization, day: date) -> tuple[TermView | None, list[TermView], list[str]]:
    """The current term (its seats held on `day`), the past terms with all their seats, and the
    current committee's warnings: four queries however long the history."""
    terms = list(
        with_norm_data(CommitteeTerm.objects.filter(organization=unit), day)
        .prefetch_related(Prefetch("seats", queryset=CommitteeSeat.objects.select_related("cadre")))
        .order_by("-starts_on", "-pk")
    )
    current = next((t for t in terms if t.is_current), None)
    past = [TermView(t, ordered_seats(t.seats.all()), "") for t in terms if not t.is_current]
    if current is None:
        return None, past, []
    view = TermView(current, seats_on_day(current, day), term_status(current.due_on, day))
    return view, past, committee_warnings(current, day)


def current_term(unit: Organization) -> CommitteeTerm | None:
    return CommitteeTerm.objects.current().filter(organization=unit).first()


def committee_history(unit: Organization, limit: int = 50) -> list[LogEntry]:
    """Audit entries of the unit's terms, seats and cadre records, newest first (four queries)."""
    term_ids = [str(pk) for pk in CommitteeTerm.objects.filter(organization=unit).values_list("pk", flat=True)]
    seat_ids = [str(pk) for pk in CommitteeSeat.objects.filter(term__organization=unit).values_list("pk", flat=True)]
    cadre_ids = [str(pk) for pk in Cadre.objects.filter(organization=unit).values_list("pk", flat=True)]
    types = ContentType.objects.get_for_models(CommitteeTerm, CommitteeSeat, Cadre)
    condition = (
        Q(content_type=types[CommitteeTerm], object_pk__in=term_ids)
        | Q(content_type=types[CommitteeSeat], object_pk__in=seat_ids)
        | Q(content_type=types[Cadre], object_pk__in=cadre_ids)
    )
    return list(
        LogEntry.objects.filter(condition).select_related("actor", "content_type").order_by("-timestamp")[:limit]
    )


def cadre_seats(cadre: Cadre) -> list[CommitteeSeat]:
    """Every post the cadre has held, newest first, with the term and unit."""
    return list(cadre.seats.select_related("term__organization").order_by("-since", "-pk"))


def roster_for(unit: Organization) -> QuerySet[Member]:
    """Members a cadre of the unit may be picked from: the active members of a branch, or of the
    branches under a general branch. Committees above pick cadres by name: their rosters run to
    thousands and their cadres are mostly not members of one branch."""
    if unit.kind not in BRANCH_KINDS and unit.kind != OrganizationKind.GENERAL_BRANCH:
        return Member.objects.none()
    return Member.objects.active().filter(branch__path__startswith=unit.path).order_by("name", "pk")


# --- the county-wide lists ------------------------------------------------------------------------


def committee_units(user: User) -> QuerySet[Organization]:
    """Active units under the user's staff roles, each with its current term's id and dates (one row
    per unit: a unit has one current term at most)."""
    return (
        staff_units(user)
        .annotate(current=FilteredRelation("committee_terms", condition=Q(committee_terms__ended_on__isnull=True)))
        .annotate(term_id=F("current__id"), term_starts_on=F("current__starts_on"), term_due_on=F("current__due_on"))
    )


def term_status_counts(units: QuerySet[Organization], day: date) -> dict[str, int]:
    """How many of `committee_units` stand at each status on `day` (one aggregate query)."""
    return units.aggregate(
        **{status: Count("pk", filter=status_filter(status, day, "term_due_on")) for status in TermStatus.LABELS}
    )


@dataclass(frozen=True)
class TermRow:
    unit: Organization
    township: Organization | None
    term: CommitteeTerm | None
    status: str
    secretary: str
    warnings: list[str]


def term_rows(units: Sequence[Organization], day: date) -> list[TermRow]:
    """One page of `committee_units`, with each current term's secretary and warnings and each
    unit's township: three queries for the page, whatever its length."""
    term_ids = [u.term_id for u in units if u.term_id]
    terms = {t.organization_id: t for t in with_norm_data(CommitteeTerm.objects.filter(pk__in=term_ids), day)}
    township_paths = {u.path[: 2 * Organization.steplen] for u in units if u.depth > 2}
    townships = {t.path: t for t in Organization.objects.filter(path__in=township_paths)}
    rows = []
    for unit in units:
        term = terms.get(unit.pk)
        secretary = ""
        warnings: list[str] = []
        if term is not None:
            seats = seats_on_day(term, day)
            secretary = "、".join(s.cadre.name for s in seats if s.post == CommitteePost.SECRETARY)
            warnings = committee_warnings(term, day)
        rows.append(
            TermRow(
                unit=unit,
                township=townships.get(unit.path[: 2 * Organization.steplen]),
                term=term,
                status=term_status(unit.term_due_on, day),
                secretary=secretary,
                warnings=warnings,
            )
        )
    return rows


def township_choices(user: User) -> QuerySet[Organization]:
    """Township-level committees the lists can be narrowed to."""
    return staff_units(user).filter(
        kind__in=[OrganizationKind.TOWNSHIP, OrganizationKind.STREET, OrganizationKind.GRASSROOTS]
    )


def current_post_subquery(day: date) -> Subquery:
    """The post a cadre holds on `day` on a current term (a cadre sits on one committee: the one of
    the unit that recorded them)."""
    seats = (
        CommitteeSeat.objects.held_on(day)
        .filter(cadre=OuterRef("pk"), term__ended_on__isnull=True)
        .order_by("since")
        .values("post")[:1]
    )
    return Subquery(seats)


def cadres_in_scope(user: User, day: date) -> QuerySet[Cadre]:
    """Cadre records of the units under the user's staff roles, with the post held on `day`."""
    paths = user_scope(user).managed_paths
    post_rank = Case(
        *(When(current_post=post, then=rank) for post, rank in POST_ORDER.items()), default=len(POST_ORDER)
    )
    return (
        Cadre.objects.filter(subtree_filter(paths, "organization__path"), organization__dissolved_on__isnull=True)
        .select_related("organization")
        .annotate(current_post=current_post_subquery(day))
        .order_by("organization__path", post_rank, "name", "pk")  # unit by unit, the secretary first
    )


# --- cadre statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    label: str
    count: int
    share: float  # of all cadres counted, 0..1


@dataclass(frozen=True)
class CadreStatistics:
    day: date
    count: int
    average_age: float | None
    over_age: int
    sex: list[Split]
    education: list[Split]
    employment: list[Split]
    establishment: list[Split]


SPLITS = {"sex": Sex, "education": Education, "employment": Employment, "establishment": Establishment}


def cadres_holding_posts(units: QuerySet[Organization], day: date) -> QuerySet[Cadre]:
    """Each person once who holds a seat on `day` on a term of these units that was current that day
    (started by then, not yet ended: on an election day the new committee counts, not the old).

    A member may be recorded by several committees (a township's deputy secretary who is also her
    branch's secretary): she counts once, through the record of the highest of them (the township's
    knows her employment there), the oldest first. A cadre who is not a member is their record."""
    seats = (
        CommitteeSeat.objects.held_on(day)
        .filter(term__organization__in=units, term__starts_on__lte=day)
        .filter(Q(term__ended_on__isnull=True) | Q(term__ended_on__gt=day))
    )
    holding = Cadre.objects.filter(pk__in=seats.values("cadre_id"))
    first_record = holding.filter(member=OuterRef("member")).order_by("organization__depth", "pk").values("pk")[:1]
    return holding.filter(Q(member__isnull=True) | Q(pk=Subquery(first_record)))


def cadre_statistics(units: QuerySet[Organization], day: date) -> CadreStatistics:
    """The figures the county reports on its cadres (domain.md §0) for the cadres of `units` on
    `day`: one aggregate query, whatever the number of units or cadres."""
    age = ExpressionWrapper(Value(day, output_field=DateField()) - F("birth_date"), output_field=DurationField())
    aggregates = {"count": Count("pk"), "age": Avg(age), "over_age": Count("pk", filter=over_age_q(day))}
    for field, choices in SPLITS.items():
        for value in choices.values:
            aggregates[f"{field}:{value}"] = Count("pk", filter=Q(**{field: value}))
    row = cadres_holding_posts(units, day).aggregate(**aggregates)
    count = row["count"]

    def split(field: str) -> list[Split]:
        return [
            Split(str(label), row[f"{field}:{value}"], row[f"{field}:{value}"] / count if count else 0.0)
            for value, label in SPLITS[field].choices
        ]

    average_age = row["age"].total_seconds() / 86400 / 365.2425 if row["age"] is not None else None
    return CadreStatistics(
        day=day,
        count=count,
        average_age=average_age,
        over_age=row["over_age"],
        **{field: split(field) for field in SPLITS},
    )
