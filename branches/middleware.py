"""Session rules: a 12-hour absolute lifetime, and a forced change of a temporary password."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _


class SessionLifetimeMiddleware:
    """End a session 12 hours after sign-in, however active (the idle limit is the cookie age)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            signed_in_at = request.session.get("signed_in_at")
            expired = signed_in_at is None or (
                timezone.now() - datetime.fromisoformat(signed_in_at) > settings.SESSION_ABSOLUTE_LIFETIME
            )
            if expired:
                logout(request)
                messages.info(request, _("Your session has ended. Please sign in again."))
                return redirect(f"{reverse('login')}?next={request.path}")
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """An account given a temporary password can do nothing until it sets its own."""

    allowed_url_names = ("password_change", "password_change_done", "logout", "set_language")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        must_change = user.is_authenticated and user.must_change_password
        if must_change and _url_name(request.path_info) not in self.allowed_url_names:
            messages.warning(request, _("Please choose your own password before you continue."))
            return redirect("password_change")
        return self.get_response(request)


def _url_name(path: str) -> str | None:
    try:
        return resolve(path).url_name
    except Resolver404:
        return None
