"""Party organization pickers that search as the user types (issue 8, branches/searched_choices): a
city has 5,000 Party organizations. One is searched by its name and shown with its county's, as two
counties may each have a "中共第一村支部"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import Organization, OrganizationKind, PartyOrganization, Role, User
from branches.scope import user_scope
from branches.searched_choices import SearchedChoiceField, SearchedKind
from branches.selectors import get_organization_for_user, may_manage_accounts

if TYPE_CHECKING:
    from promotion.models import PromotionCase


def role_party_organizations(actor: User) -> QuerySet[PartyOrganization]:
    """Party organizations a Party organizer's role may be bound to by this actor: any for the
    security administrator, those of the counties they manage for county staff."""
    if actor.is_superuser or user_scope(actor).has_role(Role.SECURITY_ADMIN):
        return PartyOrganization.objects.all()
    counties = Organization.objects.manageable_by(actor).filter(kind=OrganizationKind.COUNTY)
    return PartyOrganization.objects.filter(county__in=counties)


def pairing_candidates(unit: Organization) -> QuerySet[PartyOrganization]:
    """The Party organizations a unit created under `unit`, or `unit` itself, may be paired with:
    those of its county."""
    return PartyOrganization.objects.filter(county__path=unit.path[: Organization.steplen])


def pairing_purpose(unit: Organization) -> str:
    return f"pairing:{unit.pk}"


def _pairings(user: User, pk: int) -> QuerySet[PartyOrganization]:
    # As the unit's create and edit pages read it: a unit the user manages, still active.
    unit = get_organization_for_user(user, pk, manage=True)
    if not unit.is_active:
        raise PermissionDenied
    return pairing_candidates(unit)


def hand_over_purpose(case: PromotionCase) -> str:
    """The Party organizations a 推优 case may be handed over to (promotion.hand_over)."""
    return f"handover:{case.pk}"


# promotion builds on branches: its helpers are imported when its picker is asked for.
def _hand_over(user: User, pk: int) -> QuerySet[PartyOrganization]:
    from promotion import hand_over

    return hand_over.hand_over_choices(user, hand_over.get_case_to_hand_over(user, pk).branch)


class PartyOrganizations(SearchedKind):
    url_name = "branches:party-organization-choices"
    purposes = {"roles": (may_manage_accounts, role_party_organizations)}
    object_purposes = {"pairing": _pairings, "handover": _hand_over}
    search_fields = ("name",)
    sort_field = "name"
    placeholder = gettext_lazy("Type part of a Party organization's name")
    no_results = gettext_lazy("No Party organization has this in its name.")
    invalid_choice = gettext_lazy(
        "This Party organization cannot be chosen here. Type part of its name and pick it from the list."
    )

    def with_label(self, parties: QuerySet[PartyOrganization]) -> QuerySet[PartyOrganization]:
        return parties.select_related("county")

    def label(self, party: PartyOrganization) -> str:
        return _("%(party)s (%(county)s)") % {"party": party.name, "county": party.county.name}

    def search(self, parties: QuerySet[PartyOrganization], text: str) -> QuerySet[PartyOrganization]:
        return (parties.filter(name__contains=text) if text else parties).order_by("name", "pk")


PARTY_ORGANIZATIONS = PartyOrganizations()


class SearchedPartyOrganizationField(SearchedChoiceField):
    kind = PARTY_ORGANIZATIONS
