"""Forms of branch life: parse and present; the rules are checked by branches.activity_services
(the files too, once, by their content: the forms only collect them).

The record form is filled on a phone right after a meeting: one page, the likely values already in
(today, a themed League day, the usual place, this month's county topic, everyone present).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.activity_selectors import month_start, sits_on_committee
from branches.activity_services import ATTACHMENT_MAX_COUNT
from branches.forms import DateInput
from branches.models import Activity, ActivityKind, Organization, Sector, ThemedDayTopic
from members.models import Member

ACCEPTED_FILES = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class AttachmentsForm(forms.Form):
    files = MultipleFileField(
        label=_("Photos and PDF files"),
        help_text=_("JPEG or PNG photos and PDF files, up to %(n)d per activity.") % {"n": ATTACHMENT_MAX_COUNT},
    )


class ActivityForm(forms.ModelForm):
    files = MultipleFileField(
        label=_("Photos and PDF files"),
        help_text=_("JPEG or PNG photos and PDF files, up to %(n)d per activity.") % {"n": ATTACHMENT_MAX_COUNT},
    )

    class Meta:
        model = Activity
        fields = [
            "kind",
            "held_on",
            "themed_day_topic",
            "topic",
            "place",
            "chair",
            "note_taker",
            "content",
            "resolutions",
            "votes_for",
            "votes_against",
            "votes_abstaining",
            "present_count",
            "absent_count",
        ]
        widgets = {
            "held_on": DateInput(),
            "content": forms.Textarea(attrs={"rows": 4}),
            "resolutions": forms.Textarea(attrs={"rows": 2}),
            "votes_for": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "votes_against": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "votes_abstaining": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "present_count": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "absent_count": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
        }

    def __init__(self, *args, topics, with_roster: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].required = False  # taken from the county's topic when one is chosen
        if topics.exists():
            self.fields["themed_day_topic"].queryset = topics
            self.fields["themed_day_topic"].label_from_instance = lambda t: f"{t.month:%Y-%m} {t.title}"
            self.fields["themed_day_topic"].empty_label = _("— no county topic —")
            self.fields["themed_day_topic"].help_text = _("The county's topic for the month, if the day followed it.")
        else:  # the county has published none lately: nothing to choose
            del self.fields["themed_day_topic"]
        if with_roster:  # attendance comes from the roster, the counts from it
            del self.fields["present_count"], self.fields["absent_count"]
        else:
            self.fields["present_count"].required = False
            self.fields["absent_count"].required = False
        for name in ("chair", "note_taker", "place"):
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") != ActivityKind.THEMED_DAY:
            cleaned["themed_day_topic"] = None  # the choice is hidden for other kinds (a default may linger)
        return cleaned


@dataclass(frozen=True)
class AttendanceRow:
    member: Member
    listed: bool  # on the activity's attendance list
    present: bool
    reason: str
    committee: bool  # sits on the branch committee: expected at its meetings


class AttendanceForm(forms.Form):
    """The roster as posted: each listed member's id in `attendee`, a `present-<id>` checkbox and a
    `reason-<id>` text. An id from outside the roster is refused, not dropped."""

    def __init__(self, data=None, *, members: list[Member], kept: dict[int, tuple[bool, str]] | None = None):
        super().__init__(data)
        self.members = members
        self.kept = kept  # the attendance of the activity being edited; None for a new one

    def clean(self):
        cleaned = super().clean()
        roster = {m.pk for m in self.members}
        ids = []
        for raw in self.data.getlist("attendee"):
            try:
                ids.append(int(raw))
            except ValueError:
                raise forms.ValidationError(_("The attendance list is damaged; reload the page.")) from None
        strangers = [pk for pk in ids if pk not in roster]
        if strangers:
            raise forms.ValidationError(
                _("%(n)d of the people listed are not members of this branch.") % {"n": len(strangers)}
            )
        cleaned["attendance"] = {
            pk: (f"present-{pk}" in self.data, self.data.get(f"reason-{pk}", "").strip()) for pk in ids
        }
        return cleaned

    def rows(self) -> list[AttendanceRow]:
        """Each member as the page shows them: as posted, as kept, or (a new record) present."""
        rows = []
        posted = set(self.data.getlist("attendee")) if self.is_bound else set()
        for m in self.members:
            if self.is_bound:
                listed = str(m.pk) in posted
                present = f"present-{m.pk}" in self.data if listed else True
                reason = self.data.get(f"reason-{m.pk}", "")
            elif self.kept is None:
                listed, present, reason = True, True, ""
            else:
                listed = m.pk in self.kept
                present, reason = self.kept.get(m.pk, (True, ""))
            rows.append(AttendanceRow(m, listed, present, reason, sits_on_committee(m)))
        return rows


class ActivityFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All types")), *ActivityKind.choices]


class CompletenessFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter or year"),
        coerce=int,
        empty_value=0,
        required=False,
        choices=[(0, _("Whole year")), (1, _("Q1")), (2, _("Q2")), (3, _("Q3")), (4, _("Q4"))],
    )
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    township = forms.ModelChoiceField(
        label=_("Committee"), queryset=Organization.objects.none(), required=False, empty_label=_("All")
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("All branches")), ("silent", _("Silent branches")), ("gaps", _("Branches with gaps"))],
    )

    def __init__(self, *args, committees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"].choices = [("", _("All")), *Sector.choices]
        self.fields["township"].queryset = committees


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Why the record is wrong, e.g. entered twice, or for the wrong branch."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ThemedDayTopicForm(forms.ModelForm):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    class Meta:
        model = ThemedDayTopic
        fields = ["month", "title", "description", "record_by"]
        widgets = {"record_by": DateInput(), "description": forms.Textarea(attrs={"rows": 4})}

    def clean_month(self) -> date:
        return month_start(self.cleaned_data["month"])
