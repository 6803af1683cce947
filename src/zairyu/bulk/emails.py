"""The e-mails of bulk filing (F-16)."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

register("bulk_import_result", _("The result of your bulk registration"), app="bulk")
