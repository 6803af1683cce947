"""Officers' pages: approving API clients (``/staff/api-clients/``)."""

app_name = "api-staff"

urlpatterns: list = []
