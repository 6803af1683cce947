from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "zairyu.review"
    label = "review"
    verbose_name = "Review and issue"
