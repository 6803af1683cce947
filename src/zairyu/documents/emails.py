"""The e-mails of the documents domain (F-16)."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

register(
    "documents_malware_removed", _("A file you uploaded was removed: a virus was found"), app="documents"
)
