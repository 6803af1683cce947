from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "zairyu.applications"
    label = "applications"
    verbose_name = "Applications"

    def ready(self) -> None:
        from zairyu.applications import emails  # noqa: F401 - registers the kinds of e-mail
