"""Officers' pages: approving API clients (``/staff/api-clients/``)."""

from django.urls import path

from zairyu.api import views

app_name = "api-staff"

urlpatterns = [
    path("", views.staff_clients, name="clients"),
    path("<int:client_id>/", views.staff_client, name="client"),
    path("<int:client_id>/decide/", views.staff_client_decide, name="client-decide"),
]
