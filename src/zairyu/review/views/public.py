"""Public pages: the verification of an electronic COE (for the holder, airlines, embassies)
and the scorecard. No sign-in; no personal data; requests are rate-limited per address."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.core.http import request_ip
from zairyu.core.net import throttle_hit
from zairyu.review import scorecard as scorecards
from zairyu.review import signing
from zairyu.review.models import EcoeRecord
from zairyu.review.services import display_code, normalize_code

VERIFY_LIMIT_PER_HOUR = 60


class EcoeLookupForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("The 16 characters printed next to the QR code, e.g. ABCD-EFGH-JKLM-NPQR."),
    )


class EcoeCheckForm(forms.Form):
    file = forms.FileField(label=_("The electronic certificate (PDF) to check"))


def verify_throttled(request: HttpRequest) -> bool:
    limit = getattr(settings, "ECOE_VERIFY_LIMIT_PER_HOUR", VERIFY_LIMIT_PER_HOUR)
    return not throttle_hit(
        scope="ecoe_verify", key=request_ip(request) or "-", limit=limit, window_seconds=3600
    )


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "review/public/too_many.html", status=429)


@dataclass(frozen=True)
class Verdict:
    code: str  # genuine | changed | unknown | record_invalid
    message: Any


def verify_signature_ok(record: EcoeRecord) -> bool:
    message = signing.signed_message(
        coe_number=record.coe_number, sha256=record.sha256, issued_on=record.issued_on, code=record.code
    )
    return signing.verify(message, signature=record.signature, key_id=record.key_id)


def verify_upload_read(upload, limit: int) -> bytes | None:
    data = upload.read(limit + 1)
    return None if len(data) > limit else data


@require_GET
def ecoe_lookup(request: HttpRequest) -> HttpResponse:
    form = EcoeLookupForm(request.GET or None)
    if request.GET and form.is_valid():
        code = normalize_code(form.cleaned_data["code"])
        if code:
            return redirect("public_review:ecoe", code=code)
        form.add_error("code", _("Enter the code as printed."))
    return render(request, "review/public/ecoe_lookup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def ecoe_record(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone with the code sees whether such a certificate was issued (number, dates, status —
    no name), and can give the PDF to learn whether it is exactly the one issued."""
    if verify_throttled(request):
        return _too_many(request)
    normalized = normalize_code(code)
    if normalized != code:
        return (
            redirect("public_review:ecoe", code=normalized)
            if normalized
            else redirect("public_review:ecoe-lookup")
        )
    record = EcoeRecord.objects.filter(code=code).first()
    form = EcoeCheckForm()
    verdict: Verdict | None = None
    status = 200
    signature_ok = record is not None and verify_signature_ok(record)
    if request.method == "POST":
        form = EcoeCheckForm(request.POST, request.FILES)
        if form.is_valid():
            data = verify_upload_read(form.cleaned_data["file"], settings.DOCUMENT_MAX_BYTES)
            digest = hashlib.sha256(data).hexdigest() if data is not None else ""
            if record is None:
                verdict = Verdict("unknown", _("No certificate was issued under this code."))
            elif not signature_ok:
                verdict = Verdict(
                    "record_invalid",
                    _("The record of this code fails its signature check: do not rely on this certificate."),
                )
            elif digest == record.sha256:
                verdict = Verdict(
                    "genuine",
                    _("Genuine and unchanged: this PDF is exactly the certificate issued under this code."),
                )
            else:
                verdict = Verdict(
                    "changed",
                    _(
                        "Not the certificate issued under this code: the file was changed, or is another document."
                    ),
                )
        else:
            status = 400
    entry = get_catalogue().entries.get(record.status) if record else None
    return render(
        request,
        "review/public/ecoe_record.html",
        {
            "code": display_code(code),
            "record": record,
            "signature_ok": signature_ok,
            "expired": record is not None and record.valid_until < clock.today(),
            "status_name": entry.name if entry else (record.status if record else ""),
            "form": form,
            "verdict": verdict,
        },
        status=status if record is not None or request.method == "POST" else 404,
    )


@require_GET
def ecoe_download(request: HttpRequest, token: str) -> HttpResponse:
    """The e-COE PDF by the secret link of the e-mail (forwardable to the applicant abroad)."""
    from zairyu.documents.views import document_response

    if verify_throttled(request):
        return _too_many(request)
    record = (
        EcoeRecord.objects.select_related("issue__document")
        .filter(download_token_hash=hashlib.sha256(token.encode()).hexdigest(), revoked_at__isnull=True)
        .first()
    )
    if record is None or record.issue.document is None or record.valid_until < clock.today():
        raise Http404
    return document_response(request, record.issue.document, inline=request.GET.get("download") != "1")


@require_GET
def scorecard(request: HttpRequest) -> HttpResponse:
    card = scorecards.scorecard()
    return render(
        request,
        "review/public/scorecard.html",
        {"card": card, "charts": scorecards.charts(card), "public": True},
    )
