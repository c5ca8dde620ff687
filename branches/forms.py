"""Forms validate input and offer only choices inside the user's scope; services do the writing."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from branches.account_search import SearchedAccountField, successor_candidates, successor_purpose
from branches.models import (
    ALLOWED_CHILD_KINDS,
    INSTANCE_ROLES,
    ROLE_UNIT_KINDS,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    User,
)
from branches.party_search import (
    SearchedPartyOrganizationField,
    pairing_candidates,
    pairing_purpose,
    role_party_organizations,
)
from branches.scope import user_scope
from branches.security import locked_until
from branches.unit_search import SearchedUnitField, move_purpose, new_parent_candidates, role_units

phone_validator = RegexValidator(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    _("Enter a mobile number of 11 digits or a landline such as 0851-12345678."),
)


def attach_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form: on its field where it names one, else on top."""
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.error_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def submit_helper(label: str, css_class: str = "btn-danger") -> FormHelper:
    helper = FormHelper()
    button = Submit("submit", label)
    button.field_classes = f"btn {css_class}"
    helper.add_input(button)
    return helper


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LockoutAwareAuthenticationForm(AuthenticationForm):
    """Sign-in that tells a locked username when it may try again (the lock itself is enforced by
    branches.backends). The message is the same for every username, existing or not."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct."),
        "locked": _(
            "Too many failed sign-ins for this username. It is locked until %(until)s; "
            "try again then, or ask your administrator."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            # The authentication backend refused a locked username: say so, and until when.
            until = locked_until(self.cleaned_data.get("username", "")) if self.request else None
            if until is None or not getattr(self.request, "sign_in_locked", False):
                raise
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"until": date_format(timezone.localtime(until), "H:i")},
            ) from None


class NewPasswordRequiredForm(PasswordChangeForm):
    """Changing a password means choosing a different one: a temporary password issued by an
    administrator must not stay in use."""

    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1")
        if new and self.user.check_password(new):
            raise forms.ValidationError(
                _("Choose a password different from the current one."), code="password_unchanged"
            )
        return new


class OrganizationForm(forms.ModelForm):
    """Create or edit a unit's details. The kind is chosen only when creating."""

    class Meta:
        model = Organization
        fields = [
            "name",
            "code",
            "kind",
            "sector",
            "founded_on",
            "approved_by",
            "party_organization",
            "contact_phone",
        ]
        widgets = {"founded_on": DateInput()}
        field_classes = {"party_organization": SearchedPartyOrganizationField}

    def __init__(self, *args, parent: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        anchor = parent or self.instance
        party_organization = self.fields["party_organization"]
        party_organization.queryset = pairing_candidates(anchor)
        party_organization.set_purpose(pairing_purpose(anchor))
        self.fields["contact_phone"].validators.append(phone_validator)
        if self.instance.pk:
            del self.fields["kind"]
        else:
            allowed = ALLOWED_CHILD_KINDS[parent.kind] if parent else frozenset()
            self.fields["kind"].choices = [(k, label) for k, label in OrganizationKind.choices if k in allowed]
            # A new unit is usually approved by, and paired like, the unit it is created under.
            self.initial.setdefault("approved_by", parent.name)
            self.initial.setdefault("party_organization", parent.party_organization_id)
            self.initial.setdefault("sector", parent.sector)
        self.helper = submit_helper(_("Save"))

    def clean_founded_on(self):
        founded_on = self.cleaned_data.get("founded_on")
        if founded_on and founded_on > timezone.localdate():
            raise forms.ValidationError(_("The founding date cannot be in the future."))
        return founded_on

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        clash = Organization.objects.filter(code=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("Another unit already uses the code %(code)s."), params={"code": code})
        return code


class PartyOrganizationForm(forms.ModelForm):
    class Meta:
        model = PartyOrganization
        fields = ["name", "contact_name", "contact_phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_phone"].validators.append(phone_validator)
        self.helper = submit_helper(_("Save"))


class OrganizationMoveForm(forms.Form):
    new_parent = SearchedUnitField(queryset=Organization.objects.none(), purpose="", label=_("Move under"))

    def __init__(self, *args, user: User, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = new_parent_candidates(user, organization)
        self.fields["new_parent"].set_purpose(move_purpose(organization))
        self.helper = submit_helper(_("Move"))


class OrganizationDissolveForm(forms.Form):
    on_date = forms.DateField(label=_("Dissolved on"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason for dissolving"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label=_("I understand the unit will be marked dissolved. Its records stay and it can be seen in history.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Dissolve"))

    def clean_on_date(self):
        on_date = self.cleaned_data["on_date"]
        if on_date > timezone.localdate():
            raise forms.ValidationError(_("The dissolution date cannot be in the future."))
        return on_date


class RoleChoiceMixin(forms.Form):
    """Role, unit and Party organization fields limited to what the actor may grant."""

    role = forms.ChoiceField(label=_("Role"))
    organization = SearchedUnitField(
        queryset=Organization.objects.none(), purpose="roles", required=False, label=_("Unit")
    )
    party_organization = SearchedPartyOrganizationField(
        queryset=PartyOrganization.objects.none(), purpose="roles", required=False, label=_("Party organization")
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput(), initial=timezone.localdate)
    may_export_records = forms.BooleanField(
        label=_("May export records to files"),
        required=False,
        help_text=_("Member lists to Excel or CSV. Give it only to those who need it."),
    )

    def setup_role_fields(self, actor: User) -> None:
        scope = user_scope(actor)
        security_admin = actor.is_superuser or scope.has_role(Role.SECURITY_ADMIN)
        roles = [(r, label) for r, label in Role.choices if security_admin or r not in INSTANCE_ROLES]
        self.fields["role"].choices = roles
        self.fields["organization"].queryset = role_units(actor)
        self.fields["party_organization"].queryset = role_party_organizations(actor)

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in ROLE_UNIT_KINDS and not cleaned.get("organization") and not self.has_error("organization"):
            self.add_error("organization", _("Choose the unit this role is for."))
        if (
            role == Role.PARTY_ORGANIZER
            and not cleaned.get("party_organization")
            and not self.has_error("party_organization")
        ):
            self.add_error("party_organization", _("Choose the Party organization."))
        return cleaned


class AccountCreateForm(RoleChoiceMixin):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only; used to sign in."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False, validators=[phone_validator])
    email = forms.EmailField(label=_("Email"), required=False, help_text=_("Needed to reset the password by email."))
    field_order = [
        "username",
        "full_name",
        "phone",
        "email",
        "role",
        "organization",
        "party_organization",
        "starts_on",
        "may_export_records",
    ]

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_role_fields(actor)
        self.helper = submit_helper(_("Create account"))

    def clean_username(self):
        username = self.cleaned_data["username"].strip().lower()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username


class RoleGrantForm(RoleChoiceMixin):
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput(), required=False)
    deputy_for = SearchedAccountField(
        queryset=User.objects.none(),
        purpose="deputy",
        required=False,
        label=_("As deputy for"),
        help_text=_("Leave empty unless this account stands in for another holder of the same role."),
    )

    def __init__(self, *args, actor: User, accounts, **kwargs):
        """`accounts`: those of the `deputy` purpose (selectors.manageable_accounts)."""
        super().__init__(*args, **kwargs)
        self.setup_role_fields(actor)
        self.fields["deputy_for"].queryset = accounts
        self.helper = submit_helper(_("Assign role"))


class RoleEndForm(forms.Form):
    on_date = forms.DateField(label=_("Last day of the role"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("End role"))


class HandOverForm(forms.Form):
    successor = SearchedAccountField(queryset=User.objects.none(), label=_("Successor"))
    on_date = forms.DateField(label=_("Successor takes over on"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, accounts, exclude: User, **kwargs):
        """`accounts`: those the user administers (selectors.manageable_accounts); `exclude`: the
        role's holder."""
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = successor_candidates(accounts, exclude)
        self.fields["successor"].set_purpose(successor_purpose(exclude))
        self.helper = submit_helper(_("Hand over"))


class AccountSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
