"""The e-mails of the bureau's side (F-16): each kind a plain-text template in
``review/email/<code>.txt``, queued with a key so that it goes once."""

from django.utils.translation import gettext_lazy as _

from zairyu.notifications.messages import register

for code, subject in [
    ("review_documents_requested", _("The bureau asks for additional documents")),
    ("review_complete", _("Review complete: your application was permitted")),
    ("review_decision", _("The decision on your application")),
    ("review_ecoe_issued", _("Your electronic certificate of eligibility")),
    ("review_card_issued", _("Your residence card or certificate was posted")),
    ("review_post_reminder", _("Reminder: send the documents to receive your result by post")),
    ("review_request_result", _("The bureau answered your request")),
]:
    register(code, subject, app="review")
