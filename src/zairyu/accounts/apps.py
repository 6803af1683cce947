from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zairyu.accounts"
    label = "accounts"
    verbose_name = "Accounts"
