"""The committee reminder rules (registered with branches.notifications): a committee whose term
ends within the notice period, or has ended without an election, is reminded to hold its election
(换届), and so is the committee above it, which approves the election (domain.md §2.4); a unit with
no committee recorded at all is reminded, once a year, to record it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.committee_selectors import COMMITTEE_TERM_KINDS, TermStatus, notice_days, term_status
from branches.models import CommitteeTerm, NotificationKind, Organization, Role
from branches.notifications import Reminder, Rule, register, unit_role_holders

# Staff are bound to these kinds (ROLE_UNIT_KINDS): "the committee above" is the nearest of them.
STAFFED_KINDS = COMMITTEE_TERM_KINDS


def _ancestor_paths(path: str) -> list[str]:
    """The paths of the unit's ancestors, nearest first."""
    step = Organization.steplen
    return [path[:end] for end in range(len(path) - step, 0, -step)]


def _recipients(units: Sequence[Organization], day: date) -> dict[int, frozenset[int]]:
    """Unit id → who hears about its committee: the unit's own people (a branch's secretary and
    deputy, a committee's staff) and the staff of the nearest committee above that has any (a
    school's committee may have no account: then the committee above it hears instead). Three
    queries, whatever the number of units; units nobody would hear of are left out."""
    ancestors = {path for unit in units for path in _ancestor_paths(unit.path)}
    staffed_above = dict(
        Organization.objects.filter(path__in=ancestors, kind__in=STAFFED_KINDS).values_list("path", "pk")
    )
    # Secretaries are bound only to branches and general branches, staff only to committees
    # (ROLE_UNIT_KINDS): asking for both at once gives each unit its own kind of people.
    holders = unit_role_holders(
        {unit.pk for unit in units} | set(staffed_above.values()),
        (Role.BRANCH_SECRETARY, Role.COUNTY_STAFF, Role.TOWNSHIP_STAFF),
        day,
    )
    recipients = {}
    for unit in units:
        people = set(holders.get(unit.pk, set()))
        for path in _ancestor_paths(unit.path):
            above = holders.get(staffed_above.get(path), set())
            if above:
                people |= above
                break
        if people:
            recipients[unit.pk] = frozenset(people)
    return recipients


def committee_terms_due(day: date) -> Iterator[Reminder]:
    """Once per term and stage: when its end comes within the notice period ("soon"), and when it has
    passed ("overdue"). A term due long ago is still caught on the first run, so nothing is lost while
    the scheduler is down. Four queries, whatever the number of terms."""
    due = list(
        CommitteeTerm.objects.due_by(day + timedelta(days=notice_days()))
        .filter(organization__dissolved_on__isnull=True)
        .select_related("organization")
        .order_by("due_on", "pk")
    )
    if not due:
        return
    recipients = _recipients([term.organization for term in due], day)
    for term in due:
        unit = term.organization
        if unit.pk not in recipients:
            continue
        stage = term_status(term.due_on, day)
        if stage == TermStatus.OVERDUE:
            subject = _("The term of %(unit)s ended on %(day)s: hold the election (换届)") % {
                "unit": unit.name,
                "day": term.due_on.isoformat(),
            }
        else:
            subject = _("The term of %(unit)s ends on %(day)s: prepare the election (换届)") % {
                "unit": unit.name,
                "day": term.due_on.isoformat(),
            }
        yield Reminder(
            recipients=recipients[unit.pk],
            kind=NotificationKind.COMMITTEE_TERM,
            key=f"committee-term:{term.pk}:{stage}",
            subject=subject,
            body=_("Elected on %(day)s for %(years)d years. Record the election once it has been held.")
            % {"day": term.starts_on.isoformat(), "years": term.length_years},
            link=reverse("branches:committee", kwargs={"pk": unit.pk}),
        )


def committees_unrecorded(day: date) -> Iterator[Reminder]:
    """Active units with no current term (the terms list puts them first): once a year, until their
    committee is recorded. Four queries, whatever the number of units."""
    current = CommitteeTerm.objects.current().filter(organization=OuterRef("pk"))
    units = list(Organization.objects.active().exclude(Exists(current)).order_by("path"))
    if not units:
        return
    recipients = _recipients(units, day)
    for unit in units:
        if unit.pk not in recipients:
            continue
        yield Reminder(
            recipients=recipients[unit.pk],
            kind=NotificationKind.COMMITTEE_TERM,
            key=f"committee-unrecorded:{unit.pk}:{day.year}",
            subject=_("No committee is recorded for %(unit)s: record its last election") % {"unit": unit.name},
            body=_(
                "Record the last election (换届) with the people elected, so that the term and its end are followed."
            ),
            link=reverse("branches:committee", kwargs={"pk": unit.pk}),
        )


register(Rule("committee_terms_due", gettext_lazy("Committee terms ending or overdue"), committee_terms_due))
register(Rule("committees_unrecorded", gettext_lazy("Committees never recorded"), committees_unrecorded))
