from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "skywatch.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from skywatch.accounts import receivers  # noqa: F401 - connects the signal receivers
