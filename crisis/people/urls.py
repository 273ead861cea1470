"""URLs of the People page (admins only)."""

from django.urls import path

from crisis.people import views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/deactivate/", views.person_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.person_reactivate, name="reactivate"),
    path("<int:pk>/unlock/", views.person_unlock, name="unlock"),
    path("<int:pk>/password-reset/", views.person_password_reset, name="password_reset"),
]
