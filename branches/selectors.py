"""Reads of the tree and of scopes, shaped for pages, in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from branches.models import (
    BRANCH_KINDS,
    INSTANCE_ROLES,
    Organization,
    Role,
    RoleAssignment,
    User,
    subtree_filter,
)
from branches.scope import user_scope
from branches.security import lock_end, recent_lock_events


def get_organization_for_user(user: User, pk: int, *, manage: bool = False, from_above: bool = False) -> Organization:
    """The unit if the user may see it (404 otherwise, the same as missing); 403 where `manage` is
    asked for and the user may only look, or `from_above` (moving, dissolving: the unit's parent must
    be managed too) and the unit is the top of the user's own remit."""
    organization = get_object_or_404(Organization.objects.visible_to(user), pk=pk)
    scope = user_scope(user)
    if manage and not scope.manages(organization):
        raise PermissionDenied
    if from_above and not scope.manages_strictly_below(organization):
        raise PermissionDenied
    return organization


# --- the record scope: units whose people's records the user keeps or reads -----------------------
# (branches.scope `record_paths`: League roles only; Party organizers and the instance-wide
# administrators have none.) Members, committees, honours and branch life all ask here.


def has_record_scope(user: User) -> bool:
    return user.is_superuser or bool(user_scope(user).record_paths)


def in_record_scope(user: User, unit: Organization) -> bool:
    """Whether the unit's people's records are the user's to keep or read (no query)."""
    return user.is_superuser or any(unit.path.startswith(path) for path in user_scope(user).record_paths)


def units_with_records(user: User) -> QuerySet[Organization]:
    """Units in the user's record scope, dissolved ones included (their records stay readable)."""
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(subtree_filter(user_scope(user).record_paths))


def get_unit_for_records(user: User, pk: int) -> Organization:
    """The unit if it is in the user's record scope; 404 otherwise, the same as missing."""
    return get_object_or_404(units_with_records(user), pk=pk)


@dataclass
class TreeNode:
    unit: Organization
    children: list[TreeNode] = field(default_factory=list)
    units_below: int = 0
    branches_below: int = 0
    has_children: bool = False  # true also when the children are not loaded (opened on demand)


# How many levels of the user's part of the tree the tree page shows at once: the top and the units
# right below it. Deeper levels are loaded when a unit is opened, so the page costs the same for a
# township of 40 units and a city district of 6,000.
TREE_LEVELS = 2


