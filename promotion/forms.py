"""Forms of the branch's 推优 pages: they parse and present; promotion/services.py checks the rules and
changes the stage."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import DateInput
from branches.models import PartyOrganization, User
from branches.party_search import SearchedPartyOrganizationField, hand_over_purpose
from members.models import Member
from promotion.hand_over import hand_over_choices
from promotion.models import OpinionSource, PromotionCase, Track

TEXT_ROWS = 4


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class MonthField(forms.DateField):
    """A month, as browsers send it from <input type="month"> ("2025-03"); cleaned to its first day."""

    widget = MonthInput
    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("Enter a month such as 2025-03.")}


def textarea(rows: int = TEXT_ROWS) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CaseOpenForm(forms.Form):
    """Open a case for a member of the branch's active roster. The Party application date is often known
    only to the month (智慧团建 records it so): "2025-03" is accepted as well as a whole date."""

    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Member"))
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices, initial=Track.ACTIVIST)
    party_applied_on = forms.CharField(
        label=_("Party application date"),
        max_length=10,
        help_text=_("A date such as 2025-03-15, or only the month, such as 2025-03."),
        widget=forms.TextInput(attrs={"placeholder": "2025-03", "inputmode": "numeric", "autocomplete": "off"}),
    )
    activist_since = forms.DateField(
        label=_("Party activist since"),
        required=False,
        widget=DateInput(),
        help_text=_(
            "For the track activist → development candidate: the day the Party named the member activist. "
            "Left empty, the date recorded on the member's activist-track case is used."
        ),
    )

    def __init__(self, *args, members: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: f"{m.name}（{m.id_number_masked[-4:]}）"

    def clean_party_applied_on(self) -> tuple[date, bool]:
        """(the date, whether only its month is known)."""
        raw = self.cleaned_data["party_applied_on"].strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", raw)
        try:
            if not match:
                raise ValueError
            year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
            applied_on = date(year, month, day)
        except ValueError:
            raise ValidationError(_("Enter a date such as 2025-03-15 or a month such as 2025-03.")) from None
        return applied_on, match[3] is None

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        applied_on, month_only = data["party_applied_on"]
        return {
            "member": data["member"],
            "track": data["track"],
            "party_applied_on": applied_on,
            "month_only": month_only,
            "activist_since": data["activist_since"],
        }


class CultivationReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"), coerce=int, choices=[(q, _("Quarter %(q)d") % {"q": q}) for q in range(1, 5)]
    )
    content = forms.CharField(
        label=_("Performance in League work"),
        widget=textarea(6),
        help_text=_("What the member did in League work this quarter, as reported to the Party organization."),
    )


class FollowUpReportForm(forms.Form):
    month = MonthField(label=_("Month reported on"))
    thinking = forms.CharField(label=_("Thinking (思想)"), widget=textarea())
    work = forms.CharField(label=_("Work (工作)"), widget=textarea())
    study = forms.CharField(label=_("Study (学习)"), widget=textarea())


class TalkForm(forms.Form):
    held_on = forms.DateField(label=_("Date of the talk"), widget=DateInput(), initial=timezone.localdate)
    held_by = forms.CharField(label=_("Talked with by"), max_length=50)
    summary = forms.CharField(label=_("Summary"), widget=textarea())


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=textarea(3))


class HandOverForm(forms.Form):
    handed_over_on = forms.DateField(label=_("Handed over on"), widget=DateInput(), initial=timezone.localdate)
    # Searched as the user types: county staff may choose among all of the county's (5,000 in a city).
    party_organization = SearchedPartyOrganizationField(
        queryset=PartyOrganization.objects.none(),
        label=_("Party organization"),
        required=False,
        help_text=_(
            "The one paired with the branch or with the nearest unit above it, unless you choose another: "
            "type part of its name."
        ),
    )

    def __init__(self, *args, user: User, case: PromotionCase, **kwargs):
        super().__init__(*args, **kwargs)
        party_organization = self.fields["party_organization"]
        party_organization.queryset = hand_over_choices(user, case.branch)
        party_organization.set_purpose(hand_over_purpose(case))


class PartyDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("The Party organization's decision"))
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput())
    comment = forms.CharField(label=_("Comment"), required=False, widget=textarea(2))

    def __init__(self, *args, decisions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = decisions


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=textarea(2))
    confirm = forms.BooleanField(
        label=_("I understand that a withdrawn case is closed for good."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class RoundCreateForm(forms.Form):
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices, initial=Track.ACTIVIST)
    title = forms.CharField(
        label=_("Title"), max_length=100, help_text=_("For example: 2025 first recommendation of activists.")
    )


class NominateForm(forms.Form):
    """List one case. The eligibility is checked by the service: a failing rule refuses, unless the county
    allows an exception with a reason; a shorter wait after the Party application needs its reason."""

    case = forms.IntegerField(widget=forms.HiddenInput)
    short_wait_reason = forms.CharField(label=_("Reason for a shorter wait"), required=False, widget=textarea(2))
    exception_reason = forms.CharField(label=_("Reason for the exception"), required=False, widget=textarea(2))


class ReasonForm(forms.Form):
    """A step that takes someone off or ends something: its reason, kept on the record."""

    reason = forms.CharField(label=_("Reason"), max_length=200, widget=textarea(2))


class OpinionForm(forms.Form):
    source = forms.ChoiceField(label=_("From"), choices=OpinionSource.choices)
    favourable = forms.TypedChoiceField(
        label=_("Opinion"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("In favour")), ("no", _("Not in favour"))],
        initial="yes",
        widget=forms.RadioSelect,
    )
    content = forms.CharField(label=_("What was said"), widget=textarea(3))


class VoteForm(forms.Form):
    """The branch general meeting on one page: who could vote, who came, and each candidate's votes.
    The figures' consistency (quorum, more votes than people) is the service's to judge."""

    meeting_on = forms.DateField(label=_("Meeting date"), widget=DateInput())
    voting_members = forms.IntegerField(
        label=_("Members entitled to vote"),
        min_value=1,
        help_text=_("Filled in from the branch's active roster; correct it if some may not vote."),
    )
    present_members = forms.IntegerField(label=_("Members present"), min_value=0)
    voting_members_reason = forms.CharField(
        label=_("Why fewer members than the roster may vote"),
        required=False,
        max_length=200,
        help_text=_("Only when fewer members are entitled to vote than the branch's active roster on the day."),
    )

    def __init__(self, *args, nominations: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.nominations = nominations
        for nomination in nominations:
            for kind, label in VOTE_KINDS:
                label = f"{nomination.case.member.name} {label}"
                self.fields[vote_field(nomination, kind)] = forms.IntegerField(
                    label=label,
                    min_value=0,
                    widget=forms.NumberInput(
                        attrs={"inputmode": "numeric", "min": 0, "class": "form-control", "aria-label": label}
                    ),
                )

    def candidate_rows(self) -> list[tuple[object, list[forms.BoundField]]]:
        return [(n, [self[vote_field(n, kind)] for kind, _label in VOTE_KINDS]) for n in self.nominations]

    def votes(self) -> dict[int, tuple[int, int, int]]:
        return {
            n.pk: tuple(self.cleaned_data[vote_field(n, kind)] for kind, _label in VOTE_KINDS)  # type: ignore[misc]
            for n in self.nominations
        }


VOTE_KINDS = (("for", _("for")), ("against", _("against")), ("abstaining", _("abstaining")))


def vote_field(nomination, kind: str) -> str:
    return f"{kind}-{nomination.pk}"


class PublicityForm(forms.Form):
    starts_on = forms.DateField(label=_("Publicity starts on"), widget=DateInput(), initial=timezone.localdate)


class ObjectionForm(forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=DateInput(), initial=timezone.localdate)
    content = forms.CharField(label=_("Objection"), widget=textarea(3))


class ObjectionResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[
            ("no", _("Not upheld: the case goes on")),
            ("yes", _("Upheld: the case goes back to cultivation")),
        ],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(label=_("Resolution"), widget=textarea(3))


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
