"""Password rules of graded protection level 2 (等级保护 2.0): character classes, no username."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHARACTER_CLASSES = (
    set(string.ascii_uppercase),
    set(string.ascii_lowercase),
    set(string.digits),
    set(string.punctuation + " "),
)


class CharacterClassValidator:
    """At least `min_classes` of: upper case, lower case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        used = sum(1 for chars in CHARACTER_CLASSES if chars.intersection(password))
        if used < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _(
            "Your password must use at least %(count)d of these: upper-case letters, lower-case letters, "
            "digits, symbols."
        ) % {"count": self.min_classes}


class NoUsernameValidator:
    """The password must not contain the username, in any letter case."""

    def validate(self, password: str, user=None) -> None:
        username = getattr(user, "username", "") or ""
        if username and username.lower() in password.lower():
            raise ValidationError(self.get_help_text(), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("Your password must not contain your username.")
