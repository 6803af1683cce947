from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "zairyu.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from zairyu.documents import emails, system_checks  # noqa: F401 - registers e-mails and checks
        from zairyu.documents.scanning import refusal_audits_flush

        # Refusals of infected uploads, audited inside a transaction the refusal rolled back.
        request_finished.connect(refusal_audits_flush, dispatch_uid="zairyu.documents.refusal_audits")
