"""Whom a 推优 case may be handed over to, as its hand-over form offers it and as the form's searched
picker (branches/party_search.py, purpose "handover:<case pk>") answers: a county has thousands of
Party organizations, so the page sends only the one chosen and the picker searches the rest."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from branches.models import Organization, PartyOrganization, User
from branches.party_search import pairing_candidates
from promotion import services
from promotion.models import PromotionCase


def hand_over_choices(user: User, branch: Organization) -> QuerySet[PartyOrganization]:
    """The Party organizations offered for the hand-over, as services.case_hand_over allows them: those
    paired with the branch or the units above it (nearest first); any of the branch's county's for
    county staff (not of every county they see, which the service would refuse)."""
    if services.can_allow_exception_in(user, branch):
        return pairing_candidates(branch).order_by("name", "pk")
    return services.hand_over_party_organizations(branch)


def get_case_to_hand_over(user: User, pk: int) -> PromotionCase:
    """The case, if the user sees it (else 404) and may hand it over now (else 403): the hand-over page
    is offered to its branch's workers (services.next_actions lists the step) at the approved stage."""
    case = get_object_or_404(PromotionCase.objects.visible_to(user).select_related("branch"), pk=pk)
    if "hand_over" not in services.next_actions(case, user):
        raise PermissionDenied
    return case
