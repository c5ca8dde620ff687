"""Authentication: the sign-in lock is enforced here, so it holds on every sign-in path (our form,
the Django admin's, any future API), and usernames match whatever their letter case."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from branches.security import locked_until


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and locked_until(username) is not None:
            if request is not None:
                request.sign_in_locked = True  # read by the sign-in form and the sign-in log
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
