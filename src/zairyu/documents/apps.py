from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "zairyu.documents"
    label = "documents"
    verbose_name = "Documents"
