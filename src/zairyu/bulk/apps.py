from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "zairyu.bulk"
    label = "bulk"
    verbose_name = "Bulk applications"

    def ready(self) -> None:
        from zairyu.bulk import emails, system_checks  # noqa: F401 - registers e-mails and checks
