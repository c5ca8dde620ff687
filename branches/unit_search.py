"""Unit pickers that search as the user types (issue 8, branches/searched_choices): a city district has
6,000 units and a province 60,000. A unit is searched by its name or code and shown with its
parent's name; the purposes below map each picker to the units its form accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import django_filters
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left, Length
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import ALLOWED_CHILD_KINDS, ROLE_UNIT_KINDS, Organization, Role, User
from branches.scope import user_scope
from branches.searched_choices import SearchedChoiceField, SearchedKind
from branches.selectors import get_organization_for_user, has_record_scope, may_manage_accounts, units_with_records

if TYPE_CHECKING:
    from members.models import Member, Transfer


def with_parent_name(units: QuerySet[Organization]) -> QuerySet[Organization]:
    """Each unit with its parent's name (None at the top), in the same query."""
    parent = Organization.objects.filter(
        path=Left(OuterRef("path"), Length(OuterRef("path")) - Organization.steplen)
    ).values("name")[:1]
    return units.annotate(parent_name=Subquery(parent))


def unit_label(unit: Organization) -> str:
    """A unit's name with its parent's, so that two "第一团支部" can be told apart (with_parent_name)."""
    if not unit.parent_name:
        return unit.name
    return _("%(unit)s (%(parent)s)") % {"unit": unit.name, "parent": unit.parent_name}


# --- what each picker offers: its form and the search endpoint both ask here ------------------------


def record_units(user: User) -> QuerySet[Organization]:
    """Units whose people's records the user keeps, still active: the member list's and the honours'
    unit filters, and the units an honour is recorded for."""
    return units_with_records(user).active()


def record_branches(user: User) -> QuerySet[Organization]:
    return record_units(user).branches()


def role_units(actor: User) -> QuerySet[Organization]:
    """Units a role may be bound to by this actor: any active one for the security administrator, the
    active units they manage for county staff (account_services.role_grant checks the same)."""
    if actor.is_superuser or user_scope(actor).has_role(Role.SECURITY_ADMIN):
        units = Organization.objects.active()
    else:
        units = Organization.objects.manageable_by(actor).active()
    return units.filter(kind__in=set().union(*ROLE_UNIT_KINDS.values()))


def new_parent_candidates(user: User, organization: Organization) -> QuerySet[Organization]:
    """Where the user may move the unit: active units they manage that may hold its kind, outside
    its own subtree."""
    return (
        Organization.objects.manageable_by(user)
        .active()
        .filter(kind__in=[kind for kind, allowed in ALLOWED_CHILD_KINDS.items() if organization.kind in allowed])
        .exclude(path__startswith=organization.path)
    )


PURPOSES: dict[str, tuple[Callable[[User], bool], Callable[[User], QuerySet[Organization]]]] = {
    "records": (has_record_scope, record_units),
    "branches": (has_record_scope, record_branches),
    "roles": (may_manage_accounts, role_units),
}


def move_purpose(organization: Organization) -> str:
    return f"move:{organization.pk}"


def transfer_purpose(member: Member) -> str:
    """Where the member may be transferred within the county (members.transfers)."""
    return f"transfer:{member.pk}"


def approve_purpose(transfer: Transfer) -> str:
    """The branches a receiving committee may place the transfer's member in (members.transfers)."""
    return f"approve:{transfer.pk}"


def _move_units(user: User, pk: int) -> QuerySet[Organization]:
    return new_parent_candidates(user, get_organization_for_user(user, pk, manage=True, from_above=True))


# members builds on branches: its helpers are imported when a picker of its pages is asked for.
def _transfer_units(user: User, pk: int) -> QuerySet[Organization]:
    from members import transfers

    return transfers.destinations_in_county(transfers.get_member_to_transfer(user, pk))


def _approve_units(user: User, pk: int) -> QuerySet[Organization]:
    from members import transfers

    return transfers.branches_to_place_in(transfers.get_transfer_to_place(user, pk))


OBJECT_PURPOSES: dict[str, Callable[[User, int], QuerySet[Organization]]] = {
    "move": _move_units,
    "transfer": _transfer_units,
    "approve": _approve_units,
}


class Units(SearchedKind):
    url_name = "branches:unit-choices"
    purposes = PURPOSES
    object_purposes = OBJECT_PURPOSES
    search_fields = ("name", "code")
    sort_field = "path"
    placeholder = gettext_lazy("Type part of a unit's name")
    no_results = gettext_lazy("No unit has this in its name.")
    invalid_choice = gettext_lazy("This unit cannot be chosen here. Type part of its name and pick it from the list.")

    def with_label(self, units: QuerySet[Organization]) -> QuerySet[Organization]:
        return with_parent_name(units)

    def label(self, unit: Organization) -> str:
        return unit_label(unit)

    def search(self, units: QuerySet[Organization], text: str) -> QuerySet[Organization]:
        """The units whose name or code contains `text` (as the tree page's search), in tree order.
        With nothing typed, the top of the user's tree: the units a search would otherwise have to
        guess."""
        if text:
            return units.filter(Q(name__contains=text) | Q(code__icontains=text)).order_by("path")
        return units.order_by("depth", "path")


UNITS = Units()


class SearchedUnitField(SearchedChoiceField):
    kind = UNITS

    def choose_the_only_unit(self) -> None:
        """Start on the unit if the picker offers just that one (a branch secretary's own branch):
        there is nothing to search for. One query, of two units at most."""
        units = list(self.queryset[:2])
        if len(units) == 1:
            self.initial = units[0].pk
            self._validated = units[0]  # rendered without reading it again


class SearchedUnitFilter(django_filters.ModelChoiceFilter):
    """A django-filter filter on a searched unit; `purpose=` is passed to the field. The FilterSet sets
    the allowed units (`queryset`) per request; the label and empty choice say "unit" unless given."""

    field_class = SearchedUnitField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Organization.objects.none())
        kwargs.setdefault("label", gettext_lazy("Unit"))
        kwargs.setdefault("empty_label", gettext_lazy("All units"))
        super().__init__(*args, **kwargs)
