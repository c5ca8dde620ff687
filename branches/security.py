"""Sign-in lockout and the sign-in log.

Policy (settings LOGIN_FAILURE_*): 5 failed sign-ins for one username within 15 minutes lock that
username for 30 minutes from the fifth failure. The username is what is locked, whether or not an
account has it, so the answer never reveals which usernames exist.

Why not django-axes: it keeps one counter per username whose cool-off runs from the *last* attempt,
so it cannot express a 15-minute window with a separate 30-minute lock; the window needs each
failure's time, which the sign-in log below keeps anyway for the security administrator.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from branches.models import LoginEvent, User


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """When the username's lock ends, or None when it is not locked."""
    now = now or timezone.now()
    events = recent_lock_events(now).filter(username=normalize_username(username))
    return lock_end(list(events.values_list("kind", "at")), now)


def recent_lock_events(now: datetime):
    """The sign-in events that can still matter for a lock at `now`, oldest first."""
    since = now - settings.LOGIN_LOCKOUT_DURATION - settings.LOGIN_FAILURE_WINDOW
    return LoginEvent.objects.filter(
        kind__in=[LoginEvent.Kind.FAILURE, LoginEvent.Kind.UNLOCKED], at__gt=since, at__lte=now
    ).order_by("at")


def lock_end(events: list[tuple[str, datetime]], now: datetime) -> datetime | None:
    """Given one username's recent (kind, time) events, oldest first: when its lock ends, if locked.

    The lock starts at the failure that completes LOGIN_FAILURE_LIMIT failures inside one
    LOGIN_FAILURE_WINDOW, and lasts LOGIN_LOCKOUT_DURATION; an administrator's unlock wipes the slate.
    """
    limit, window = settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW
    failures: list[datetime] = []
    for kind, at in events:
        if kind == LoginEvent.Kind.UNLOCKED:
            failures.clear()
        else:
            failures.append(at)
    for first, last in zip(failures, failures[limit - 1 :], strict=False):
        if last - first <= window and now < last + settings.LOGIN_LOCKOUT_DURATION:
            return last + settings.LOGIN_LOCKOUT_DURATION
    return None


def client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record_login_event(
    kind: str, username: str, *, user: User | None = None, request: HttpRequest | None = None
) -> LoginEvent:
    return LoginEvent.objects.create(
        kind=kind, username=normalize_username(username), user=user, ip_address=client_ip(request)
    )


@receiver(user_login_failed)
def _record_failure(sender, credentials, request=None, **kwargs) -> None:
    # An attempt on a locked username is refused without checking the password; it is logged as
    # such and does not count towards another lock.
    kind = LoginEvent.Kind.LOCKED if getattr(request, "sign_in_locked", False) else LoginEvent.Kind.FAILURE
    record_login_event(kind, credentials.get("username", ""), request=request)


@receiver(user_logged_in)
def _record_success(sender, request, user, **kwargs) -> None:
    record_login_event(LoginEvent.Kind.SUCCESS, user.username, user=user, request=request)
    # The absolute session lifetime is counted from here (SessionLifetimeMiddleware).
    request.session["signed_in_at"] = timezone.now().isoformat()


@receiver(user_logged_out)
def _record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_login_event(LoginEvent.Kind.LOGOUT, user.username, user=user, request=request)
