"""The bureau's work on an application, from taking it up to handing over the result.

One module per part of the work: ``queue`` (take up, assign), ``document_requests``,
``decision``, ``issuing`` (e-COE, certificates, cards, post and window), ``payment``,
``filer_requests`` (withdrawal, correction, receipt errors), ``window_counts`` (scorecard);
``common`` holds the office check, the locks and the e-mail to the filer they share.

Every state change: keyword-only arguments, one transaction, the application row locked
(``select_for_update``) and looked up *within the officer's office* (another office's
application does not exist for the officer), the lifecycle's check of the state
(``applications.lifecycle``, which writes the history and the audit record), and its e-mail
written to the outbox in the same transaction under a key (so it is queued exactly once, F-16).
"Waiting for additional documents" is *under review* with an open ``DocumentRequest``. The
registry changes only when a card is issued (``issue_by_post``, ``issue_at_window``).
"""

from zairyu.review.services.common import (
    MAX_DOCUMENT_REQUEST_DAYS,
    POST_DOCUMENTS_DAYS,
    ReviewRefused,
    certificate_number,
)
from zairyu.review.services.decision import AddOnOutcome, application_decide
from zairyu.review.services.document_requests import document_request_answer, documents_request
from zairyu.review.services.filer_requests import (
    application_put_back,
    application_request_accept,
    application_request_decline,
)
from zairyu.review.services.issuing import (
    coe_paper_prepare,
    display_code,
    ecoe_issue,
    ecoe_url,
    issue_at_window,
    issue_by_post,
    missing_postal_items,
    new_card_number,
    normalize_code,
    postal_items_record,
    postal_reminder_send,
    postal_reminders_send,
    required_postal_items,
)
from zairyu.review.services.payment import payment_pay_online
from zairyu.review.services.queue import application_assign, application_take_up
from zairyu.review.services.window_counts import window_count_set, window_counts_import

__all__ = [
    "AddOnOutcome",
    "MAX_DOCUMENT_REQUEST_DAYS",
    "POST_DOCUMENTS_DAYS",
    "ReviewRefused",
    "application_assign",
    "application_decide",
    "application_put_back",
    "application_request_accept",
    "application_request_decline",
    "application_take_up",
    "certificate_number",
    "coe_paper_prepare",
    "display_code",
    "document_request_answer",
    "documents_request",
    "ecoe_issue",
    "ecoe_url",
    "issue_at_window",
    "issue_by_post",
    "missing_postal_items",
    "new_card_number",
    "normalize_code",
    "payment_pay_online",
    "postal_items_record",
    "postal_reminder_send",
    "postal_reminders_send",
    "required_postal_items",
    "window_count_set",
    "window_counts_import",
]
