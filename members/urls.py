from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="member-create"),
    path("<int:pk>/", views.member_detail, name="member"),
    path("<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("<int:pk>/id-number/", views.member_reveal_id, name="member-id"),
]
