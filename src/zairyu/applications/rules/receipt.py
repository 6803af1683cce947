"""How the result of an application is received (F-07).

* COE (P1): by email (the electronic COE, which carries no photo) or by post. The choice is
  final once the application is submitted; a change goes through the bureau.
* Change, extension, acquisition (P2–P4): the new residence card by post or at a bureau window.
  Post is not possible when

  - no card is issued but the passport is stamped: a period of stay of three months or less,
    or status Official (公用), whose holders get no residence card;
  - a kanji name is to be added to the card (the request is made at the window), unless the
    current card already shows it;
  - the card's validity must be renewed with it: a card of a holder under 16 is valid until the
    16th birthday, and when that birthday is six months away or less when the new card is
    issued, the card-validity renewal goes with it, at the window.

  An activity permission filed with them (P7) no longer prevents post: since 2024 it is a
  separate permission document, not a passport sticker.
* Employment certificate (P5): by post or at a window.

The card or certificate method can be changed while the application is submitted or under
review (F-06 states ``submitted`` and ``under_review``); the COE method cannot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from zairyu.applications.rules.dates import add_months, birthday
from zairyu.applications.rules.procedures import CARD_PROCEDURES, COE, EMPLOYMENT_CERTIFICATE, procedure_code
from zairyu.applications.rules.results import Problem, Severity, format_message
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.validators import normalize_period_of_stay, normalize_status, period_of_stay_parts
from zairyu.registry.constants import CARD_AGE_LIMIT


class Document(models.TextChoices):
    COE = "coe", _("Certificate of Eligibility")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    EMPLOYMENT_CERTIFICATE = "employment_certificate", _("Certificate of authorized employment")
    PASSPORT_STAMP = "passport_stamp", _("Stamp in the passport")


class Method(models.TextChoices):
    EMAIL = "email", _("By email (electronic COE)")
    POST = "post", _("By post")
    WINDOW = "window", _("At the bureau window")


class _Labels:
    """The labels of some methods, joined when rendered (in the reader's language)."""

    def __init__(self, methods: tuple[str, ...]) -> None:
        self.methods = methods

    def __str__(self) -> str:
        return ", ".join(str(Method(method).label) for method in self.methods)


PASSPORT_STAMP_MAX_MONTHS = 3
"""A period of stay of this many months or less is granted by a stamp in the passport, not
with a residence card (so there is nothing to post)."""

CARD_VALIDITY_RENEWAL_MONTHS = 6
"""When the holder's 16th birthday is this many months or less after the new card is issued,
the card's validity is renewed with it, at the window."""

POST_DOCUMENTS_DEADLINE_DAYS = 14
"""Receipt by post: within this many days of the review-complete email the user sends the
return envelope (with postage for registered mail), the fee form with revenue stamps and the
applicant's current card. The new card takes effect when it is delivered, and the old card
comes back with its chip invalidated."""

CARD_RECEIPT_MONTHS_AFTER_STAY = 2
"""The new card must be received at the latest this many months after the period of stay
ended; after that the applicant can no longer stay in Japan."""

# F-06 states in which the card or certificate receipt method may still be changed.
METHOD_CHANGEABLE_STATES = frozenset({"submitted", "under_review"})

OFFICIAL_STATUS = "official"


@dataclass(frozen=True)
class ReceiptOptions:
    document: str
    choices: tuple[str, ...]
    default: str | None
    reasons: list[Problem] = field(default_factory=list)  # why a method is not offered


def _status_code(status: str) -> str:
    status = normalize_status(status)
    entry = get_catalogue().entries.get(status)
    return entry.status_code if entry is not None else status.split("/", 1)[0]


def is_passport_stamp_period(period_of_stay: str | None) -> bool:
    """Whether ``period_of_stay`` (``"3M"``, ``"90D"``, ``"1Y"`` …) is three months or less.
    Months count as 30 days when days are involved, so 90D is, 91D is not. Unknown or
    malformed periods are not (a card is the usual result)."""
    if not period_of_stay:
        return False
    try:
        years, months, days = period_of_stay_parts(normalize_period_of_stay(period_of_stay))
    except ValueError:
        return False
    if years or (months == 0 and days == 0):
        return False
    return months * 30 + days <= PASSPORT_STAMP_MAX_MONTHS * 30


def card_validity_renewal_needed(
    *, applicant_birth_date: dt.date, today: dt.date, expected_decision_date: dt.date | None = None
) -> bool:
    """Whether the applicant turns 16 within six months of the new card's issue.

    The issue date is not known when the method is chosen, so the test is cautious: the 16th
    birthday falls after today and no later than six months after the expected decision (or
    after today when no date is expected). A window receipt that turns out unnecessary can be
    switched to post while the application is under review; a postal receipt that was not
    allowed costs the applicant a trip and weeks.
    """
    sixteenth = birthday(applicant_birth_date, CARD_AGE_LIMIT)
    issue = max(today, expected_decision_date or today)
    return today < sixteenth <= add_months(issue, CARD_VALIDITY_RENEWAL_MONTHS)


def receipt_options(
    *,
    procedure: str,
    status: str,
    period_of_stay: str | None,
    kanji_name_requested: bool,
    applicant_birth_date: dt.date | None,
    today: dt.date,
    expected_decision_date: dt.date | None = None,
    card_has_kanji_name: bool = False,
) -> ReceiptOptions:
    """The receipt methods open to an application, the default, and why any is missing.

    ``status`` is the status the permission is for (the desired one for a change or a COE,
    the current one for an extension); ``period_of_stay`` the period asked for (re-evaluate
    with the decided period when it is known). ``kanji_name_requested`` means asking for a
    kanji name on the card; ``card_has_kanji_name`` that the current card already shows one
    (post remains possible then). ``default`` is the only choice when there is one, else
    ``None``: the user chooses, because for a COE the choice cannot be undone.
    """
    code = procedure_code(procedure)
    fixed = _non_card_options(code)
    if fixed is not None:
        return fixed

    reasons = _passport_stamp_reasons(status, period_of_stay)
    if reasons:
        document = Document.PASSPORT_STAMP
    else:
        document = Document.RESIDENCE_CARD
        reasons = _card_window_reasons(
            kanji_name_requested=kanji_name_requested,
            card_has_kanji_name=card_has_kanji_name,
            applicant_birth_date=applicant_birth_date,
            today=today,
            expected_decision_date=expected_decision_date,
        )
    choices = (Method.WINDOW,) if reasons else (Method.POST, Method.WINDOW)
    return ReceiptOptions(
        document=document,
        choices=choices,
        default=choices[0] if len(choices) == 1 else None,
        reasons=reasons,
    )


def _non_card_options(code: str) -> ReceiptOptions | None:
    """The fixed options of a COE or an employment certificate; ``None`` for a card procedure.
    Raises ``ValueError`` for an add-on, which has no receipt of its own."""
    if code == COE:
        return ReceiptOptions(document=Document.COE, choices=(Method.EMAIL, Method.POST), default=None)
    if code == EMPLOYMENT_CERTIFICATE:
        return ReceiptOptions(
            document=Document.EMPLOYMENT_CERTIFICATE, choices=(Method.POST, Method.WINDOW), default=None
        )
    if code not in CARD_PROCEDURES:
        raise ValueError(
            f"{code} is filed together with a change, extension or acquisition and has no receipt of its own"
        )
    return None


def _passport_stamp_reasons(status: str, period_of_stay: str | None) -> list[Problem]:
    """Why the permission is a passport stamp rather than a card (status Official, a short
    period of stay); empty when a card is issued."""
    reasons: list[Problem] = []
    if _status_code(status) == OFFICIAL_STATUS:
        reasons.append(
            _reason(
                "post_unavailable_official",
                _(
                    "Holders of the status Official receive no residence card: the permission is a "
                    "sticker in the passport, put in at the window. Choose receipt at the bureau window."
                ),
            )
        )
    if is_passport_stamp_period(period_of_stay):
        reasons.append(
            _reason(
                "post_unavailable_passport_stamp",
                format_message(
                    _(
                        "A period of stay of three months or less (%(period)s) is granted with a stamp in "
                        "the passport, not a residence card, and the passport is not sent by post. "
                        "Choose receipt at the bureau window."
                    ),
                    period=normalize_period_of_stay(period_of_stay),
                ),
                period_of_stay=normalize_period_of_stay(period_of_stay),
            )
        )
    return reasons


def _card_window_reasons(
    *,
    kanji_name_requested: bool,
    card_has_kanji_name: bool,
    applicant_birth_date: dt.date | None,
    today: dt.date,
    expected_decision_date: dt.date | None,
) -> list[Problem]:
    """Why a residence card must be collected at the window (a kanji name to add, the card's
    validity to renew); empty when it may be posted."""
    reasons: list[Problem] = []
    if kanji_name_requested and not card_has_kanji_name:
        reasons.append(
            _reason(
                "post_unavailable_kanji_name",
                _(
                    "Adding a kanji name to the residence card is requested with a form handed in "
                    "when the card is collected. Choose receipt at the bureau window, or do not ask "
                    "for the kanji name now."
                ),
            )
        )
    if applicant_birth_date is not None and card_validity_renewal_needed(
        applicant_birth_date=applicant_birth_date,
        today=today,
        expected_decision_date=expected_decision_date,
    ):
        sixteenth = birthday(applicant_birth_date, CARD_AGE_LIMIT)
        reasons.append(
            _reason(
                "post_unavailable_card_validity",
                format_message(
                    _(
                        "The applicant turns 16 on %(date)s, within six months of the new card, so "
                        "the card's validity must be renewed with it at the window. Choose receipt "
                        "at the bureau window."
                    ),
                    date=sixteenth.isoformat(),
                ),
                sixteenth_birthday=sixteenth,
            )
        )
    return reasons


def _reason(code: str, message: Promise | str, **data: Any) -> Problem:
    return Problem(code, message, severity=Severity.WARNING, field="receipt_method", data=data)


def _join(*parts: Any) -> str:
    text = ""
    for part in map(str, parts):  # Japanese sentences follow one another without a space
        text += part if not text or text.endswith("。") else f" {part}"
    return text


_joined = lazy(_join, str)
"""The messages ``parts`` as one, in the reader's language when rendered."""


def receipt_method_problems(*, options: ReceiptOptions, method: str | None) -> list[Problem]:
    """Blocking problems with the method chosen for ``options``; empty when it is allowed. A method
    that is not offered is refused with the rules' reasons (``options.reasons``) in the message."""
    if not method:
        return [
            Problem(
                "receipt_method_required",
                _("Choose how the result is to be received."),
                field="receipt_method",
            )
        ]
    if method not in options.choices:
        unavailable = format_message(
            _("That receipt method is not available for this application. Choose one of: %(choices)s."),
            choices=_Labels(options.choices),
        )
        return [
            Problem(
                "receipt_method_unavailable",
                # The rules' own words say why (a kanji name asked for, a passport stamp ...).
                _joined(unavailable, *(reason.message for reason in options.reasons)),
                field="receipt_method",
                data={"choices": options.choices, "reasons": [r.code for r in options.reasons]},
            )
        ]
    return []


METHOD_FIXED = _("The way a certificate of eligibility is received cannot be changed after submission.")
"""Why a COE's receipt method stays as chosen (F-07): said on the filer's page after submission,
and given by the service (``method_fixed``) to a change asked through any surface."""


def changeable_after_submission(document: str) -> bool:
    """Whether the receipt method of ``document`` may change after submission: a card or an
    employment certificate yes (while submitted or under review); a COE no (the bureau must be
    asked); a passport stamp has only the window, so there is nothing to change to."""
    return document in (Document.RESIDENCE_CARD, Document.EMPLOYMENT_CERTIFICATE)


def method_changeable(state: str, document: str | None = None) -> bool:
    """Whether the receipt method may be changed in F-06 ``state`` (for ``document``, when given)."""
    if document is not None and not changeable_after_submission(document):
        return False
    return state in METHOD_CHANGEABLE_STATES


def post_documents_deadline(review_completed_on: dt.date) -> dt.date:
    """The last day to send the documents for a postal receipt."""
    return review_completed_on + dt.timedelta(days=POST_DOCUMENTS_DEADLINE_DAYS)


def card_receipt_deadline(stay_expires_on: dt.date) -> dt.date:
    """The last day the new card can be received after the period of stay ended."""
    return add_months(stay_expires_on, CARD_RECEIPT_MONTHS_AFTER_STAY)
