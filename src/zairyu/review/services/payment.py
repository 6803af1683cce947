"""Paying the fee online instead of with revenue stamps."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.models import Application
from zairyu.review import payments
from zairyu.review.constants import (
    IssueState,
    Outcome,
    PaymentMethod,
)
from zairyu.review.models import (
    Decision,
    Issue,
    Payment,
)
from zairyu.review.services.common import ReviewRefused


@transaction.atomic
def payment_pay_online(*, application: Application, user: User, ip: str | None = None) -> Payment:
    """The filer pays the fee online instead of with revenue stamps (through the configured
    provider; the demo provider pays at once)."""

    application = Application.objects.select_for_update().get(pk=application.pk, filer=user)
    decision = Decision.objects.filter(application=application, outcome=Outcome.PERMIT).first()
    issue = Issue.objects.filter(application=application, state=IssueState.WAITING).first()
    if decision is None or issue is None or not decision.fee_yen:
        raise ReviewRefused("nothing_to_pay", _("There is no fee to pay for this application now."))
    if Payment.objects.filter(application=application).exists():
        raise ReviewRefused("already_paid", _("The fee is already paid."))
    provider = payments.provider()
    try:
        receipt = provider.charge(amount_yen=decision.fee_yen, reference=application.receipt_number)
    except payments.PaymentFailed as exc:
        raise ReviewRefused(
            "payment_failed",
            _("The payment did not go through; nothing was charged. Try again, or pay with revenue stamps."),
        ) from exc
    payment = Payment.objects.create(
        application=application,
        method=PaymentMethod.ELECTRONIC,
        amount_yen=decision.fee_yen,
        provider=receipt.provider,
        receipt_id=receipt.receipt_id,
        paid_by=user,
    )
    lifecycle.record(
        application,
        "fee_paid_online",
        actor=user,
        audit="review.fee_paid_online",
        ip=ip,
        audit_details={"receipt_id": receipt.receipt_id},
    )
    return payment
