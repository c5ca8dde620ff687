from django.urls import path, re_path

from members import import_views, lifecycle_views, transfer_views, views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="member-create"),
    path("export/", views.member_export, name="export"),
    path("import/", import_views.import_upload, name="import-upload"),
    path("import/template/", import_views.import_template, name="import-template"),
    path("import/<int:pk>/", import_views.import_batch, name="import"),
    path("import/<int:pk>/progress/", import_views.import_progress, name="import-progress"),
    path("import/<int:pk>/commit/", import_views.import_commit, name="import-commit"),
    path("import/<int:pk>/problems/", import_views.import_problems, name="import-problems"),
    path("import/<int:pk>/transfers/", import_views.import_request_transfers, name="import-transfers"),
    path("<int:pk>/", views.member_detail, name="member"),
    path("<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("<int:pk>/id-number/", views.member_reveal_id, name="member-id"),
    path("<int:pk>/leave/", lifecycle_views.member_leave, name="member-leave"),
    path("<int:pk>/reinstate/", lifecycle_views.member_reinstate, name="member-reinstate"),
    path("<int:pk>/transfer/", transfer_views.member_transfer, name="member-transfer"),
    path("transfers/", transfer_views.transfer_list, name="transfers"),
    path("transfers/request/", transfer_views.transfer_receive, name="transfer-receive"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer"),
    re_path(
        r"^transfers/(?P<pk>\d+)/(?P<decision>approve|reject|cancel)/$",
        transfer_views.transfer_decide,
        name="transfer-decide",
    ),
    path("over-age/", lifecycle_views.over_age_list, name="over-age"),
    path("registration/", lifecycle_views.registration_overview, name="registration"),
    path("registration/<int:branch_pk>/", lifecycle_views.registration_branch, name="registration-branch"),
    path("evaluation/<int:branch_pk>/", lifecycle_views.evaluation_branch, name="evaluation-branch"),
]
