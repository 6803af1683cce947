"""The e-mails of the applications domain (F-16)."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

for code, subject in [
    ("application_received", _("Your application was received")),
    ("receipt_number", _("The receipt number of your application")),
    ("draft_expiring", _("Your unsubmitted application will be deleted soon")),
    ("receipt_method_changed", _("The receipt method of your application was changed")),
]:
    register(code, subject, app="applications")
