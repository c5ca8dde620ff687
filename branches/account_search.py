"""Account pickers that search as the user types (issue 8, branches/searched_choices): a city has
5,700 accounts. One is searched as the account list searches, and shown with its username, which
tells namesakes apart."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import User
from branches.searched_choices import SearchedChoiceField, SearchedKind
from branches.selectors import get_account_for_user, manageable_accounts, may_manage_accounts


def accounts_matching(accounts: QuerySet[User], text: str) -> QuerySet[User]:
    """The accounts whose username, full name or phone number contains `text`."""
    return accounts.filter(Q(username__icontains=text) | Q(full_name__icontains=text) | Q(phone__icontains=text))


def successor_candidates(accounts: QuerySet[User], holder: User) -> QuerySet[User]:
    """Who among `accounts` may take a role over from its holder: an enabled account, not theirs."""
    return accounts.filter(is_active=True).exclude(pk=holder.pk)


def successor_purpose(holder: User) -> str:
    return f"successor:{holder.pk}"


def _successors(user: User, pk: int) -> QuerySet[User]:
    # As the hand-over page reads it: for account administrators, of a holder in their remit.
    if not may_manage_accounts(user):
        raise PermissionDenied
    return successor_candidates(manageable_accounts(user), get_account_for_user(user, pk))


class Accounts(SearchedKind):
    url_name = "branches:account-choices"
    purposes = {"deputy": (may_manage_accounts, manageable_accounts)}
    object_purposes = {"successor": _successors}
    search_fields = ("username", "full_name", "phone")
    sort_field = "username"
    placeholder = gettext_lazy("Type part of a name or username")
    no_results = gettext_lazy("No account has this in its name, username or phone number.")
    invalid_choice = gettext_lazy(
        "This account cannot be chosen here. Type part of its name or username and pick it from the list."
    )

    def label(self, account: User) -> str:
        if not account.full_name:
            return account.username
        return _("%(name)s (%(username)s)") % {"name": account.full_name, "username": account.username}

    def search(self, accounts: QuerySet[User], text: str) -> QuerySet[User]:
        return (accounts_matching(accounts, text) if text else accounts).order_by("username")


ACCOUNTS = Accounts()


class SearchedAccountField(SearchedChoiceField):
    kind = ACCOUNTS
