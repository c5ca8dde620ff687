from django.urls import path

from reports import archive_views, views

app_name = "reports"

urlpatterns: list = [
    path("", views.home, name="home"),
    path("unit/<int:pk>/", views.unit_dashboard, name="unit"),
    path("unit/<int:pk>/live/", views.unit_live_status, name="unit-live"),
    path("unit/<int:pk>/monthly/", views.unit_monthly, name="unit-monthly"),
    path("party/<int:pk>/", views.party, name="party"),
]
# The archive (reports/archive_views.py).
urlpatterns += [
    path("archive/", archive_views.archive, name="archive"),
    path("request/", archive_views.request_report, name="request"),
    path("archive/<int:pk>/", archive_views.report_detail, name="report"),
    path("archive/<int:pk>/progress/", archive_views.report_progress, name="progress"),
    path("archive/<int:pk>/<str:fmt>/", archive_views.report_download, name="download"),
    path("intake/", archive_views.intake_list, name="intake-list"),
    path("intake/<int:unit_pk>/<int:year>/<int:quarter>/", archive_views.intake_edit, name="intake-edit"),
]
