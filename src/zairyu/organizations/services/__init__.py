"""Organizations online: usage applications (F-12), the officers' decisions, periodic reports
(F-13), change notifications, leavers and removals (F-14).

Every function that changes state is keyword-only, atomic, locks the row it changes, guards its
current state and writes an audit record. E-mails go through the outbox with idempotency keys.
Uploaded PDFs are stored inside the same transaction, after every cheaper check has passed: a
refused filing leaves no rows (the documents app purges the files of rolled-back uploads).

The modules, by what they are about: ``usage_applications`` (the e-mail confirmation, new and
additional usage applications and their decision), ``eligibility`` (who may be approved),
``mandates`` (support organizations' mandates), ``validity`` (how long an approval lasts),
``periodic_reports``, ``change_notifications``, ``staff_removals`` (leavers and removals), and
``_common`` (what they share). Import the names from this package.
"""

from zairyu.organizations.services._common import (
    email_normalize,
    name_key,
    office_for_organization,
    office_name,
    token_hash,
)
from zairyu.organizations.services.change_notifications import (
    change_notification_approve,
    change_notification_refuse,
    change_notification_submit,
)
from zairyu.organizations.services.eligibility import StaffDetails, organization_check, removal_block_until
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.mandates import MandateUpload
from zairyu.organizations.services.periodic_reports import (
    periodic_report_approve,
    periodic_report_refuse,
    periodic_report_submit,
    report_reminders_send,
)
from zairyu.organizations.services.staff_removals import (
    staff_remove_by_bureau,
    staff_remove_own,
    staff_report_left,
)
from zairyu.organizations.services.usage_applications import (
    additional_application_submit,
    email_verification_peek,
    email_verification_request,
    usage_application_approve,
    usage_application_precheck,
    usage_application_refuse,
    usage_application_submit,
)
from zairyu.organizations.services.validity import (
    add_months,
    add_years,
    report_window_opens,
    staff_first_password_set,
    validity_end,
)

__all__ = [
    "MandateUpload",
    "OrganizationError",
    "StaffDetails",
    "add_months",
    "add_years",
    "additional_application_submit",
    "change_notification_approve",
    "change_notification_refuse",
    "change_notification_submit",
    "email_normalize",
    "email_verification_peek",
    "email_verification_request",
    "name_key",
    "office_for_organization",
    "office_name",
    "organization_check",
    "periodic_report_approve",
    "periodic_report_refuse",
    "periodic_report_submit",
    "removal_block_until",
    "report_reminders_send",
    "report_window_opens",
    "staff_first_password_set",
    "staff_remove_by_bureau",
    "staff_remove_own",
    "staff_report_left",
    "token_hash",
    "usage_application_approve",
    "usage_application_precheck",
    "usage_application_refuse",
    "usage_application_submit",
    "validity_end",
]
