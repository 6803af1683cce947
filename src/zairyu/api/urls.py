"""Vendors' and users' pages (``/api/clients/``): registering a client; the software a user has
connected, with revocation."""

from django.urls import path

from zairyu.api import views

app_name = "api"

urlpatterns = [
    path("register/", views.client_register, name="client-register"),
    path("connected/", views.connected, name="connected"),
    path("connected/<int:authorisation_id>/revoke/", views.connected_revoke, name="connected-revoke"),
]