def visible_tree(user: User, *, include_dissolved: bool = False, under: Organization | None = None) -> list[TreeNode]:
    """The user's part of the tree as nested nodes, TREE_LEVELS deep from its top — or, with `under`,
    the children of that unit, one level — each with its sub-unit and branch counts and whether it has
    children. Two queries: the path and kind of every unit below, whose counts roll up along the
    materialized path in memory, then the shown units themselves."""
    units = Organization.objects.visible_to(user)
    if not include_dissolved:
        units = units.active()
    if under is not None:
        units = units.filter(path__startswith=under.path, depth__gt=under.depth)
    steplen = Organization.steplen
    levels_below_top: dict[str, int] = {}
    has_children: set[str] = set()
    rows = list(units.values_list("path", "kind"))
    for path, _kind in rows:  # ordered by path: parents come before children
        parent = path[:-steplen]
        if parent in levels_below_top:
            levels_below_top[path] = levels_below_top[parent] + 1
            has_children.add(parent)
        else:
            levels_below_top[path] = 0
    shown_levels = 1 if under is not None else TREE_LEVELS
    shown = {path: TreeNode(unit=None) for path, level in levels_below_top.items() if level < shown_levels}
    for path, kind in rows:
        for depth in range(1, len(path) // steplen):
            ancestor = shown.get(path[: depth * steplen])
            if ancestor is not None:
                ancestor.units_below += 1
                ancestor.branches_below += kind in BRANCH_KINDS
    roots: list[TreeNode] = []
    for unit in Organization.objects.filter(path__in=shown):
        node = shown[unit.path]
        node.unit, node.has_children = unit, unit.path in has_children
        parent = shown.get(unit.path[:-steplen])
        (parent.children if parent else roots).append(node)
    return roots


UNIT_SEARCH_LIMIT = 100


def search_units(user: User, query: str, *, include_dissolved: bool = False) -> list[Organization]:
    """Visible units whose name or code contains the query (at most UNIT_SEARCH_LIMIT)."""
    units = Organization.objects.visible_to(user).filter(Q(name__icontains=query) | Q(code__icontains=query))
    if not include_dissolved:
        units = units.active()
    return list(units[:UNIT_SEARCH_LIMIT])


def scope_unit_counts(user: User) -> dict[str, int]:
    """Active units of each kind in the user's scope (one aggregate query)."""
    rows = Organization.objects.visible_to(user).active().order_by().values("kind").annotate(n=Count("pk"))
    return {row["kind"]: row["n"] for row in rows}


def branches_without_secretary(user: User) -> list[Organization]:
    """Active branches in scope with no active secretary account: someone has to be given one."""
    has_secretary = RoleAssignment.objects.active_on().filter(role=Role.BRANCH_SECRETARY, organization_id__isnull=False)
    return list(
        Organization.objects.visible_to(user)
        .active()
        .branches()
        .exclude(pk__in=has_secretary.values("organization_id"))
        .order_by("path")
    )


def units_without_party_pairing(user: User) -> list[Organization]:
    return list(Organization.objects.visible_to(user).active().filter(party_organization__isnull=True))


def accounts_at(organization: Organization) -> list[RoleAssignment]:
    """Current role holders at one unit, for its page."""
    return list(
        RoleAssignment.objects.active_on()
        .filter(organization=organization)
        .select_related("user", "deputy_for")
        .order_by("role", "user__username")
    )


def locked_usernames_recent() -> list[str]:
    """Usernames with enough recent failures that they may be locked now (for the security page)."""
    now = timezone.now()
    by_username: dict[str, list] = defaultdict(list)
    for username, kind, at in recent_lock_events(now).values_list("username", "kind", "at"):
        by_username[username].append((kind, at))
    return sorted(name for name, events in by_username.items() if lock_end(events, now) is not None)


# --- accounts ---------------------------------------------------------------------------------


def may_manage_accounts(user: User) -> bool:
    return user.is_superuser or user_scope(user).has_role(Role.COUNTY_STAFF, Role.SECURITY_ADMIN)


def manageable_accounts(user: User) -> QuerySet[User]:
    """Accounts the user administers (see account_services for who administers whom)."""
    scope = user_scope(user)
    if user.is_superuser:
        return User.objects.all()
    administrators = RoleAssignment.objects.filter(role__in=INSTANCE_ROLES).values("user_id")
    if scope.has_role(Role.SECURITY_ADMIN):
        return User.objects.exclude(is_superuser=True).exclude(pk__in=administrators).exclude(pk=user.pk)
    if not scope.has_role(Role.COUNTY_STAFF):
        return User.objects.none()
    county_paths = [a.organization.path for a in scope.assignments if a.role == Role.COUNTY_STAFF]
    inside = subtree_filter(county_paths, "organization__path") | subtree_filter(
        county_paths, "party_organization__county__path"
    )
    in_county = RoleAssignment.objects.filter(inside).values("user_id")
    elsewhere = RoleAssignment.objects.exclude(inside).values("user_id")
    return (
        User.objects.filter(pk__in=in_county).exclude(pk__in=elsewhere).exclude(is_superuser=True).exclude(pk=user.pk)
    )


def get_account_for_user(user: User, pk: int) -> User:
    """For views: the account, or 404 whether it is missing or outside the user's remit."""
    return get_object_or_404(manageable_accounts(user), pk=pk)
