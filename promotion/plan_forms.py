"""Forms of the committee and county pages of 推优: the review decision and the yearly plan. They
validate input only; the services decide and record."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from promotion.models import Track


class CaseIdsField(forms.Field):
    """The ids of the cases ticked on the review queue (checkboxes named alike)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Tick at least one case."), "invalid": _("Unknown case.")}

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class ReviewDecisionForm(forms.Form):
    """One decision and one comment for every ticked case: return and reject must say why."""

    DECISIONS = [
        ("approve", _("Approve")),
        ("return", _("Return to the branch")),
        ("reject", _("Do not approve")),
    ]
    cases = CaseIdsField()
    decision = forms.ChoiceField(
        label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when returning or rejecting: the branch reads it."),
    )
    # Rejecting ends a case for good: the page asks once more before it goes through.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("decision") in ("return", "reject") and not data.get("comment", "").strip():
            self.add_error("comment", _("Say why: the branch needs the reason to act on it."))
        return data

    @property
    def needs_confirmation(self) -> bool:
        return self.cleaned_data["decision"] == "reject" and not self.cleaned_data["confirmed"]


class PlanForm(forms.Form):
    """A committee's targets for one year: a number per unit under it and per track."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units: list[Organization], initial_targets: dict[tuple[int, str], int], **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units
        for unit in units:
            for track in Track:
                self.fields[self.field_name(unit.pk, track)] = forms.IntegerField(
                    label=f"{unit.name} · {track.label}",
                    min_value=0,
                    max_value=999,
                    required=False,
                    initial=initial_targets.get((unit.pk, track.value)),
                    widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric"}),
                )

    @staticmethod
    def field_name(unit_pk: int, track: str) -> str:
        return f"target_{unit_pk}_{track}"

    def rows(self) -> list[tuple[Organization, list[forms.BoundField]]]:
        """One row per unit with its fields in track order, for the table on the page."""
        return [(unit, [self[self.field_name(unit.pk, track)] for track in Track]) for unit in self.units]

    def targets(self) -> dict[tuple[int, str], int]:
        """The targets entered; an empty box means no target for that unit and track."""
        return {
            (unit.pk, track.value): value
            for unit in self.units
            for track in Track
            if (value := self.cleaned_data.get(self.field_name(unit.pk, track))) is not None
        }
