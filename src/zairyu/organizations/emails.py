"""The e-mails of the organizations domain (F-16), in the recipient's language. A staff member
who left or asked for their removal gets the accounts domain's ``account_removed``."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

for code, subject in [
    ("org_email_verification", _("Confirm your e-mail address to file a usage application")),
    ("org_application_received", _("Your usage application was received")),
    ("org_application_approved", _("Your usage application was approved: set your password")),
    ("org_application_refused", _("Your usage application was not approved")),
    ("org_report_reminder", _("Your organization's periodic report is due")),
    ("org_report_approved", _("Your organization's periodic report was approved")),
    ("org_report_refused", _("Your organization's periodic report was not approved")),
    ("org_change_result", _("The result of your change notification")),
    ("org_approval_removed", _("Your approval to use the service was removed by the bureau")),
]:
    register(code, subject, app="organizations")
