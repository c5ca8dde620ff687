"""What one account may see and manage, computed once per request.

Every app's `visible_to(user)` starts here, so that the rules live in one place:
- county and township staff see and manage the subtree of the unit their role is bound to;
- a branch secretary sees their branch (a general-branch secretary: its subtree);
- a Party organizer sees exactly the units paired with their Party organization (not their subtrees:
  a village branch under a township may be paired with another Party organization);
- instance-wide roles (system, security, audit administration) and superusers see every unit;
- a deputy has the rights of the role they stand in for;
- people's records (members, 推优 cases) are seen only through League roles: county and township staff
  and secretaries, for their units (`record_paths`); Party organizers get what is handed to them, and
  the instance-wide administrators none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from branches.models import (
    INSTANCE_ROLES,
    STAFF_ROLES,
    Organization,
    Role,
    RoleAssignment,
    User,
)


@dataclass(frozen=True)
class UserScope:
    day: date
    assignments: tuple[RoleAssignment, ...] = ()
    sees_everything: bool = False
    visible_paths: tuple[str, ...] = ()
    exact_paths: tuple[str, ...] = ()  # single units (no subtree), such as a Party organizer's pairings
    managed_paths: tuple[str, ...] = ()
    # Units whose people's records (members, cases) the user works with: the units of their
    # League roles. Party organizers and instance-wide administrators see no personal records.
    record_paths: tuple[str, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def export_paths(self) -> tuple[str, ...]:
        """Units whose people's records the user may export: those of roles given the export right."""
        return _outermost({a.organization.path for a in self.assignments if a.may_export_records and a.organization})

    @property
    def may_export_records(self) -> bool:
        return bool(self.export_paths)

    def sees(self, organization: Organization) -> bool:
        return (
            self.sees_everything
            or _under_any(organization.path, self.visible_paths)
            or organization.path in self.exact_paths
        )

    def manages(self, organization: Organization) -> bool:
        return _under_any(organization.path, self.managed_paths)

    def manages_strictly_below(self, organization: Organization) -> bool:
        """True where the user manages the unit's parent too: needed to move or dissolve it."""
        return any(organization.path.startswith(p) and organization.path != p for p in self.managed_paths)

    def oversees(self, organization: Organization) -> bool:
        """Staff above the unit, who vouch for what the unit's own people record about themselves
        (a cadre's age exception, revoking an honour someone else recorded); the county committee,
        with nobody above it, vouches for itself."""
        return self.manages_strictly_below(organization) or any(
            a.role == Role.COUNTY_STAFF and organization.path.startswith(a.organization.path) for a in self.assignments
        )

    def assignment_for(self, organization: Organization) -> RoleAssignment | None:
        """The assignment through which the user acts on a unit; their own role before a deputy's."""
        covering = [
            a
            for a in self.assignments
            if a.organization_id is not None and organization.path.startswith(a.organization.path)
        ]
        covering.sort(key=lambda a: (a.deputy_for_id is not None, -len(a.organization.path)))
        return covering[0] if covering else None

    def principal_for(self, organization: Organization) -> User | None:
        """Whom the user stands in for when acting on this unit as a deputy, if anyone."""
        assignment = self.assignment_for(organization)
        return assignment.deputy_for if assignment is not None and assignment.deputy_for_id else None


def _under_any(path: str, roots: tuple[str, ...]) -> bool:
    return any(path.startswith(root) for root in roots)


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so subtree filters stay short."""
    kept: list[str] = []
    for path in sorted(paths):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def user_scope(user: User) -> UserScope:
    """The user's scope today, cached on the user object (that is, for one request)."""
    today = timezone.localdate()
    cached: UserScope | None = getattr(user, "_league_scope", None)
    if cached is not None and cached.day == today:
        return cached
    scope = _compute_scope(user, today)
    if user.is_authenticated:
        user._league_scope = scope
    return scope


def forget_scope(user: User) -> None:
    """Called after the user's roles change within a request."""
    user.__dict__.pop("_league_scope", None)


def _without_orphaned_deputies(assignments: tuple[RoleAssignment, ...], today: date) -> tuple[RoleAssignment, ...]:
    """A deputy's rights last only while the principal holds the role (a term may end by date)."""
    deputies = [a for a in assignments if a.deputy_for_id]
    if not deputies:
        return assignments
    held = set(
        RoleAssignment.objects.active_on(today)
        .filter(user_id__in={a.deputy_for_id for a in deputies}, deputy_for__isnull=True)
        .values_list("user_id", "role", "organization_id", "party_organization_id")
    )
    return tuple(
        a
        for a in assignments
        if not a.deputy_for_id or (a.deputy_for_id, a.role, a.organization_id, a.party_organization_id) in held
    )


def _compute_scope(user: User, today: date) -> UserScope:
    if not user.is_authenticated or not user.is_active:
        return UserScope(day=today)
    assignments = tuple(
        RoleAssignment.objects.active_on(today)
        .filter(user=user)
        .select_related("organization", "party_organization", "deputy_for")
        .order_by("pk")
    )
    assignments = _without_orphaned_deputies(assignments, today)
    roles = frozenset(a.role for a in assignments)
    visible: set[str] = set()
    managed: set[str] = set()
    records: set[str] = set()
    party_ids = [a.party_organization_id for a in assignments if a.role == Role.PARTY_ORGANIZER]
    for a in assignments:
        if a.organization is not None:
            visible.add(a.organization.path)
            records.add(a.organization.path)
            if a.role in STAFF_ROLES:
                managed.add(a.organization.path)
    paired: set[str] = set()
    if party_ids:
        paired.update(Organization.objects.filter(party_organization__in=party_ids).values_list("path", flat=True))
    return UserScope(
        day=today,
        assignments=assignments,
        sees_everything=user.is_superuser or bool(roles & INSTANCE_ROLES),
        visible_paths=_outermost(visible),
        exact_paths=tuple(sorted(paired)),
        managed_paths=_outermost(managed),
        record_paths=_outermost(records),
        roles=roles,
    )
