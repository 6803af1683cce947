from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zairyu.core"
    label = "core"
    verbose_name = "Zairyu core"
