"""Who may read which reports. The same rules serve every channel: page, download, archive, e-mail.

- League roles (county and township staff, branch secretaries) read the reports of the units they
  work in and of every unit below (the dashboard drills down the tree);
- a Party organizer reads only the monthly progress reports of their own Party organization;
- county staff also read the monthly reports of every Party organization in their county.
Out of scope is a 404, the same as a unit that does not exist.
"""

from __future__ import annotations

from django.http import Http404

from branches.models import Organization, PartyOrganization, Role, User
from branches.scope import user_scope


def may_read_unit(user: User, unit: Organization) -> bool:
    if user.is_superuser:
        return True
    return any(unit.path.startswith(path) for path in user_scope(user).record_paths)


def may_read_party_organization(user: User, party_organization: PartyOrganization) -> bool:
    if user.is_superuser:
        return True
    return any(
        (a.role == Role.PARTY_ORGANIZER and a.party_organization_id == party_organization.pk)
        or (a.role == Role.COUNTY_STAFF and a.organization_id == party_organization.county_id)
        for a in user_scope(user).assignments
    )


def get_unit_for_reports(user: User, pk: int) -> Organization:
    unit = Organization.objects.filter(pk=pk).first()
    if unit is None or not may_read_unit(user, unit):
        raise Http404
    return unit


def get_party_organization_for_reports(user: User, pk: int) -> PartyOrganization:
    party_organization = PartyOrganization.objects.filter(pk=pk).select_related("county").first()
    if party_organization is None or not may_read_party_organization(user, party_organization):
        raise Http404
    return party_organization


def home_scopes(user: User) -> tuple[list[Organization], list[PartyOrganization]]:
    """Where the user's reports start: the units of their League roles and their Party organizations."""
    scope = user_scope(user)
    units = [a.organization for a in scope.assignments if a.organization is not None and a.role in _LEAGUE_ROLES]
    parties = [a.party_organization for a in scope.assignments if a.role == Role.PARTY_ORGANIZER]
    return _unique(units), _unique(parties)


_LEAGUE_ROLES = frozenset({Role.COUNTY_STAFF, Role.TOWNSHIP_STAFF, Role.BRANCH_SECRETARY})


def _unique(items: list) -> list:
    seen: dict[int, object] = {}
    for item in items:
        seen.setdefault(item.pk, item)
    return list(seen.values())
