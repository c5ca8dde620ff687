"""Forms of the honours pages: the list's filters, finding a member, recording and revoking. The
rules (who, which title, which year, no duplicates) are the services'."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Honour, HonourLevel, HonourTitle, Organization
from branches.unit_search import SearchedUnitField, SearchedUnitFilter


class HonourFilter(django_filters.FilterSet):
    RECIPIENTS = [("member", _("Members")), ("unit", _("Units"))]
    STATES = [("revoked", _("Revoked")), ("all", _("All records"))]

    q = django_filters.CharFilter(method="search", label=_("Search by name"))
    title = django_filters.ModelChoiceFilter(queryset=HonourTitle.objects.all(), label=_("Title"))
    level = django_filters.ChoiceFilter(choices=HonourLevel.choices, label=_("Level"))
    year = django_filters.NumberFilter(label=_("Year"))
    recipient = django_filters.ChoiceFilter(choices=RECIPIENTS, method="by_recipient", label=_("Awarded to"))
    unit = SearchedUnitFilter(purpose="records", method="in_unit")
    state = django_filters.ChoiceFilter(
        choices=STATES, method="by_state", empty_label=_("Current honours"), label=_("Status")
    )

    def __init__(self, data=None, queryset=None, *, units: QuerySet[Organization], **kwargs):
        """`units`: unit_search.record_units, the units of the `records` purpose."""
        super().__init__(data, queryset, **kwargs)
        self.filters["unit"].queryset = units

    @property
    def qs(self) -> QuerySet[Honour]:
        queryset = super().qs
        chosen = self.form.cleaned_data.get("state") if self.is_bound and self.form.is_valid() else None
        return queryset if chosen else queryset.current()

    def search(self, queryset: QuerySet[Honour], name: str, value: str) -> QuerySet[Honour]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(member__name__contains=value) | Q(organization__name__contains=value))

    def by_recipient(self, queryset: QuerySet[Honour], name: str, value: str) -> QuerySet[Honour]:
        return queryset.filter(member__isnull=value != "member")

    def in_unit(self, queryset: QuerySet[Honour], name: str, unit: Organization) -> QuerySet[Honour]:
        if not unit:
            return queryset
        return queryset.filter(
            Q(member__branch__path__startswith=unit.path) | Q(organization__path__startswith=unit.path)
        )

    def by_state(self, queryset: QuerySet[Honour], name: str, value: str) -> QuerySet[Honour]:
        return queryset.filter(revoked_at__isnull=False) if value == "revoked" else queryset


class MemberFinderForm(forms.Form):
    """Narrows the members offered for an honour: a branch, part of a name, or both."""

    branch = SearchedUnitField(
        queryset=Organization.objects.none(),
        purpose="branches",
        required=False,
        label=_("Branch"),
        empty_label=_("All branches"),
    )
    q = forms.CharField(required=False, max_length=50, label=_("Full name"))

    def __init__(self, *args, branches: QuerySet[Organization], **kwargs):
        """`branches`: unit_search.record_branches, the units of the `branches` purpose."""
        super().__init__(*args, **kwargs)
        if branches.count() <= 1:  # a secretary's own branch: nothing to choose
            del self.fields["branch"]
            return
        self.fields["branch"].queryset = branches


class HonourForm(forms.Form):
    """Title, level, year and issuer of an honour; the recipient is chosen here unless the page is
    already about one member (`members` and `units` are then both None)."""

    member = forms.ModelChoiceField(queryset=None, label=_("Member"))
    organization = SearchedUnitField(queryset=None, purpose="records", label=_("Unit"))
    title = forms.ModelChoiceField(queryset=None, label=_("Title"))
    level = forms.ChoiceField(choices=HonourLevel.choices, label=_("Level"))
    year = forms.IntegerField(label=_("Year"), initial=lambda: timezone.localdate().year)
    issuer = forms.CharField(
        max_length=100, label=_("Issued by"), help_text=_("The committee that conferred it, e.g. 共青团XX县委员会.")
    )
    note = forms.CharField(max_length=200, required=False, label=_("Note"))

    def __init__(self, *args, for_units: bool, members=None, units=None, **kwargs):
        """`units`, if given: unit_search.record_units, the units of the `records` purpose."""
        super().__init__(*args, **kwargs)
        titles = (
            HonourTitle.objects.filter(for_units=True) if for_units else HonourTitle.objects.filter(for_members=True)
        )
        self.fields["title"].queryset = titles
        if members is None:
            del self.fields["member"]
        else:
            self.fields["member"].queryset = members
            self.fields["member"].label_from_instance = lambda member: f"{member.name} · {member.branch.name}"
        if units is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = units


class HonourRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the record is a mistake"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )
