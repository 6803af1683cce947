from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class CatalogueConfig(AppConfig):
    name = "zairyu.catalogue"
    label = "catalogue"
    verbose_name = "Reference catalogue"

    def ready(self) -> None:
        from zairyu.catalogue import get_catalogue
        from zairyu.catalogue.formspec import FormSpecError, get_form_library
        from zairyu.catalogue.loader import CatalogueError

        try:
            get_catalogue()  # validated at start: a broken data file stops the process here
            get_form_library()  # and so is the form catalogue
        except (CatalogueError, FormSpecError) as exc:
            raise ImproperlyConfigured(f"The reference catalogue is inconsistent: {exc}") from exc
