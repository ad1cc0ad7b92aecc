from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from billing.signals import plan_changed
        from subscriptions.services import subscriptions_refit

        # What a plan change does to subscriptions is decided here, not in billing.
        plan_changed.connect(subscriptions_refit, dispatch_uid="subscriptions_refit")
