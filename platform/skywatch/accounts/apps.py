from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "skywatch.accounts"
    label = "accounts"
    verbose_name = "Accounts"
