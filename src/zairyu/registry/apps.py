from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "zairyu.registry"
    label = "registry"
    verbose_name = "Residence registry"
