"""What billing tells the apps above it; they decide what a plan change means for their data."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside plan_change's transaction with `user` (locked, already on the new plan).
plan_changed = Signal()
