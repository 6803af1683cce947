from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "zairyu.bulk"
    label = "bulk"
    verbose_name = "Bulk applications"
