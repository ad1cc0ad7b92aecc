"""Whatever path revokes a credential (allauth, the admin, the shell), open sockets hear of it."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from skywatch.accounts.models import ApiToken, User
from skywatch.accounts.services import credentials_check_notify


@receiver(pre_save, sender=User, dispatch_uid="accounts.user_saving")
def user_saving(sender, instance: User, update_fields=None, **kwargs) -> None:
    """Notes whether this save changes the password: set_password() leaves `_password` until the
    save (a hash upgrade at login clears it first); set_unusable_password() (allauth wiping a
    pre-created account's password) is seen by comparing with the stored one."""
    instance._password_changed = False
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    if getattr(instance, "_password", None) is not None:
        instance._password_changed = True
    elif not instance.has_usable_password():
        instance._password_changed = (
            User.objects.filter(pk=instance.pk).exclude(password=instance.password).exists()
        )


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
def user_saved(sender, instance: User, created: bool, **kwargs) -> None:
    """A new password starts a new credential generation: every other session, every JWT and
    every socket signed in with them stop working; a deactivated account's sockets close."""
    if created:
        return
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        User.objects.filter(pk=instance.pk).update(
            credential_generation=F("credential_generation") + 1
        )
        # The caller's own session keeps working: update_session_auth_hash reads this instance.
        instance.refresh_from_db(fields=["credential_generation"])
        credentials_check_notify(user_id=instance.pk)
    elif not instance.is_active:
        credentials_check_notify(user_id=instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted")
def user_deleted(sender, instance: User, **kwargs) -> None:
    credentials_check_notify(user_id=instance.pk)


@receiver(post_delete, sender=ApiToken, dispatch_uid="accounts.api_token_deleted")
def api_token_deleted(sender, instance: ApiToken, **kwargs) -> None:
    credentials_check_notify(user_id=instance.user_id)


@receiver(user_logged_out, dispatch_uid="accounts.user_logged_out")
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        credentials_check_notify(user_id=user.pk)
