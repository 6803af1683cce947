"""What the filer sees of the bureau's work on their application (detail and manage pages):
an open request for documents, the decision, how the result is handed over, the fee."""

from __future__ import annotations

from typing import Any

from django import template

from zairyu.review.constants import DocumentRequestState, IssueMethod, IssueState, Outcome, PostalItem
from zairyu.review.models import Decision, DocumentRequest, EcoeRecord, Issue, Payment
from zairyu.review.services import display_code, missing_postal_items, required_postal_items

register = template.Library()


@register.simple_tag
def review_for_applicant(application) -> dict[str, Any]:
    """Call only with an application the page already read through ``applications.access``."""
    context: dict[str, Any] = {
        "document_request": DocumentRequest.objects.filter(
            application=application, state=DocumentRequestState.OPEN
        ).first(),
        "decision": None,
    }
    decision = Decision.objects.filter(application=application).prefetch_related("add_ons").first()
    if decision is None:
        return context
    issue = Issue.objects.filter(application=application).first()
    payment = Payment.objects.filter(application=application).first()
    context.update(
        decision=decision,
        permitted=decision.outcome == Outcome.PERMIT,
        issue=issue,
        payment=payment,
        can_pay=bool(
            decision.fee_yen and payment is None and issue is not None and issue.state == IssueState.WAITING
        ),
    )
    if issue is not None:
        if issue.method == IssueMethod.POST and issue.state == IssueState.WAITING:
            context["required"] = [PostalItem(item).label for item in required_postal_items(issue, decision)]
            context["missing"] = [PostalItem(item).label for item in missing_postal_items(issue, decision)]
        ecoe = EcoeRecord.objects.filter(issue=issue).first()
        if ecoe is not None:
            context["ecoe"] = ecoe
            context["ecoe_code"] = display_code(ecoe.code)
    return context
