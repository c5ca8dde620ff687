"""Member forms: parse and present; the League's rules are checked by the services."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import DateInput, phone_validator
from branches.models import Organization
from branches.unit_search import SearchedUnitField, approve_purpose, transfer_purpose
from members import transfers
from members.lifecycle import LEAVING_STATUSES
from members.models import Member, Transfer


class MemberForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=22,
        help_text=_("18 characters. The date of birth and sex are filled in from it when left empty."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    class Meta:
        model = Member
        fields = [
            "name",
            "id_number",
            "sex",
            "birth_date",
            "ethnicity",
            "phone",
            "education",
            "occupation",
            "workplace",
            "native_place",
            "joined_on",
            "admission_number",
            "card_number",
            "league_post",
            "political_status",
            "notes",
        ]
        widgets = {
            "birth_date": DateInput(),
            "joined_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        self.fields["phone"].validators.append(phone_validator)
        if self.instance.pk:
            # The number is not shown back; typing a new one replaces it.
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("Leave empty to keep %(masked)s.") % {
                "masked": self.instance.id_number_masked
            }
        if branches is not None:  # a new member: `branches` are those of the `branches` purpose
            add_branch_field(self, "branch", branches, label=_("Branch"))
            self.order_fields(["branch", *self.Meta.fields])

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip()


def add_branch_field(form: forms.BaseForm, name: str, branches: QuerySet[Organization], *, label: str) -> None:
    """A branch picker over the `branches` purpose (`branches` must be its units), starting on the
    user's only branch if they have just one and the page named none."""
    form.fields[name] = SearchedUnitField(branches, purpose="branches", label=label)
    if not form.is_bound and name not in form.initial:
        form.fields[name].choose_the_only_unit()


class LeaveForm(forms.Form):
    status = forms.ChoiceField(label=_("How the member leaves"))
    on_date = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s.value, s.label) for s in LEAVING_STATUSES]


class ReinstateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the leave was a mistake"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000)


class TransferRequestForm(forms.Form):
    """From the member's page: within the county (any branch or committee), or out of it."""

    to_unit = SearchedUnitField(
        queryset=None,
        purpose="",  # the member's, set in __init__
        required=False,
        label=_("Transfer to (in the county)"),
        help_text=_("A branch, or a committee that will place the member in one of its branches."),
    )
    destination = forms.CharField(
        label=_("Or: destination outside the county"),
        max_length=200,
        required=False,
        help_text=_("The organization the member moves to, e.g. 共青团XX市XX区委员会."),
    )
    on_date = forms.DateField(
        label=_("Date of leaving the county"),
        widget=DateInput(),
        required=False,
        help_text=_("Only for a destination outside the county."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = transfers.destinations_in_county(member)
        self.fields["to_unit"].set_purpose(transfer_purpose(member))

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("to_unit")) == bool(cleaned.get("destination", "").strip()):
            raise forms.ValidationError(_("Choose a unit in the county, or write a destination outside it."))
        if cleaned.get("destination") and not cleaned.get("on_date"):
            self.add_error("on_date", _("Give the date the member leaves the county."))
        return cleaned


class TransferReceiveForm(forms.Form):
    """The receiving side asks for a member by full ID number."""

    id_number = forms.CharField(label=_("ID number of the member"), max_length=22)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, branches: QuerySet[Organization], **kwargs):
        """`branches`: those of the `branches` purpose (unit_search.record_branches)."""
        super().__init__(*args, **kwargs)
        add_branch_field(self, "to_unit", branches, label=_("Into branch"))
        self.order_fields(["id_number", "to_unit", "note"])


class TransferApproveForm(forms.Form):
    """The receiving committee places the member in one of its branches."""

    to_branch = SearchedUnitField(
        queryset=None,
        purpose="",  # the transfer's, set in __init__
        required=False,
        label=_("Into branch"),
    )

    def __init__(self, *args, transfer: Transfer, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to_branch"]
        field.queryset = transfers.branches_to_place_in(transfer)
        field.set_purpose(approve_purpose(transfer))
        if not self.is_bound:
            field.choose_the_only_unit()


class TransferRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
