from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications.evaluation import batch_stored_receiver
        from notifications.selectors import alert_events_export, alerts_export
        from skywatch.accounts.export import export_section_register
        from subscriptions.signals import batch_stored

        # The pipeline stored a batch: its cities' alerts are evaluated in that transaction.
        batch_stored.connect(batch_stored_receiver, dispatch_uid="alerts_evaluate")
        export_section_register("alerts", alerts_export)
        export_section_register("alert_events", alert_events_export)
