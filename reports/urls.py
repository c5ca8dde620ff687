from django.urls import path

from reports import views

app_name = "reports"

urlpatterns: list = [
    path("", views.home, name="home"),
    path("unit/<int:pk>/", views.unit_dashboard, name="unit"),
    path("unit/<int:pk>/monthly/", views.unit_monthly, name="unit-monthly"),
    path("party/<int:pk>/", views.party, name="party"),
]
