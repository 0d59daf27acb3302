from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.lockout import clear_account_failures

        # Every sign-in, whichever door (web, admin, API token), as django-axes itself listens.
        user_logged_in.connect(clear_account_failures, dispatch_uid="accounts.clear_account_failures")
