"""document_response: safe headers, and what Chromium makes of them; the read-only admin."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import unquote

import pytest
from django.test import RequestFactory

from zairyu.documents.errors import DocumentUnavailable
from zairyu.documents.services import document_delete, document_store_pdf, document_store_photo
from zairyu.documents.tests import factories as f
from zairyu.documents.views import content_disposition, document_response

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    content = b"".join(response.streaming_content)
    response.close()
    return content


def test_an_inline_pdf_is_served_with_safe_headers(owner):
    data = f.pdf_bytes()
    document = document_store_pdf(
        upload=f.upload(data, "在留カード（表）.pdf"), owner=owner, document_type="mandate"
    )

    response = document_response(RequestFactory().get("/"), document, inline=True)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(data))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename=\"document.pdf\"; filename*=UTF-8''")
    assert unquote(disposition.split("UTF-8''", 1)[1]) == "在留カード（表）.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert csp[0] == "sandbox" and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response["Cache-Control"] == "private, no-store"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert body(response) == data


def test_a_photo_is_served_as_an_attachment_with_an_ascii_name(owner):
    document = document_store_photo(
        upload=f.upload(f.jpeg_bytes(), "Passfoto Müller.jpeg", "image/png"),
        owner=owner,
        taken_within_6_months=True,
    )
    response = document_response(RequestFactory().get("/"), document, inline=False)
    assert response["Content-Type"] == "image/jpeg"  # what we stored, not what the browser claimed
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Passfoto Muller.jpeg\"; filename*=UTF-8''Passfoto%20M%C3%BCller.jpeg"
    )
    assert body(response).startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("scan.pdf", 'inline; filename="scan.pdf"'),
        ('a"b.pdf', "inline; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"),
        (
            "x\r\nSet-Cookie: a=b.pdf",
            "inline; filename=\"x_Set-Cookie_ a_b.pdf\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db.pdf",
        ),
    ],
)
def test_content_disposition_cannot_be_broken_out_of(name, expected):
    # Names are sanitised before they get here; even unsanitised ones cannot inject a header.
    assert content_disposition(name, inline=True) == expected


def test_a_deleted_document_is_not_served(owner, django_capture_on_commit_callbacks):
    document = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, actor=owner)
    with pytest.raises(DocumentUnavailable):
        document_response(RequestFactory().get("/"), document, inline=True)


def test_the_admin_lists_documents_without_names_and_cannot_change_them(owner, client, django_user_model):
    document = document_store_pdf(
        upload=f.upload(f.pdf_bytes(), "山田太郎_passport.pdf"), owner=owner, document_type="mandate"
    )
    admin = django_user_model.objects.create_superuser(username="ADMIN0001", password="x")
    client.force_login(admin)

    listing = client.get("/admin/documents/storeddocument/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert str(document.pk) in page and "mandate" in page
    assert "山田太郎" not in page and owner.username not in page

    detail = client.get(f"/admin/documents/storeddocument/{document.pk}/change/")
    assert detail.status_code == 200 and "山田太郎" not in detail.content.decode()
    assert client.post(f"/admin/documents/storeddocument/{document.pk}/delete/").status_code == 403


@pytest.mark.browser
def test_chromium_renders_an_inline_pdf_served_with_these_headers(owner, chromium):
    """The sandboxing CSP must not stop Chromium's PDF viewer (it did in old versions, crbug 413851)."""
    document = document_store_pdf(
        upload=f.upload(f.pdf_bytes(), "申請書.pdf"), owner=owner, document_type="mandate"
    )
    response = document_response(RequestFactory().get("/"), document, inline=True)
    headers, content = list(response.items()), body(response)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's hook name
            self.send_response(200)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = chromium.new_context()
    try:
        page = context.new_page()
        downloads = []
        page.on("download", lambda download: downloads.append(download))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/document")
        for _ in range(100):  # the viewer is an extension frame inside the browser's own shadow DOM
            viewers = [frame for frame in page.frames if frame.url.startswith("chrome-extension://")]
            if viewers:
                break
            page.wait_for_timeout(100)
        assert viewers, f"no PDF viewer; frames: {[frame.url for frame in page.frames]}"
        assert downloads == []
    finally:
        context.close()
        server.shutdown()
        server.server_close()
