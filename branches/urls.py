from django.urls import path

from branches import account_views, notification_views, views

app_name = "branches"

urlpatterns = [
    path("units/", views.tree, name="tree"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("units/<int:parent_pk>/new/", views.unit_create, name="unit-create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("units/<int:pk>/move/", views.unit_move, name="unit-move"),
    path("units/<int:pk>/dissolve/", views.unit_dissolve, name="unit-dissolve"),
    path("party-organizations/", views.party_organization_list, name="party-organizations"),
    path("party-organizations/new/", views.party_organization_create, name="party-organization-create"),
    path("party-organizations/<int:pk>/edit/", views.party_organization_edit, name="party-organization-edit"),
    path("accounts/", account_views.account_list, name="accounts"),
    path("accounts/new/", account_views.account_create, name="account-create"),
    path("accounts/<int:pk>/", account_views.account_detail, name="account"),
    path("accounts/<int:pk>/reset-password/", account_views.account_reset_password, name="account-reset-password"),
    path("accounts/<int:pk>/active/", account_views.account_set_active, name="account-set-active"),
    path("accounts/<int:pk>/roles/new/", account_views.role_grant, name="role-grant"),
    path("roles/<int:pk>/end/", account_views.role_end, name="role-end"),
    path("roles/<int:pk>/hand-over/", account_views.role_hand_over, name="role-hand-over"),
    path("security/sign-ins/", account_views.sign_in_log, name="sign-ins"),
    path("security/unlock/", account_views.unlock_username, name="unlock"),
    path("audit/", account_views.audit_trail, name="audit"),
    path("inbox/", notification_views.inbox, name="inbox"),
    path("inbox/<int:pk>/open/", notification_views.notification_open, name="notification-open"),
    path("inbox/read-all/", notification_views.notifications_read_all, name="notifications-read-all"),
    path("work-reminders/", notification_views.work_reminder_list, name="work-reminders"),
    path("reminders/", notification_views.reminder_rules, name="reminder-rules"),
    path("reminders/preview/", notification_views.reminder_preview, name="reminder-preview"),
    path("inbox/preferences/", notification_views.notification_preferences, name="notification-preferences"),
]
