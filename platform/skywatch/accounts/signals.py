"""What accounts tell the apps above them, without importing them (the layers go one way)."""

from django.dispatch import Signal

# Sent with `user` after the account's units changed (subscriptions resends its pages' state).
units_changed = Signal()
