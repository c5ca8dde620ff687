"""Session rules: an idle limit renewed sparingly, a 12-hour absolute lifetime, and a forced change of a
temporary password."""

from __future__ import annotations

import time
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

# Activity renews a session's idle expiry (its row and its cookie) at most this often. Saving the
# session on every request cost an UPDATE of django_session (4-5 ms) per page; a user busy within the
# minute needs no new expiry. The price: a session may end up to one interval before the idle limit
# (SESSION_COOKIE_AGE) has passed since the last request (29 to 30 minutes by default), never later.
SESSION_RENEWAL_SECONDS = 60
# When the session was last saved, and so its expiry last set (seconds since the epoch).
RENEWED_AT = "renewed_at"


class SessionRenewalMiddleware:
    """Keep an active session alive: have SessionMiddleware save it, and resend its cookie, with a fresh
    expiry when the last renewal is older than the renewal interval."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # No more than a thirtieth of the idle limit, so that a short SESSION_IDLE_SECONDS does not end
        # the sessions of active users.
        self.interval = min(SESSION_RENEWAL_SECONDS, settings.SESSION_COOKIE_AGE / 30)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # Read before is_empty(): loading is what tells a stale cookie's session from a live one.
        renewed_at = session.get(RENEWED_AT)
        if session.is_empty():  # no session, signed out, or expired: nothing to keep alive
            return response
        now = time.time()
        if session.modified or renewed_at is None or now - renewed_at >= self.interval:
            # Marks the session modified: SessionMiddleware saves it with a new expiry and sends the
            # cookie again (both SESSION_COOKIE_AGE from now). A session saved anyway records it too.
            session[RENEWED_AT] = now
        return response


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
