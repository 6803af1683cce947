from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "zairyu.api"
    label = "api"
    verbose_name = _("Application-data API")

    def ready(self) -> None:
        from zairyu.api import signals  # noqa: F401  (webhook outbox on status changes)
