"""The e-mails of the accounts domain (F-16), in the recipient's language."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

for code, subject in [
    ("set_password_link", _("Set your password for the online residence application service")),
    ("password_reset_link", _("Reset your password for the online residence application service")),
    ("registration_complete", _("Your registration is complete")),
    ("password_changed", _("Your password was changed")),
    ("account_locked", _("Your account is locked for 24 hours")),
    ("email_change_confirm", _("Confirm your new e-mail address")),
    ("email_changed", _("Your e-mail address was changed")),
    ("account_removed", _("Your account was removed")),
    ("account_suspended", _("Your account was suspended")),
    ("account_resumed", _("Your account can be used again")),
    ("auth_id_recovery", _("Your authentication ID")),
    ("card_expiring", _("The certificate of your My Number Card expires soon")),
    ("agent_certificate_expiring", _("Your agent certificate expires soon")),
    ("password_expiring", _("Your password expires soon")),
    ("passkey_added", _("A passkey was added to your account")),
    ("passkey_removed", _("A passkey was removed from your account")),
    ("second_factor_reset", _("The second factor of your account was removed")),
]:
    register(code, subject, app="accounts")
