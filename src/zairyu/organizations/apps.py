from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "zairyu.organizations"
    label = "organizations"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from zairyu.organizations import emails, receivers  # noqa: F401 - the kinds of e-mail; accounts' events
