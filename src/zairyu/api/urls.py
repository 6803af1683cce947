"""Vendors' pages: registering an API client (``/api/clients/``)."""

app_name = "api"

urlpatterns: list = []
