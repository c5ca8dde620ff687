"""Unit pickers that search as the user types (issue 8): a city district has 6,000 units and a province
60,000, too many to send as <option>s. A picker renders only the unit chosen; the others are searched
through branches:unit-choices (static/js/unit-search.js), for the picker's purpose, which the server
maps to the same units the picker's form accepts: the client never names a scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left, Length
from django.forms.models import ModelChoiceIterator
from django.http import Http404
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import ALLOWED_CHILD_KINDS, ROLE_UNIT_KINDS, Organization, Role, User
from branches.scope import user_scope
from branches.selectors import get_organization_for_user, has_record_scope, may_manage_accounts, units_with_records

if TYPE_CHECKING:
    from members.models import Member, Transfer

# A search answers with this many units: enough to pick from, few enough to send at once.
UNIT_CHOICES_SHOWN = 20


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


# purpose → (may the user use this picker at all, the units it offers)
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


# purpose "<name>:<pk>" → the units its picker offers for that object, which it reads for the user as
# the picker's page does (404 or 403 the same)
OBJECT_PURPOSES: dict[str, Callable[[User, int], QuerySet[Organization]]] = {
    "move": _move_units,
    "transfer": _transfer_units,
    "approve": _approve_units,
}
OBJECT_PURPOSE = re.compile(r"([a-z]+):([0-9]{1,18})")


def units_for_purpose(user: User, purpose: str) -> QuerySet[Organization]:
    """The units the picker named by `purpose` offers the user. An unknown purpose, or an object the
    user cannot see, is 404; a picker the user may not use at all is 403, as its page is."""
    if (match := OBJECT_PURPOSE.fullmatch(purpose)) and match[1] in OBJECT_PURPOSES:
        return OBJECT_PURPOSES[match[1]](user, int(match[2]))
    if purpose not in PURPOSES:
        raise Http404
    may_use, units = PURPOSES[purpose]
    if not may_use(user):
        raise PermissionDenied
    return units(user)


def search_units(units: QuerySet[Organization], search: str) -> list[Organization]:
    """The units whose name or code contains `search` (as the tree page's search), in tree order, with
    their parents' names (one query). With nothing typed, the top of the user's tree: the units a
    search would otherwise have to guess."""
    units = with_parent_name(units)
    search = search.strip()
    if search:
        units = units.filter(Q(name__contains=search) | Q(code__icontains=search)).order_by("path")
    else:
        units = units.order_by("depth", "path")
    return list(units[:UNIT_CHOICES_SHOWN])


def as_choice(unit: Organization) -> dict[str, str]:
    """A unit as static/js/unit-search.js reads it."""
    return {"value": str(unit.pk), "text": unit_label(unit), "name": unit.name, "code": unit.code, "path": unit.path}


# --- the form field ---------------------------------------------------------------------------------


class EmptyChoiceIterator(ModelChoiceIterator):
    """The field's choices are the empty one only, never every unit in scope (thousands in a city):
    UnitSearchSelect adds the unit chosen."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)

    def __len__(self) -> int:
        return int(self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return len(self) > 0


class UnitSearchSelect(forms.Select):
    """A <select> of the empty choice and the chosen unit; static/js/unit-search.js turns it into a
    search box over branches:unit-choices for the picker's purpose. Without JavaScript it still
    carries the unit chosen."""

    def __init__(self, purpose: str, attrs: dict | None = None):
        super().__init__(
            attrs={
                "data-unit-search": reverse_lazy("branches:unit-choices"),
                "data-unit-for": purpose,
                "data-placeholder": gettext_lazy("Type part of a unit's name"),
                "data-loading": gettext_lazy("Searching…"),
                "data-no-results": gettext_lazy("No unit has this in its name."),
                "data-clear": gettext_lazy("Clear"),
                **(attrs or {}),
            }
        )

    class Media:
        css = {"all": ["vendor/tom-select-2.6.2/tom-select.bootstrap5.min.css", "css/unit-search.css"]}
        # Deferred, so that a page may put its media in <head>: they run once the page is read.
        js = [
            forms.Script("vendor/tom-select-2.6.2/tom-select.complete.min.js", defer=True),
            forms.Script("js/unit-search.js", defer=True),
        ]

    def optgroups(self, name, value, attrs=None):
        options = list(self.choices)
        unit = self.choices.field.chosen_unit(value[0]) if value else None
        if unit is not None:
            options.append(self.choices.choice(unit))
        return [
            (None, [self.create_option(name, option, label, str(option) in value, index, attrs=attrs)], index)
            for index, (option, label) in enumerate(options)
        ]


class SearchedUnitField(forms.ModelChoiceField):
    """Validates the unit against every unit the picker offers (the queryset), but renders only the
    chosen one: the page costs the same for 10 or 60,000 units. `purpose` names the picker's units
    to branches:unit-choices (units_for_purpose): the form's queryset and the purpose's must agree."""

    iterator = EmptyChoiceIterator
    default_error_messages = {
        "invalid_choice": gettext_lazy(
            "This unit cannot be chosen here. Type part of its name and pick it from the list."
        )
    }
    _validated: Organization | None = None

    def __init__(self, queryset: QuerySet[Organization] | None, *, purpose: str, **kwargs):
        kwargs.setdefault("widget", UnitSearchSelect(purpose))
        super().__init__(queryset, **kwargs)

    def _set_queryset(self, queryset: QuerySet[Organization] | None) -> None:
        super()._set_queryset(None if queryset is None else with_parent_name(queryset))  # for the label

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def set_purpose(self, purpose: str) -> None:
        """For a picker whose units depend on the page's object (`move_purpose`, `transfer_purpose`,
        `approve_purpose`)."""
        self.widget.attrs["data-unit-for"] = purpose

    def choose_the_only_unit(self) -> None:
        """Start on the unit if the picker offers just that one (a branch secretary's own branch):
        there is nothing to search for. One query, of two units at most."""
        units = list(self.queryset[:2])
        if len(units) == 1:
            self.initial = units[0].pk
            self._validated = units[0]  # rendered without reading it again

    def label_from_instance(self, unit: Organization) -> str:
        return unit_label(unit)

    def to_python(self, value) -> Organization | None:
        self._validated = super().to_python(value)
        return self._validated

    def chosen_unit(self, value: str) -> Organization | None:
        """The unit `value` names if it may be picked, else None; the unit just validated is not read
        again."""
        if value in self.empty_values:
            return None
        if self._validated is not None and str(self._validated.pk) == value:
            return self._validated
        try:
            return self.to_python(value)
        except ValidationError:
            return None


class SearchedUnitFilter(django_filters.ModelChoiceFilter):
    """A django-filter filter on a searched unit; `purpose=` is passed to the field. The FilterSet sets
    the allowed units (`queryset`) per request; the label and empty choice say "unit" unless given."""

    field_class = SearchedUnitField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Organization.objects.none())
        kwargs.setdefault("label", gettext_lazy("Unit"))
        kwargs.setdefault("empty_label", gettext_lazy("All units"))
        super().__init__(*args, **kwargs)
