"""Forms of the report archive: asking for a report, filtering the archive, the Party's intake totals."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import PartyIntake, ReportKind
from reports.periods import FIRST_YEAR, LAST_YEAR, Period, PeriodOutOfRange
from reports.selectors import SCOPE_PARTY, SCOPE_UNIT


class PeriodField(forms.CharField):
    """A month (2026-09) or a quarter (2026-Q3), cleaned to a Period."""

    default_error_messages = {
        "invalid": _("Enter the period as 2026-Q3 (a quarter) or 2026-09 (a month)."),
        "out_of_range": _("Reports cover the years %(first)s to %(last)s."),
    }

    def to_python(self, value):
        value = super().to_python(value).strip().upper()
        if value in self.empty_values:
            return None
        if len(value) > 8:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return Period.parse(value)
        except PeriodOutOfRange:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            ) from None
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReportRequestForm(forms.Form):
    """What the dashboards, the report page and the archive post to ask for a report (reports:request)."""

    kind = forms.ChoiceField(
        label=_("Report"),
        choices=ReportKind.choices,
        error_messages={"invalid_choice": _("Unknown kind of report."), "required": _("Choose the kind of report.")},
    )
    scope = forms.ChoiceField(
        choices=[(SCOPE_UNIT, _("League unit")), (SCOPE_PARTY, _("Party organization"))],
        error_messages={"invalid_choice": _("Unknown scope."), "required": _("Choose the unit.")},
    )
    scope_id = forms.IntegerField(
        min_value=1, error_messages={"invalid": _("Choose the unit."), "required": _("Choose the unit.")}
    )
    period = PeriodField(label=_("Reporting period"), error_messages={"required": _("Choose the period.")})

    def clean(self):
        data = super().clean()
        if data.get("kind") == ReportKind.QUARTERLY and data.get("scope") == SCOPE_PARTY:
            raise forms.ValidationError(_("The quarterly report is made for a League unit."))
        return data


class ArchiveFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Report"),
        choices=[("", _("All reports")), *ReportKind.choices],
        required=False,
        error_messages={"invalid_choice": _("Unknown kind of report: reports of every kind are listed.")},
    )
    period = PeriodField(
        label=_("Reporting period"), required=False, widget=forms.TextInput(attrs={"placeholder": "2026-Q3 / 2026-09"})
    )


class PartyIntakeForm(forms.ModelForm):
    class Meta:
        model = PartyIntake
        fields = ["new_members", "new_young_members"]
        error_messages = {
            "new_members": {"required": _("Enter the number of new Party members."), "invalid": _("Enter a number.")},
            "new_young_members": {
                "required": _("Enter how many of them are young people."),
                "invalid": _("Enter a number."),
            },
        }

    def clean(self):
        data = super().clean()
        young, all_members = data.get("new_young_members"), data.get("new_members")
        if young is not None and all_members is not None and young > all_members:
            self.add_error("new_young_members", _("Young new members cannot outnumber all new members."))
        return data
