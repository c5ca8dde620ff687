"""Forms of the committee pages: an election with its rows of people, changes during a term, cadre
records, and the filters of the county-wide lists. They validate input and offer only choices in
the user's scope; committee_services does the writing."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.committee_selectors import MAX_TERM_YEARS, TermStatus, default_term_years
from branches.committee_services import CADRE_FIELDS, SeatInput, complete_cadre_fields
from branches.forms import DateInput, phone_validator, submit_helper
from branches.models import (
    Cadre,
    CommitteePost,
    CommitteeTerm,
    Education,
    Employment,
    Establishment,
    Organization,
    OrganizationKind,
    Sector,
    Sex,
    User,
)
from members.models import Member


def _blank(choices: list[tuple[str, Any]], label: str = "---------") -> list[tuple[str, Any]]:
    return [("", label), *choices]


class ElectionForm(forms.Form):
    elected_on = forms.DateField(label=_("Election date"), widget=DateInput(), initial=timezone.localdate)
    length_years = forms.IntegerField(
        label=_("Term length (years)"), required=False, min_value=1, max_value=MAX_TERM_YEARS
    )
    note = forms.CharField(
        label=_("Election note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("How the election was held: attendance, votes, approval by the committee above."),
    )

    def __init__(self, *args, unit: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["length_years"].help_text = _("Leave empty for the usual %(years)d years.") % {
            "years": default_term_years(unit)
        }
        self.helper = FormHelper()
        self.helper.form_tag = False


class SeatRowForm(forms.Form):
    """One person on the committee: a cadre already recorded by the unit, or a new person, typed in
    or taken from a member record of the unit's roster."""

    post = forms.ChoiceField(label=_("Post"), choices=_blank(CommitteePost.choices), required=False)
    cadre = forms.ModelChoiceField(label=_("Person already recorded"), queryset=Cadre.objects.none(), required=False)
    member = forms.ModelChoiceField(
        label=_("Or a member of the roster"), queryset=Member.objects.none(), required=False
    )
    name = forms.CharField(label=_("Or a new person: full name"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank(Sex.choices), required=False)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput(), required=False)
    education = forms.ChoiceField(label=_("Education"), choices=_blank(Education.choices), required=False)
    employment = forms.ChoiceField(
        label=_("Full-time or part-time"), choices=_blank(Employment.choices), required=False
    )
    establishment = forms.ChoiceField(label=_("Establishment"), choices=_blank(Establishment.choices), required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False, validators=[phone_validator])

    def __init__(
        self,
        *args,
        actor: User,
        cadres: QuerySet[Cadre],
        roster: QuerySet[Member],
        choices: dict[str, list] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.actor = actor
        choices = choices or seat_choices(cadres, roster)
        self.fields["cadre"].queryset = cadres
        self.fields["cadre"].choices = choices["cadre"]
        if len(choices["member"]) > 1:
            self.fields["member"].queryset = roster
            self.fields["member"].choices = choices["member"]
        else:
            del self.fields["member"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("post"):
            self.add_error("post", _("Choose the post."))
        if cleaned.get("cadre") is None:
            try:
                complete_cadre_fields(actor=self.actor, fields=cleaned)
            except ValidationError as exc:
                for name, errors in exc.error_dict.items():
                    self.add_error(name if name in self.fields else None, errors)
        return cleaned

    def seat_input(self) -> SeatInput:
        data = self.cleaned_data
        cadre = data.get("cadre")
        person = None if cadre else {name: data.get(name) for name in (*CADRE_FIELDS, "member")}
        return SeatInput(post=data["post"], cadre=cadre, person=person)


def seat_choices(cadres: QuerySet[Cadre], roster: QuerySet[Member]) -> dict[str, list]:
    """The rows' choices, read once for a whole formset (not once per row)."""
    return {
        "cadre": [("", "---------"), *((c.pk, f"{c.name} ({c.birth_date:%Y-%m-%d})") for c in cadres)],
        "member": [("", "---------"), *((m.pk, f"{m.name} ({m.birth_date:%Y-%m-%d})") for m in roster)],
    }


class BaseSeatFormSet(forms.BaseFormSet):
    def __init__(self, *args, actor: User, cadres: QuerySet[Cadre], roster: QuerySet[Member], **kwargs):
        row_kwargs = {"actor": actor, "cadres": cadres, "roster": roster, "choices": seat_choices(cadres, roster)}
        super().__init__(*args, form_kwargs=row_kwargs, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Not on the new committee")

    def seat_inputs(self) -> list[SeatInput]:
        """The rows filled in and not removed."""
        return [
            form.seat_input()
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]


SeatFormSet = forms.formset_factory(
    SeatRowForm, formset=BaseSeatFormSet, extra=2, can_delete=True, max_num=30, validate_max=True
)


class SeatAddForm(SeatRowForm):
    since = forms.DateField(label=_("In the post since"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("For example: co-opted at the committee meeting of 5 May."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].required = True
        self.helper = submit_helper(_("Add to the committee"), "btn-danger")


class SeatEndForm(forms.Form):
    until = forms.DateField(label=_("Last day in the post"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("For example: resigned, moved away, transferred."),
    )
    confirm = forms.BooleanField(
        label=_("I understand the person leaves the committee. Their record and past posts stay.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("End the post"))


class CadreForm(forms.ModelForm):
    class Meta:
        model = Cadre
        fields = [
            "member",
            "name",
            "sex",
            "birth_date",
            "education",
            "employment",
            "establishment",
            "phone",
            "age_exception",
        ]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args, roster: QuerySet[Member], may_grant_exception: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_grant_exception:
            # Shown, not offered: the committee above records exceptions (a disabled field keeps
            # its value whatever is posted).
            self.fields["age_exception"].disabled = True
            self.fields["age_exception"].help_text = _("Recorded by the committee above.")
        # The linked record stays choosable even after the member left the roster.
        self.fields["member"].queryset = Member.objects.filter(Q(pk__in=roster) | Q(pk=self.instance.member_id))
        self.fields["member"].label_from_instance = lambda m: f"{m.name} ({m.birth_date:%Y-%m-%d})"
        for name in ("name", "sex", "birth_date", "education"):
            self.fields[name].required = False  # taken from the member record when left blank
        self.fields["phone"].validators.append(phone_validator)
        self.helper = submit_helper(_("Save"))


class TermCorrectForm(forms.Form):
    starts_on = forms.DateField(label=_("Election date"), widget=DateInput())
    length_years = forms.IntegerField(label=_("Term length (years)"), min_value=1, max_value=MAX_TERM_YEARS)
    note = forms.CharField(label=_("Election note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, term: CommitteeTerm, **kwargs):
        initial = {"starts_on": term.starts_on, "length_years": term.length_years, "note": term.note}
        super().__init__(*args, initial=initial, **kwargs)
        self.helper = submit_helper(_("Correct the term"))
        self.helper.form_action = reverse("branches:committee-term-correct", kwargs={"pk": term.pk})


# --- filters of the lists -------------------------------------------------------------------------


class TermFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=_blank(TermStatus.CHOICES, _("Any status")), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=_blank(OrganizationKind.choices, _("Any kind")), required=False)
    sector = forms.ChoiceField(label=_("Sector"), choices=_blank(Sector.choices, _("Any sector")), required=False)
    township = forms.ModelChoiceField(
        label=_("Township committee"), queryset=Organization.objects.none(), required=False, empty_label=_("All")
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        # Earliest first by default: those with no term recorded, then the overdue, lead the list.
        choices=[
            ("", _("Due date, earliest first")),
            ("-due", _("Due date, latest first")),
            ("tree", _("By the tree")),
        ],
        required=False,
    )

    def __init__(self, *args, townships: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


class CadreFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    post = forms.ChoiceField(label=_("Post"), choices=_blank(CommitteePost.choices, _("Any post")), required=False)
    employment = forms.ChoiceField(
        label=_("Full-time or part-time"), choices=_blank(Employment.choices, _("Any")), required=False
    )
    establishment = forms.ChoiceField(
        label=_("Establishment"), choices=_blank(Establishment.choices, _("Any")), required=False
    )
    over_age = forms.BooleanField(label=_("Over the age norm only"), required=False)
    former = forms.BooleanField(label=_("Include people no longer holding a post"), required=False)


class StatisticsForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Committee"), queryset=Organization.objects.none(), required=False, empty_label=_("All my units")
    )
    day = forms.DateField(label=_("On"), widget=DateInput(), required=False, initial=timezone.localdate)

    def __init__(self, *args, units: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
