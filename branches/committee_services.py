"""Writes to committees: elections (换届) that end one term and start the next, changes during a
term (someone resigns, a deputy is co-opted), corrections of a mistaken term, and cadre records
(团干部). The League post on the member records of the people concerned follows their seats.

Each service checks the actor's right (staff over the unit; for a branch or general branch also its
own secretary or deputy: committee_selectors.may_manage_committee), runs in one transaction and is
audited: the term, seat and cadre models are registered with the audit trail (branches/apps.py), so
every row written here leaves an entry naming the actor. Refusals are ValidationErrors keyed by form
field where there is one; the norms of committee_selectors are warnings and never refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context
from branches.committee_selectors import (
    MAX_TERM_YEARS,
    POST_ORDER,
    age_on,
    default_term_years,
    may_correct_term,
    may_grant_age_exception,
    may_manage_committee,
)
from branches.models import Cadre, CommitteePost, CommitteeSeat, CommitteeTerm, Organization, User
from branches.scope import user_scope
from branches.services import _save_changed_fields, check_unit_active
from members.models import LeaguePost, Member

CADRE_FIELDS = ("name", "sex", "birth_date", "education", "employment", "establishment", "phone", "age_exception")
FROM_MEMBER = ("name", "sex", "birth_date", "education")  # taken from the member record when left blank
REQUIRED = ("name", "sex", "birth_date", "education", "employment", "establishment")


@dataclass(frozen=True)
class SeatInput:
    """One person elected or co-opted: an existing cadre record of the unit, or a new person's
    details (CADRE_FIELDS, and optionally `member`: the person's member record)."""

    post: str
    cadre: Cadre | None = None
    person: dict[str, Any] | None = None


def _check_may_manage(actor: User, unit: Organization) -> None:
    if not may_manage_committee(actor, unit):
        raise PermissionDenied
    check_unit_active(unit)


def _check_age_exception(actor: User, unit: Organization, old: str, new: str) -> None:
    """Only staff above the unit grant or change an age exception (it silences the over-age
    warning: the unit's own people would be certifying themselves)."""
    if new != old and not may_grant_age_exception(actor, unit):
        raise PermissionDenied


def _audit(actor: User, unit: Organization, note: str = ""):
    return audit_context(actor, on_behalf_of=user_scope(actor).principal_for(unit), note=note)


# --- cadre records ------------------------------------------------------------------------------


def complete_cadre_fields(*, actor: User, fields: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """A cadre's details, blanks filled from the linked member record, checked. Forms call this to
    validate a row; services call it again before writing. Raises ValidationError keyed by field."""
    today = today or timezone.localdate()
    completed: dict[str, Any] = {name: fields.get(name) for name in (*CADRE_FIELDS, "member")}
    for name in ("name", "phone", "age_exception"):
        completed[name] = (completed[name] or "").strip()
    errors: dict[str, str] = {}
    member: Member | None = completed["member"]
    if member is not None:
        if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
            errors["member"] = _("Pick a member of a branch in your units.")
        else:
            for name in FROM_MEMBER:
                if completed[name] in (None, ""):
                    completed[name] = getattr(member, name)
    for name in REQUIRED:
        if completed[name] in (None, "") and name not in errors:
            errors[name] = (
                _("Fill this in, or pick the person's member record.")
                if name in FROM_MEMBER
                else _("This field is required.")
            )
    born = completed["birth_date"]
    youngest = settings.LEAGUE_RULES["joining_age"]
    if born and born > today:
        errors["birth_date"] = _("The date of birth cannot be in the future.")
    elif born and age_on(born, today) < youngest:
        errors["birth_date"] = _("A cadre is at least %(age)d years old.") % {"age": youngest}
    if errors:
        raise ValidationError(errors)
    return completed


def _create_cadre(unit: Organization, completed: dict[str, Any]) -> Cadre:
    """A new record, unless the unit already keeps one for this member: a person is recorded once
    and their record follows them from post to post."""
    member = completed.get("member")
    existing = Cadre.objects.filter(organization=unit, member=member).first() if member else None
    return existing or Cadre.objects.create(organization=unit, **completed)


def cadre_update(*, cadre: Cadre, actor: User, **fields: Any) -> Cadre:
    """Correct or complete a cadre's record (education changed, an age exception approved…)."""
    unit = cadre.organization
    _check_may_manage(actor, unit)
    completed = complete_cadre_fields(actor=actor, fields=fields)
    with transaction.atomic(), _audit(actor, unit):
        locked = Cadre.objects.select_for_update().get(pk=cadre.pk)
        _check_age_exception(actor, unit, locked.age_exception, completed["age_exception"])
        linked_before = locked.member_id
        _save_changed_fields(locked, completed)
        # Linked to another member record (or unlinked): both members' posts follow.
        _sync_league_posts(member_ids=[linked_before, locked.member_id])
        return locked


# --- the member record's League post ---------------------------------------------------------------

# A member's `league_post` is read where the seats are not (meeting attendance, the exemption from
# leaving at 28, 推优 reasons): the services that change seats keep it in step, in their own
# transaction and audit context, so the change shows in the member's history. Committee posts have
# the same values on both models (LeaguePost(post) fails at import otherwise). A group leader
# (团小组长) holds no committee seat: without a seat that value is the member page's to keep; once
# elected to a committee, the committee post is the one that counts (attendance, the exemption).
LEAGUE_POST_OF_SEAT = {post: LeaguePost(post) for post in CommitteePost.values}


def _sync_league_posts(*, member_ids: Iterable[int | None] = (), cadre_ids: Iterable[int] = ()) -> None:
    """Set each member's League post to the highest post held in an open seat on any current term
    (through any of their cadre records), or clear it when they hold none."""
    ids = {pk for pk in member_ids if pk}
    cadre_ids = set(cadre_ids)
    if cadre_ids:
        ids |= set(Cadre.objects.filter(pk__in=cadre_ids, member__isnull=False).values_list("member_id", flat=True))
    if not ids:
        return
    highest: dict[int, str] = {}
    held = CommitteeSeat.objects.filter(cadre__member_id__in=ids, until__isnull=True, term__ended_on__isnull=True)
    for member_id, post in held.values_list("cadre__member_id", "post"):
        if member_id not in highest or POST_ORDER[post] < POST_ORDER[highest[member_id]]:
            highest[member_id] = post
    for member in Member.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        seat_post = highest.get(member.pk)
        if seat_post is None and member.league_post not in LEAGUE_POST_OF_SEAT:
            continue  # no seat, and no committee post to clear (none, or a group leader)
        post = LEAGUE_POST_OF_SEAT[seat_post] if seat_post else LeaguePost.NONE
        if member.league_post != post:
            member.league_post = post
            member.save(update_fields=["league_post", "updated_at"])


# --- elections ----------------------------------------------------------------------------------


def _check_seats(unit: Organization, seats: Sequence[SeatInput]) -> None:
    if not seats:
        raise ValidationError(_("Record at least one person elected to the committee."))
    seen_cadres: set[int] = set()
    seen_members: set[int] = set()
    for seat in seats:
        if seat.post not in CommitteePost.values:
            raise ValidationError(_("Choose a post for every person."))
        if seat.cadre is not None:
            if seat.cadre.organization_id != unit.pk:
                raise ValidationError(
                    _("%(name)s is recorded by another unit; add them here as a new person.") % {"name": seat.cadre}
                )
            name, cadre_id, member_id = seat.cadre.name, seat.cadre.pk, seat.cadre.member_id
        else:
            person = seat.person or {}
            member = person.get("member")
            name, cadre_id, member_id = person.get("name") or member or "", None, getattr(member, "pk", None)
        if (cadre_id and cadre_id in seen_cadres) or (member_id and member_id in seen_members):
            raise ValidationError(_("%(name)s is listed twice.") % {"name": name})
        seen_cadres.add(cadre_id or 0)
        seen_members.add(member_id or 0)


def _lock_current_term(unit: Organization) -> CommitteeTerm | None:
    """The unit's current term, its row locked until the transaction ends: two elections recorded
    at once are serialized here. The second then finds the term ended, and the unique constraint on
    current terms refuses its new one (as it refuses two first elections, which have no row to lock)."""
    return CommitteeTerm.objects.select_for_update().filter(organization=unit, ended_on__isnull=True).first()


def _end_term(term: CommitteeTerm, day: date) -> list[int]:
    """End the term and its open seats on the election day (the old committee's last day); the
    cadres whose seats it closed."""
    if day < term.starts_on:
        raise ValidationError(
            {
                "elected_on": _("The election date cannot be before the current term began (%(day)s).")
                % {"day": term.starts_on.isoformat()}
            }
        )
    seats = list(term.seats.select_for_update())
    last_change = max([s.since for s in seats] + [s.until for s in seats if s.until], default=None)
    if last_change and day < last_change:
        raise ValidationError(
            {
                "elected_on": _("The election date cannot be before %(day)s, the last change to the current committee.")
                % {"day": last_change.isoformat()}
            }
        )
    term.ended_on = day
    term.save(update_fields=["ended_on"])
    closed = []
    for seat in seats:
        if seat.until is None:
            seat.until = day
            seat.save(update_fields=["until"])
            closed.append(seat.cadre_id)
    return closed


def election_record(
    *,
    organization: Organization,
    actor: User,
    elected_on: date,
    length_years: int | None = None,
    note: str = "",
    seats: Sequence[SeatInput],
) -> CommitteeTerm:
    """Record an election (换届): the current term, if any, ends on the election day with its seats,
    and the new term starts with the people elected. The old term stays, with its seats, as history.
    A unit's first recorded term is recorded the same way."""
    _check_may_manage(actor, organization)
    today = timezone.localdate()
    length = length_years or default_term_years(organization)
    errors = {}
    if elected_on > today:
        errors["elected_on"] = _("The election date cannot be in the future.")
    elif organization.founded_on and elected_on < organization.founded_on:
        errors["elected_on"] = _("The election date cannot be before the unit was founded (%(day)s).") % {
            "day": organization.founded_on.isoformat()
        }
    if not 1 <= length <= MAX_TERM_YEARS:
        errors["length_years"] = _("A term lasts 1 to %(max)d years.") % {"max": MAX_TERM_YEARS}
    if errors:
        raise ValidationError(errors)
    _check_seats(organization, seats)
    people = [
        None if seat.cadre is not None else complete_cadre_fields(actor=actor, fields=seat.person or {}, today=today)
        for seat in seats
    ]
    for person in people:
        if person is not None:
            _check_age_exception(actor, organization, "", person["age_exception"])
    with transaction.atomic(), _audit(actor, organization):
        current = _lock_current_term(organization)
        closed = _end_term(current, elected_on) if current is not None else []
        try:
            with transaction.atomic():
                term = CommitteeTerm.objects.create(
                    organization=organization,
                    starts_on=elected_on,
                    length_years=length,
                    note=note.strip(),
                    recorded_by=actor,
                )
        except IntegrityError as exc:  # one current term per unit: another election got in first
            raise ValidationError(
                _("Another election of this committee was recorded at the same moment. Reload the page to see it.")
            ) from exc
        elected = []
        for seat, person in zip(seats, people, strict=True):
            cadre = seat.cadre or _create_cadre(organization, person)
            CommitteeSeat.objects.create(term=term, cadre=cadre, post=seat.post, since=elected_on)
            elected.append(cadre.pk)
        _sync_league_posts(cadre_ids=[*closed, *elected])
        return term


# --- changes during a term -----------------------------------------------------------------------


def seat_add(
    *,
    term: CommitteeTerm,
    actor: User,
    post: str,
    since: date,
    cadre: Cadre | None = None,
    person: dict[str, Any] | None = None,
    note: str = "",
) -> CommitteeSeat:
    """Someone joins the current committee during its term (a co-opted deputy, a by-election)."""
    unit = term.organization
    _check_may_manage(actor, unit)
    if since > timezone.localdate():
        raise ValidationError({"since": _("The date cannot be in the future.")})
    if since < term.starts_on:
        raise ValidationError(
            {"since": _("The date cannot be before the term began (%(day)s).") % {"day": term.starts_on.isoformat()}}
        )
    _check_seats(unit, [SeatInput(post=post, cadre=cadre, person=person)])
    completed = None if cadre is not None else complete_cadre_fields(actor=actor, fields=person or {})
    if completed is not None:
        _check_age_exception(actor, unit, "", completed["age_exception"])
    with transaction.atomic(), _audit(actor, unit, note.strip()):
        locked = CommitteeTerm.objects.select_for_update().get(pk=term.pk)
        if not locked.is_current:
            raise ValidationError(_("This term has ended; record the change on the current term."))
        taken = _("%(name)s already holds a post on this committee.")
        if cadre is not None and locked.seats.filter(cadre=cadre, until__isnull=True).exists():
            raise ValidationError({"cadre": taken % {"name": cadre.name}})
        cadre = cadre or _create_cadre(unit, completed)
        try:
            with transaction.atomic():
                seat = CommitteeSeat.objects.create(term=locked, cadre=cadre, post=post, since=since)
        except IntegrityError as exc:  # the same person added twice at once
            raise ValidationError({"cadre": taken % {"name": cadre.name}}) from exc
        _sync_league_posts(cadre_ids=[cadre.pk])  # the record as saved (the caller's copy may be older)
        return seat


def seat_end(*, seat: CommitteeSeat, actor: User, until: date, note: str = "") -> CommitteeSeat:
    """Someone leaves the current committee during its term; `until` is their last day in the post.
    The cadre's record stays."""
    unit = seat.term.organization
    _check_may_manage(actor, unit)
    if until > timezone.localdate():
        raise ValidationError({"until": _("The date cannot be in the future.")})
    with transaction.atomic(), _audit(actor, unit, note.strip()):
        # An ended term's seats are all closed (election_record closes them): an open seat is current.
        locked = CommitteeSeat.objects.select_for_update(of=("self",)).select_related("cadre").get(pk=seat.pk)
        if locked.until is not None:
            raise ValidationError(
                _("%(name)s left this post on %(day)s already.")
                % {"name": locked.cadre.name, "day": locked.until.isoformat()}
            )
        if until < locked.since:
            raise ValidationError(
                {
                    "until": _("The last day cannot be before %(day)s, when the post was taken up.")
                    % {"day": locked.since.isoformat()}
                }
            )
        locked.until = until
        locked.save(update_fields=["until"])
        _sync_league_posts(member_ids=[locked.cadre.member_id])
        return locked


# --- correcting a mistaken term ------------------------------------------------------------------


def term_correct(*, term: CommitteeTerm, starts_on: date, length_years: int, note: str, actor: User) -> CommitteeTerm:
    """Correct a term recorded with the wrong election date, length or note. The people elected that
    day move with the date, and so does the end of the term before (an election ends it). Staff above
    the unit may correct any term; a branch's own secretary only one recorded in the last days."""
    unit = term.organization
    if not may_correct_term(actor, term):
        raise PermissionDenied
    check_unit_active(unit)
    errors = {}
    if starts_on > timezone.localdate():
        errors["starts_on"] = _("The election date cannot be in the future.")
    elif unit.founded_on and starts_on < unit.founded_on:
        errors["starts_on"] = _("The election date cannot be before the unit was founded (%(day)s).") % {
            "day": unit.founded_on.isoformat()
        }
    if not 1 <= length_years <= MAX_TERM_YEARS:
        errors["length_years"] = _("A term lasts 1 to %(max)d years.") % {"max": MAX_TERM_YEARS}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), _audit(actor, unit):
        locked = CommitteeTerm.objects.select_for_update().get(pk=term.pk)
        old_start = locked.starts_on
        seats = list(locked.seats.select_for_update())
        # The previous term ended on this term's election day (election_record ends it so).
        previous = (
            CommitteeTerm.objects.select_for_update()
            .filter(organization=unit, ended_on=old_start)
            .exclude(pk=locked.pk)
            .first()
        )
        previous_seats = list(previous.seats.select_for_update()) if previous else []
        _check_corrected_start(locked, starts_on, seats, previous, previous_seats)
        locked.starts_on = starts_on
        locked.length_years = length_years
        locked.note = note.strip()
        locked.save(update_fields=["starts_on", "length_years", "note"])
        if starts_on != old_start:
            for seat in seats:
                if seat.since == old_start:  # elected that day
                    seat.since = starts_on
                    seat.save(update_fields=["since"])
            if previous is not None:
                previous.ended_on = starts_on
                previous.save(update_fields=["ended_on"])
                for seat in previous_seats:
                    if seat.until == old_start:  # closed by the election
                        seat.until = starts_on
                        seat.save(update_fields=["until"])
        return locked


def _check_corrected_start(
    term: CommitteeTerm,
    starts_on: date,
    seats: list[CommitteeSeat],
    previous: CommitteeTerm | None,
    previous_seats: list[CommitteeSeat],
) -> None:
    """The corrected start stays after the previous committee's last change and no later than the
    next term's start or the first change to this committee."""
    old_start = term.starts_on

    def refuse(message: str, day: date) -> ValidationError:
        return ValidationError({"starts_on": message % {"day": day.isoformat()}})

    if term.ended_on is not None and starts_on > term.ended_on:
        raise refuse(_("The term cannot start after the next term began (%(day)s)."), term.ended_on)
    changes = [s.since for s in seats if s.since != old_start] + [s.until for s in seats if s.until]
    if changes and starts_on > min(changes):
        raise refuse(_("The term cannot start after %(day)s, the first change to its committee."), min(changes))
    if previous is not None:
        last = max(
            [previous.starts_on]
            + [s.since for s in previous_seats]
            + [s.until for s in previous_seats if s.until and s.until != old_start]
        )
        if starts_on < last:
            raise refuse(_("The term cannot start before %(day)s, the last change to the committee before it."), last)
