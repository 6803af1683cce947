from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "zairyu.review"
    label = "review"
    verbose_name = "Review and issue"

    def ready(self) -> None:
        from zairyu.review import emails, receivers  # noqa: F401 - the kinds of e-mail; lifecycle events
