from django.urls import path  # noqa: F401  (routes are added as the views land)

app_name = "reports"

urlpatterns: list = []
