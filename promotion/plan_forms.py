"""The yearly plan form of the county pages of 推优. It validates input only; the service records."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from promotion.models import Track


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
