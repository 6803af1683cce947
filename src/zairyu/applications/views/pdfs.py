"""The applicant's PDFs: the application in the official form's layout, and the proof of pending
application. Read through ``access`` like every other view: another user's application is a 404."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from zairyu.applications import access, pdf
from zairyu.applications.models import Application
from zairyu.catalogue import get_catalogue
from zairyu.core.http import applicant_required, request_language


def _file_token(application: Application) -> str:
    """An ASCII name for the file: the receipt number with the office's code in place of its
    Japanese prefix (東オン-KN-2025-000123 → tokyo-KN-2025-000123), else the provisional number."""
    number = application.receipt_number
    office = get_catalogue().offices.get(application.office)
    if number and office and number.startswith(office.prefix):
        number = application.office + number[len(office.prefix) :]
    elif not number and application.provisional_number:
        number = "provisional" + application.provisional_number.removeprefix("仮")
    token = re.sub(r"[^A-Za-z0-9._-]+", "", number).strip("-.")
    return token or "draft"


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@applicant_required
@require_GET
def application_form_pdf_view(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    content = pdf.application_form_pdf(application, language=request_language(request))
    return _pdf_response(content, f"application-{_file_token(application)}.pdf")


@applicant_required
@require_GET
def pending_proof_pdf_view(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    try:
        content = pdf.pending_proof_pdf(application, language=request_language(request))
    except pdf.NotReceived as not_received:
        raise Http404 from not_received
    return _pdf_response(content, f"proof-{_file_token(application)}.pdf")
