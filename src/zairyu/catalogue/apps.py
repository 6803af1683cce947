from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class CatalogueConfig(AppConfig):
    name = "zairyu.catalogue"
    label = "catalogue"
    verbose_name = "Reference catalogue"

    def ready(self) -> None:
        from zairyu.catalogue import get_catalogue
        from zairyu.catalogue.loader import CatalogueError

        try:
            get_catalogue()  # validated at start: a broken data file stops the process here
        except CatalogueError as exc:
            raise ImproperlyConfigured(f"The reference catalogue is inconsistent: {exc}") from exc
