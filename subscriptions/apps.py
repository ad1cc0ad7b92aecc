from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from billing.signals import plan_changed
        from skywatch.accounts.export import export_section_register
        from skywatch.accounts.signals import units_changed
        from subscriptions.events import snapshot_on_units_change
        from subscriptions.selectors import search_history_export, subscriptions_export
        from subscriptions.services import subscriptions_refit

        # What a plan change does to subscriptions is decided here, not in billing.
        plan_changed.connect(subscriptions_refit, dispatch_uid="subscriptions_refit")
        # A change of units reaches every open page as a fresh snapshot.
        units_changed.connect(snapshot_on_units_change, dispatch_uid="snapshot_on_units_change")
        # "Export all my data" includes what this app keeps of the account.
        export_section_register("subscriptions", subscriptions_export)
        export_section_register("search_history", search_history_export)
