"""check_pdf: every refusal is produced by a real file made with pikepdf (or by hand)."""

from __future__ import annotations

import io

import pikepdf
import pytest

from zairyu.documents.checks import check_pdf
from zairyu.documents.errors import DocumentRejected
from zairyu.documents.tests import factories as f

LIMIT = 10 * 1024 * 1024


def refusal(data, *, max_bytes: int = LIMIT) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        check_pdf(data, max_bytes=max_bytes)
    return caught.value


def test_a_good_pdf_is_accepted_with_its_page_count_and_checksum():
    data = f.pdf_bytes(pages=3)
    info = check_pdf(io.BytesIO(data), max_bytes=LIMIT)
    assert info.page_count == 3
    assert info.size == len(data)
    assert info.data == data
    assert len(info.sha256) == 64


def test_an_uploaded_file_is_read_from_the_start_whatever_its_name_and_content_type():
    upload = f.upload(f.pdf_bytes(), name="scan.exe", content_type="application/x-msdownload")
    upload.read(10)  # a previous reader moved the position
    assert check_pdf(upload, max_bytes=LIMIT).page_count == 1


def test_a_pdf_over_the_limit_is_refused_without_reading_it_all():
    class CountingReader(io.BytesIO):
        read_bytes = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.read_bytes += len(chunk)
            return chunk

    stream = CountingReader(f.pdf_bytes(pages=50))
    error = refusal(stream, max_bytes=1000)
    assert error.code == "too_large"
    assert stream.read_bytes <= 1001
    assert "MB" in str(error.message)


def test_an_empty_file_is_refused():
    assert refusal(b"").code == "empty"
    assert refusal(io.BytesIO(b"  \n")).code == "empty"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f.jpeg_bytes(), id="jpeg renamed .pdf"),
        pytest.param(f.zip_bytes(), id="zip"),
        pytest.param(b"Hello, this is plain text pretending to be a PDF.", id="text"),
        pytest.param(f.jpeg_bytes() + f.pdf_bytes(), id="jpeg with a pdf appended"),
        pytest.param(b"<html>%PDF-1.7</html>", id="html polyglot"),
    ],
)
def test_files_of_other_formats_are_refused_as_not_pdf(data):
    error = refusal(data)
    assert error.code == "not_pdf"
    assert "save or print it as a PDF" in str(error.message)


def test_a_header_after_some_leading_bytes_is_still_a_pdf():
    assert check_pdf(b"\n\n" + f.pdf_bytes(), max_bytes=LIMIT).page_count == 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f.pdf_bytes()[:300], id="truncated"),
        pytest.param(f.pdf_bytes()[:-30], id="tail cut off"),
        pytest.param(f.pdf_bytes().replace(b"startxref\n", b"startxref\n9"), id="wrong xref offset"),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 8, id="garbage"),
        pytest.param(f.raw_pdf(f.raw_pdf_objects(), stream_length_error=7), id="stream length lies"),
    ],
)
def test_damaged_pdfs_are_refused_rather_than_repaired(data):
    error = refusal(data)
    assert error.code == "damaged"
    assert "save it again" in str(error.message)


def test_a_page_tree_repair_that_changes_nothing_drawn_is_not_damage():
    objects = f.raw_pdf_objects()
    objects[2] = objects[2].replace(b"/Resources << >> ", b"")
    assert check_pdf(f.raw_pdf(objects), max_bytes=LIMIT).page_count == 1


def test_a_pdf_with_a_user_password_is_refused_as_encrypted():
    error = refusal(f.pdf_encrypted_with_user_password())
    assert (error.code, error.detail) == ("encrypted", "user_password")
    assert "password" in str(error.message) and "Print to PDF" in str(error.message)


def test_a_pdf_with_only_an_owner_password_is_refused_as_encrypted():
    assert refusal(f.pdf_encrypted_with_owner_password(restricted=False)).code == "encrypted"


def test_a_pdf_that_forbids_printing_and_copying_is_refused_as_restricted():
    error = refusal(f.pdf_encrypted_with_owner_password(restricted=True))
    assert error.code == "restricted"
    assert "printing or copying" in str(error.message)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        pytest.param(f.pdf_with_open_action_javascript(), "javascript", id="OpenAction JavaScript"),
        pytest.param(f.pdf_with_names_javascript(), "javascript", id="Names tree JavaScript"),
        pytest.param(f.pdf_with_additional_action_javascript(), "javascript", id="page AA JavaScript"),
        pytest.param(
            f.raw_pdf(
                f.raw_pdf_objects(catalog_extra=b"/OpenAction << /S /Java#53cript /J#53 (app.alert(1)) >>")
            ),
            "javascript",
            id="name escapes",
        ),
        pytest.param(f.pdf_with_launch_action(), "launch", id="Launch"),
        pytest.param(f.pdf_with_submit_form(), "external", id="SubmitForm"),
        pytest.param(f.pdf_with_embedded_file(), "embedded_file", id="EmbeddedFiles"),
        pytest.param(
            f.pdf_with_file_attachment_annotation(), "embedded_file", id="FileAttachment annotation"
        ),
        pytest.param(f.pdf_with_xfa(), "xfa", id="XFA"),
        pytest.param(f.pdf_with_uri_link("javascript:app.alert(1)"), "uri", id="javascript: link"),
        pytest.param(
            f.pdf_with_uri_link("java\tscript:app.alert(1)"), "uri", id="obfuscated javascript: link"
        ),
        pytest.param(f.pdf_with_uri_link("file://attacker/share/x"), "uri", id="file: link"),
    ],
)
def test_active_content_is_refused_and_named(data, detail):
    error = refusal(data)
    assert (error.code, error.detail) == ("active_content", detail)
    assert "upload" in str(error.message).lower()


def test_an_action_hidden_in_a_place_no_viewer_looks_is_found_too():
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.Root.ZairyuOdd = pdf.make_indirect(
            pikepdf.Dictionary(Nested=pikepdf.Array([pikepdf.Dictionary(S=pikepdf.Name.Launch)]))
        )

    assert refusal(f.pdf_bytes(change=change)).detail == "launch"


@pytest.mark.parametrize("uri", ["https://www.moj.go.jp/isa/", "mailto:info@example.jp", "www.example.jp"])
def test_ordinary_links_are_accepted(uri):
    assert check_pdf(f.pdf_with_uri_link(uri), max_bytes=LIMIT).page_count == 1


def test_a_pdf_without_pages_is_refused():
    out = io.BytesIO()
    pikepdf.new().save(out)
    assert refusal(out.getvalue()).code == "no_pages"


def test_compressed_object_streams_are_searched_too():
    data = f.pdf_bytes(
        change=lambda pdf: setattr(
            pdf.Root, "OpenAction", pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("x"))
        ),
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    assert b"/JavaScript" not in data  # hidden inside a compressed object stream
    assert refusal(data).detail == "javascript"
