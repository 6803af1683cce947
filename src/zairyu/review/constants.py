"""Choices and fixed values of the bureau's review and issue."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    PERMIT = "permit", _("Permit")
    DENY = "deny", _("Deny")


class DocumentRequestState(models.TextChoices):
    OPEN = "open", _("Waiting for the filer")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed by the bureau")


class IssueKind(models.TextChoices):
    """What the permission is handed over as (F-07)."""

    ECOE = "ecoe", _("Electronic certificate of eligibility (by e-mail)")
    COE_PAPER = "coe_paper", _("Certificate of eligibility on paper")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    PASSPORT_STAMP = "passport_stamp", _("Stamp in the passport")
    EMPLOYMENT_CERTIFICATE = "employment_certificate", _("Certificate of authorized employment")


class IssueMethod(models.TextChoices):
    EMAIL = "email", _("By e-mail")
    POST = "post", _("By post")
    WINDOW = "window", _("At the bureau window")


class IssueState(models.TextChoices):
    WAITING = "waiting", _("Waiting to be issued")
    ISSUED = "issued", _("Issued")


class PostalItem(models.TextChoices):
    """What the filer sends for a postal receipt, within 14 days of the review-complete e-mail."""

    ENVELOPE = "envelope", _("Return envelope with postage for registered mail")
    FEE = "fee", _("Fee form with revenue stamps (or the fee paid online)")
    CARD = "card", _("The applicant's current residence card")


class PaymentMethod(models.TextChoices):
    REVENUE_STAMPS = "revenue_stamps", _("Revenue stamps on the fee form")
    ELECTRONIC = "electronic", _("Paid online")


class Queue(models.TextChoices):
    """The officers' work queues of one office (oldest first)."""

    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    WAITING_DOCUMENTS = "waiting_documents", _("Waiting for additional documents")
    AWAITING_ISSUE = "awaiting_issue", _("Decided, awaiting issue by post")
    WINDOW = "window", _("Decided, to hand over at the window")
    REQUESTS = "requests", _("Withdrawal and correction requests")
    RECEIPT_ERRORS = "receipt_errors", _("Receipt number not obtained")


# An electronic or paper certificate of eligibility is used for a visa and landing within this
# many months of its issue.
COE_VALIDITY_MONTHS = 3

# The days the filer has to answer a request for additional documents, unless the officer sets
# another deadline.
DOCUMENT_REQUEST_DAYS = 14

# The online usage rate the basic plan of 2021 aims at for COE, extension and change (F-20).
ONLINE_RATE_TARGET = 0.20
TARGET_PROCEDURES = ("P1", "P2", "P3")

ADD_ONS = ("P6", "P7")
