from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zairyu.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from zairyu.accounts import emails  # noqa: F401 - registers the kinds of e-mail
