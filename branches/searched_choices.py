"""Pickers that search as the user types (issue 8), for any model whose rows in scope are too many to
send as <option>s: a city has 6,000 units, 5,000 Party organizations and 5,700 accounts.

A picker renders only the row chosen (none, or the initial or posted one); static/js/unit-search.js
turns its <select> into a search box fed by its kind's endpoint. The design, in three parts:

- A *kind* (a SearchedKind: units in unit_search, Party organizations in party_search, accounts in
  account_search) says how its model is searched, labelled and sent, and which *purposes* it knows.
- A *purpose* names one picker's offer, e.g. "roles" or "successor:<account pk>"; the kind maps it,
  for the user asking, to the queryset the picker's form validates against, by the function the
  form's queryset comes from (role_units, pairing_candidates, …). The client never names a scope: an unknown purpose, or an object the user may not see,
  is 404; a picker the user may not use at all is 403, as its page is.
- One view (views.searched_choices) serves every kind, at one URL per kind (branches:unit-choices,
  branches:party-organization-choices, branches:account-choices), so that a purpose names one kind's
  rows only and each kind's pickers keep their URL.

Without JavaScript the plain <select> keeps the row chosen and offers nothing else: the form still
validates whatever arrives against the whole queryset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import ModelChoiceIterator
from django.http import Http404
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy

from branches.models import User

OBJECT_PURPOSE = re.compile(r"([a-z]+):([0-9]{1,18})")


class SearchedKind:
    """How one model's pickers are searched. A subclass sets the class attributes and `search`."""

    url_name: str  # the endpoint (views.searched_choices with this kind)
    # purpose → (may the user use this picker at all, the rows it offers them)
    purposes: Mapping[str, tuple[Callable[[User], bool], Callable[[User], QuerySet]]] = {}
    # purpose "<name>:<pk>" → the rows its picker offers for that object, which it reads for the user
    # as the picker's page does (404 or 403 the same)
    object_purposes: Mapping[str, Callable[[User, int], QuerySet]] = {}
    # The fields of a choice (as_choice) that the search matched, by which the browser narrows the
    # choices of earlier searches as the user types on, and the one it sorts them by.
    search_fields: tuple[str, ...]
    sort_field: str
    placeholder: str
    no_results: str
    invalid_choice: str
    # A search answers with this many rows: enough to pick from, few enough to send at once.
    shown = 20

    def offered(self, user: User, purpose: str) -> QuerySet:
        """The rows the picker named by `purpose` offers the user (404/403 as the module says)."""
        if (match := OBJECT_PURPOSE.fullmatch(purpose)) and match[1] in self.object_purposes:
            return self.object_purposes[match[1]](user, int(match[2]))
        if purpose not in self.purposes:
            raise Http404
        may_use, rows = self.purposes[purpose]
        if not may_use(user):
            raise PermissionDenied
        return rows(user)

    def with_label(self, rows: QuerySet) -> QuerySet:
        """The rows with what their labels read, in the same query."""
        return rows

    def label(self, row: Model) -> str:
        return str(row)

    def search(self, rows: QuerySet, text: str) -> QuerySet:
        """The rows matching `text` (stripped, maybe empty: then those most likely wanted), ordered."""
        raise NotImplementedError

    def found(self, rows: QuerySet, text: str) -> list[Model]:
        """What the endpoint answers for `text`: the first matches, in one query."""
        return list(self.search(self.with_label(rows), text.strip())[: self.shown])

    def as_choice(self, row: Model) -> dict[str, str]:
        """A row as static/js/unit-search.js reads it: value and label, and the search fields."""
        fields = dict.fromkeys((*self.search_fields, self.sort_field))
        return {"value": str(row.pk), "text": self.label(row)} | {field: str(getattr(row, field)) for field in fields}


class EmptyChoiceIterator(ModelChoiceIterator):
    """The field's choices are the empty one only, never every row in scope: SearchedSelect adds the
    row chosen."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)

    def __len__(self) -> int:
        return int(self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return len(self) > 0


class SearchedSelect(forms.Select):
    """A <select> of the empty choice and the row chosen; static/js/unit-search.js turns it into a
    search box over its kind's endpoint for the picker's purpose. (The script and its data-unit-*
    attributes are named for the first pickers, units.)"""

    def __init__(self, kind: SearchedKind, purpose: str, attrs: dict | None = None):
        super().__init__(
            attrs={
                "data-unit-search": reverse_lazy(kind.url_name),
                "data-unit-for": purpose,
                "data-search-fields": " ".join(kind.search_fields),
                "data-sort-field": kind.sort_field,
                "data-placeholder": kind.placeholder,
                "data-loading": gettext_lazy("Searching…"),
                "data-no-results": kind.no_results,
                "data-clear": gettext_lazy("Clear"),
                **(attrs or {}),
            }
        )

    class Media:
        css = {"all": ["vendor/tom-select-2.6.2/tom-select.bootstrap5.min.css", "css/unit-search.css"]}
        # Deferred, so that a page may put its media in <head>: they run once the page is read.
        js = [
            forms.Script("vendor/tom-select-2.6.2/tom-select.complete.min.js", defer=True),
            forms.Script("js/unit-search.js", defer=True),
        ]

    def optgroups(self, name, value, attrs=None):
        options = list(self.choices)
        row = self.choices.field.chosen(value[0]) if value else None
        if row is not None:
            options.append(self.choices.choice(row))
        return [
            (None, [self.create_option(name, option, label, str(option) in value, index, attrs=attrs)], index)
            for index, (option, label) in enumerate(options)
        ]


class SearchedChoiceField(forms.ModelChoiceField):
    """Validates the row against every row the picker offers (the queryset), but renders only the
    chosen one: the page costs the same for 10 or 60,000 rows. `purpose` names the picker's rows to
    its kind's endpoint (SearchedKind.offered): the form's queryset and the purpose's must agree. A
    subclass per kind sets `kind`, so that a ModelForm may name it in Meta.field_classes."""

    kind: SearchedKind
    iterator = EmptyChoiceIterator
    _validated: Model | None = None

    def __init__(self, queryset: QuerySet | None, *, purpose: str = "", **kwargs: Any):
        kwargs.setdefault("widget", SearchedSelect(self.kind, purpose))
        kwargs["error_messages"] = {"invalid_choice": self.kind.invalid_choice, **kwargs.get("error_messages", {})}
        super().__init__(queryset, **kwargs)

    def _set_queryset(self, queryset: QuerySet | None) -> None:
        super()._set_queryset(None if queryset is None else self.kind.with_label(queryset))

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def set_purpose(self, purpose: str) -> None:
        """For a picker whose rows depend on the page's object (a purpose "<name>:<pk>")."""
        self.widget.attrs["data-unit-for"] = purpose

    def label_from_instance(self, row: Model) -> str:
        return self.kind.label(row)

    def to_python(self, value) -> Model | None:
        self._validated = super().to_python(value)
        return self._validated

    def chosen(self, value: str) -> Model | None:
        """The row `value` names if it may be picked, else None; the row just validated is not read
        again."""
        if value in self.empty_values:
            return None
        if self._validated is not None and str(self._validated.pk) == value:
            return self._validated
        try:
            return self.to_python(value)
        except ValidationError:
            return None
