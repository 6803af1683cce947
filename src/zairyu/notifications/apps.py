from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zairyu.notifications"
    label = "notifications"
    verbose_name = "Notifications"
