"""Files made at test time (no binary fixtures in the repository), and stored documents for other apps' tests.

``pdf_bytes()`` and ``jpeg_bytes()`` make good files; the ``pdf_with_*`` builders add one thing a
PDF may not contain. ``raw_pdf()`` writes a PDF by hand, for what pikepdf would normalise away.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from zairyu.documents.models import StoredDocument

# --- PDFs ---------------------------------------------------------------------------------------


def pdf_bytes(
    pages: int = 1, *, change: Callable[[pikepdf.Pdf], None] | None = None, **save_options
) -> bytes:
    """A small valid PDF with ``pages`` pages of text; ``change`` edits it before it is saved."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(1, pages + 1):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(f"BT /F1 24 Tf 72 720 Td (Page {number}) Tj ET".encode())
    if change is not None:
        change(pdf)
    out = io.BytesIO()
    pdf.save(out, **save_options)
    return out.getvalue()


def _link(pdf: pikepdf.Pdf, action: pikepdf.Dictionary) -> None:
    annotation = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[72, 600, 300, 630],
            Border=[0, 0, 0],
            A=action,
        )
    )
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([annotation]))


def pdf_with_open_action_javascript() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        # A direct dictionary inside the catalog: found only by walking nested objects.
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))

    return pdf_bytes(change=change)


def pdf_with_names_javascript() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        script = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pdf.make_stream(b"app.alert(1)"))
        )
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("init"), script])
        )

    return pdf_bytes(change=change)


def pdf_with_additional_action_javascript() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].AA = pikepdf.Dictionary(
            O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()"))
        )

    return pdf_bytes(change=change)


def pdf_with_launch_action() -> bytes:
    return pdf_bytes(
        change=lambda pdf: _link(pdf, pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))
    )


def pdf_with_submit_form() -> bytes:
    return pdf_bytes(
        change=lambda pdf: _link(
            pdf,
            pikepdf.Dictionary(
                S=pikepdf.Name.SubmitForm,
                F=pikepdf.Dictionary(FS=pikepdf.Name.URL, F=pikepdf.String("https://evil.example/")),
            ),
        )
    )


def pdf_with_uri_link(uri: str = "https://www.moj.go.jp/isa/") -> bytes:
    return pdf_bytes(
        change=lambda pdf: _link(pdf, pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri)))
    )


def pdf_with_embedded_file() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(
            pdf, b"MZ not really", mime_type="application/octet-stream"
        )

    return pdf_bytes(change=change)


def pdf_with_file_attachment_annotation() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        annotation = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.FileAttachment,
                Rect=[72, 600, 90, 618],
                Contents=pikepdf.String("attached"),
            )
        )
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([annotation]))

    return pdf_bytes(change=change)


def pdf_with_xfa() -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        xfa = pdf.make_stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"></xdp:xdp>')
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa)

    return pdf_bytes(change=change)


def pdf_encrypted_with_user_password() -> bytes:
    return pdf_bytes(encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))


def pdf_encrypted_with_owner_password(*, restricted: bool) -> bytes:
    allow = (
        pikepdf.Permissions(print_lowres=False, print_highres=False, extract=False)
        if restricted
        else pikepdf.Permissions()
    )
    return pdf_bytes(encryption=pikepdf.Encryption(owner="owner-secret", user="", allow=allow))


def raw_pdf(objects: list[bytes], *, stream_length_error: int = 0) -> bytes:
    """A PDF written by hand, object by object, with a correct cross-reference table.

    ``objects[0]`` is the catalog (object 1). ``stream_length_error`` is added to every
    ``/Length`` placeholder ``%(length)s`` to make a stream lie about its length.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        if b"%(length)s" in body:
            payload = body.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
            body = body.replace(b"%(length)s", str(len(payload) + stream_length_error).encode())
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def raw_pdf_objects(*, catalog_extra: bytes = b"", page_extra: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R "
        + page_extra
        + b" >>",
        b"<< /Length %(length)s >>\nstream\n0 0 m 100 100 l S\nendstream",
    ]


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("document.pdf", pdf_bytes())
    return out.getvalue()


# --- malware test files (EICAR) -----------------------------------------------------------------

# The EICAR anti-virus test string, in two halves so that this source file is no "virus" itself.
# CI's clamd knows it through its own signature (scripts/clamd_ci.sh); any real clamd knows it too.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf_with_eicar() -> bytes:
    """A valid, plain PDF (it passes every PDF check) whose page content carries the EICAR string
    as a comment, in an uncompressed stream."""

    def change(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].Contents = pdf.make_stream(b"%" + EICAR + b"\nBT /F1 24 Tf 72 720 Td (Page 1) Tj ET")

    return pdf_bytes(change=change, compress_streams=False)


def jpeg_with_eicar() -> bytes:
    """A good face photo with the EICAR string after its end marker (decoders ignore it)."""
    return jpeg_bytes() + EICAR


# --- JPEGs --------------------------------------------------------------------------------------


def photo_image(width: int = 300, height: int = 400, *, noise: bool = False) -> Image.Image:
    """A face-photo stand-in: a smooth gradient with an oval, or (reproducible) noise, which compresses badly."""
    if noise:
        return Image.frombytes(
            "RGB", (width, height), random.Random(width * height).randbytes(width * height * 3)
        )
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), gradient))
    ImageDraw.Draw(image).ellipse(
        (width * 0.25, height * 0.2, width * 0.75, height * 0.7), fill=(180, 140, 120)
    )
    return image


def jpeg_bytes(
    width: int = 300,
    height: int = 400,
    *,
    quality: int = 85,
    noise: bool = False,
    image_format: str = "JPEG",
    exif: Image.Exif | None = None,
    **save_options,
) -> bytes:
    image = photo_image(width, height, noise=noise)
    out = io.BytesIO()
    options = dict(save_options)
    if image_format == "JPEG":
        options["quality"] = quality
    if exif is not None:
        options["exif"] = exif
    image.save(out, format=image_format, **options)
    return out.getvalue()


def revealing_exif(*, orientation: int | None = None) -> Image.Exif:
    """EXIF that must never be kept: camera make and model, and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "SECRETCAMERA"  # Make
    exif[0x0110] = "SECRETMODEL"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8825).update({1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)})
    return exif


def jpeg_with_declared_size(width: int, height: int) -> bytes:
    """A small JPEG whose header (SOF0) claims ``width`` × ``height``: a decompression bomb's header."""
    data = bytearray(jpeg_bytes(16, 16, quality=50))
    marker = data.index(b"\xff\xc0")
    data[marker + 5 : marker + 7] = height.to_bytes(2, "big")
    data[marker + 7 : marker + 9] = width.to_bytes(2, "big")
    return bytes(data)


# --- uploads and stored documents ---------------------------------------------------------------


def upload(
    data: bytes, name: str = "document.pdf", content_type: str = "application/pdf"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_pdf(
    *, owner, document_type: str = "passport_copy", pages: int = 1, name: str = "passport.pdf"
) -> StoredDocument:
    """A PDF stored through the service, file and all (for other apps' tests)."""
    from zairyu.documents.services import document_store_pdf

    return document_store_pdf(upload=upload(pdf_bytes(pages), name), owner=owner, document_type=document_type)


def stored_photo(*, owner, name: str = "photo.jpg") -> StoredDocument:
    from zairyu.documents.services import document_store_photo

    return document_store_photo(
        upload=upload(jpeg_bytes(), name, "image/jpeg"), owner=owner, taken_within_6_months=True
    )
