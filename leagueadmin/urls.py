from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from branches.forms import LockoutAwareAuthenticationForm
from branches.views import PasswordChangeView, PasswordResetConfirmView, healthz, home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LockoutAwareAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("password_change/", PasswordChangeView.as_view(), name="password_change"),
    path("reset/<uidb64>/<token>/", PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("branches.urls")),
    path("members/", include("members.urls")),
    path("promotion/", include("promotion.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]
