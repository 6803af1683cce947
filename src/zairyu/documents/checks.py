"""Checks on uploaded files: pure functions over bytes, no database, no storage.

Nothing the client says about a file is trusted: neither its name nor its Content-Type. A file is
read once, in bounded chunks (never more than ``max_bytes + 1`` bytes), and every check runs on
those bytes; the bytes that were checked are the bytes that are returned for storing.

What a PDF may not contain, and why (``active_content``):

- JavaScript anywhere: a ``/JS`` entry (JavaScript actions, the document-level ``/JavaScript``
  name tree, form-field scripts), whatever triggers it (``/OpenAction``, ``/AA``, links, outlines).
- Actions that start programs or fetch/send data elsewhere: ``/Launch``, ``/ImportData``,
  ``/SubmitForm``, ``/GoToR`` (opens another file) and ``/GoToE`` (opens an embedded one).
- Multimedia that can carry scripts: ``/Rendition`` and ``/RichMediaExecute`` actions,
  ``/RichMedia`` and ``/3D`` annotations.
- Embedded files: ``/EmbeddedFiles`` in the name tree, file specifications with ``/EF``,
  ``/EmbeddedFile`` streams and ``/FileAttachment`` annotations.
- XFA forms (``/XFA``): dynamic forms are programs; officers need a fixed document.
- Links (``/URI``) to schemes other than http, https, mailto and tel (``javascript:``, ``file:``,
  ``data:`` …). Ordinary web links are fine, and so are in-document actions (``/GoTo``,
  ``/Named``, ``/ResetForm``, ``/Hide`` …), which neither run code nor leave the document.

The walk covers every object of the file (indirect objects and the direct objects nested in
them), reachable or not, so an action cannot hide in an unusual place. Name escapes such as
``/Java#53cript`` are decoded by qpdf before we compare.

Page contents are not decompressed: a small Flate stream can inflate to gigabytes. A PDF whose
structure is sound but whose page drawing is corrupt is therefore accepted; officers will ask again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import IO, Any

import pikepdf
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from zairyu.documents.errors import DocumentRejected, lazy_format

CHUNK_SIZE = 64 * 1024

# --- PDF ----------------------------------------------------------------------------------------

PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WINDOW = 1024  # the header may follow some bytes of garbage (PDF 32000-1 annex H)

# Files of other formats that also carry "%PDF-" within their first kilobyte are polyglots.
OTHER_FORMAT_SIGNATURES = (
    b"PK\x03\x04",  # ZIP, Office documents
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG",
    b"GIF8",
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"\xd0\xcf\x11\xe0",  # OLE (old Office)
    b"MZ",  # Windows executable
    b"\x7fELF",
    b"%!PS",
    b"{\\rtf",
    b"<",  # HTML, XML, SVG
)

REFUSED_ACTIONS = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/ImportData": "external",
    "/SubmitForm": "external",
    "/GoToR": "external",
    "/GoToE": "embedded_file",
    "/Rendition": "multimedia",
    "/RichMediaExecute": "multimedia",
}
REFUSED_ANNOTATIONS = {
    "/FileAttachment": "embedded_file",
    "/RichMedia": "multimedia",
    "/3D": "multimedia",
}
ALLOWED_URI_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_URI_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")

# qpdf warns about anything it had to guess. A guess about the bytes (a wrong stream length, an
# unreadable object) means a damaged file; these page-tree fixes change nothing that is drawn.
BENIGN_QPDF_WARNINGS = (
    re.compile(r"Resources is missing or invalid; repairing"),
    re.compile(r"/Type key should be /Page but is not; overriding"),
)
_CONTAINERS = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)
# What qpdf raises for malformed input. Anything else is a bug of ours and must not pass for "damaged".
_PDF_ERRORS = (pikepdf.PdfError, RuntimeError, ValueError, OSError, IndexError, KeyError)

PASSWORD_MESSAGE = _(
    "This PDF is protected by a password. Save it again without a password (for example with "
    "“Print to PDF”) and upload it again."
)
ENCRYPTED_MESSAGE = _(
    "This PDF is encrypted. Save it again without encryption or security settings (for example "
    "with “Print to PDF”) and upload it again."
)
RESTRICTED_MESSAGE = _(
    "This PDF does not allow printing or copying its text, so officers could not work with it. "
    "Save it again without security restrictions (for example with “Print to PDF”) and upload it again."
)
ACTIVE_CONTENT_MESSAGES: dict[str, str | Promise] = {
    "javascript": _(
        "This PDF contains JavaScript, which we do not accept for security reasons. Save it again "
        "as a plain PDF (for example with “Print to PDF”) and upload it again."
    ),
    "launch": _(
        "This PDF contains an action that starts another program, which we do not accept for "
        "security reasons. Save it again as a plain PDF (for example with “Print to PDF”) and upload it again."
    ),
    "external": _(
        "This PDF contains an action that opens another file or sends or loads data (for example a "
        "form that submits itself), which we do not accept for security reasons. Save it again as a "
        "plain PDF (for example with “Print to PDF”) and upload it again."
    ),
    "embedded_file": _(
        "This PDF has other files attached inside it, which we do not accept. Upload each document "
        "as a PDF of its own, and save this one again without attachments (for example with "
        "“Print to PDF”)."
    ),
    "multimedia": _(
        "This PDF contains multimedia or 3D content, which we do not accept for security reasons. "
        "Save it again as a plain PDF (for example with “Print to PDF”) and upload it again."
    ),
    "xfa": _(
        "This PDF is a dynamic (XFA) form, which we cannot accept. Fill it in, then save it as a "
        "plain PDF (for example with “Print to PDF”) and upload it again."
    ),
    "uri": _(
        "This PDF contains a link of a kind we do not accept for security reasons (only web and "
        "e-mail links are allowed). Save it again as a plain PDF (for example with “Print to PDF”) "
        "and upload it again."
    ),
}


@dataclass(frozen=True)
class PdfInfo:
    """A PDF that passed every check, with the exact bytes that were checked."""

    page_count: int
    size: int
    sha256: str
    pdf_version: str
    data: bytes = field(repr=False)


def check_pdf(file: IO[bytes] | bytes, *, max_bytes: int) -> PdfInfo:
    """Refuse anything but a plain, intact, unencrypted PDF with pages and without active content.

    Raises :class:`DocumentRejected` with one of the codes ``too_large``, ``empty``, ``not_pdf``,
    ``damaged``, ``encrypted``, ``restricted``, ``active_content``, ``no_pages``.
    """
    data = read_bounded(file, max_bytes=max_bytes, too_large_message=pdf_too_large_message(max_bytes))
    if not data.strip():
        raise DocumentRejected(
            "empty",
            _("This file is empty. Check that you chose the right file and upload it again."),
        )
    head = data[:PDF_MAGIC_WINDOW]
    if PDF_MAGIC not in head or data.startswith(OTHER_FORMAT_SIGNATURES):
        raise DocumentRejected(
            "not_pdf",
            _(
                "This file is not a PDF (renaming a file to .pdf does not convert it). Open it and "
                "save or print it as a PDF, then upload the PDF."
            ),
        )

    try:
        # attempt_recovery=False: a file qpdf could only open by reconstructing it is refused
        # rather than silently "repaired" into something the applicant never saw.
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise DocumentRejected("encrypted", PASSWORD_MESSAGE, detail="user_password") from None
    except _PDF_ERRORS:
        raise _damaged() from None

    with pdf:
        if pdf.is_encrypted:
            allow = pdf.allow
            if not (allow.print_lowres and allow.print_highres and allow.extract):
                raise DocumentRejected("restricted", RESTRICTED_MESSAGE, detail="owner_password")
            raise DocumentRejected("encrypted", ENCRYPTED_MESSAGE, detail="owner_password")
        try:
            reason = _find_active_content(pdf)
            page_count = len(pdf.pages)
        except _PDF_ERRORS:
            raise _damaged() from None
        if any(not _benign(warning) for warning in pdf.get_warnings()):
            raise _damaged()  # e.g. a stream whose /Length is wrong: readable only by guessing
        if reason is not None:
            raise DocumentRejected("active_content", ACTIVE_CONTENT_MESSAGES[reason], detail=reason)
        if page_count == 0:
            raise DocumentRejected(
                "no_pages",
                _("This PDF has no pages. Check that you chose the right file and upload it again."),
            )
        version = str(pdf.pdf_version)

    return PdfInfo(
        page_count=page_count,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pdf_version=version,
        data=data,
    )


def pdf_too_large_message(max_bytes: int) -> Promise:
    return lazy_format(
        _(
            "This PDF is larger than %(limit)s MB. Scan it again at a lower resolution (200 dpi "
            "is enough) or in black and white, or split it into several files, and upload it again."
        ),
        {"limit": format_mb(max_bytes)},
    )


def _benign(warning: str) -> bool:
    return any(pattern.search(warning) for pattern in BENIGN_QPDF_WARNINGS)


def _damaged() -> DocumentRejected:
    return DocumentRejected(
        "damaged",
        _(
            "This PDF is damaged or incomplete and cannot be read reliably. Open it on your device to "
            "check it, save it again (for example with “Print to PDF”), and upload it again."
        ),
    )


def _find_active_content(pdf: pikepdf.Pdf) -> str | None:
    """The first reason to refuse found in any object of the file, or ``None``.

    Every stream is also read raw (not decompressed, so bounded by the file's size), which makes
    qpdf check its length and report a damaged file through its warnings.
    """
    stack: list[Any] = [pdf.trailer]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            obj.read_raw_bytes()
        stack.append(obj)
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            reason = _dictionary_reason(obj)
            if reason is not None:
                return reason
            children = obj.values()
        elif isinstance(obj, pikepdf.Array):
            children = obj
        else:
            continue
        # Indirect children are objects of their own, visited from pdf.objects; following them
        # here too would loop on cycles.
        stack.extend(child for child in children if isinstance(child, _CONTAINERS) and not child.is_indirect)
    return None


def _dictionary_reason(obj: pikepdf.Dictionary) -> str | None:
    keys = set(obj.keys())
    if "/JS" in keys or "/JavaScript" in keys:
        return "javascript"
    if "/XFA" in keys:
        return "xfa"
    if keys & {"/EmbeddedFiles", "/EF"}:
        return "embedded_file"
    if "/Type" in keys and obj.get("/Type") == pikepdf.Name.EmbeddedFile:
        return "embedded_file"
    if "/S" in keys:
        action = str(obj.get("/S"))
        if action in REFUSED_ACTIONS:
            return REFUSED_ACTIONS[action]
        if action == "/URI" and not _uri_allowed(obj.get("/URI")):
            return "uri"
    if "/Subtype" in keys:
        subtype = str(obj.get("/Subtype"))
        if subtype in REFUSED_ANNOTATIONS and obj.get("/Type", pikepdf.Name.Annot) == pikepdf.Name.Annot:
            return REFUSED_ANNOTATIONS[subtype]
    return None


def _uri_allowed(uri: Any) -> bool:
    if uri is None:
        return True
    try:
        text = str(uri)
    except Exception:  # a string that does not decode is no web address either
        return False
    # Viewers ignore whitespace and control characters inside a scheme ("java\tscript:").
    compact = "".join(ch for ch in text if ord(ch) > 0x20 and ch != "\x7f").lower()
    match = _URI_SCHEME.match(compact)
    return match is None or match.group(1) in ALLOWED_URI_SCHEMES


# --- Face photo ---------------------------------------------------------------------------------

JPEG_MAGIC = b"\xff\xd8\xff"
PHOTO_MIN_WIDTH, PHOTO_MIN_HEIGHT = 240, 320
# Read from the header before a single pixel is decoded. A 50 KB JPEG of a face never needs more,
# and 1200 × 1600 decodes to under 6 MB; a 46 KB file can declare 3000 × 4000 (36 MB to decode,
# more with the conversions) or, forged, 65535 × 65535 — a decompression bomb.
PHOTO_MAX_WIDTH, PHOTO_MAX_HEIGHT = 1200, 1600
PHOTO_MAX_SIDE = PHOTO_MAX_HEIGHT  # a sideways phone photo (EXIF-rotated) is 1600 wide before turning
PHOTO_MAX_PIXELS = PHOTO_MAX_WIDTH * PHOTO_MAX_HEIGHT
PHOTO_RATIO = 4 / 3  # height : width, as for a photo 4 cm high and 3 cm wide
PHOTO_RATIO_TOLERANCE = 0.05
PHOTO_QUALITIES = (90, 85, 80, 75, 70, 65, 60)  # never below 60: faces must stay recognisable


@dataclass(frozen=True)
class PhotoResult:
    """A face photo that passed every check, re-encoded without metadata."""

    jpeg_bytes: bytes = field(repr=False)
    width: int
    height: int
    size: int
    sha256: str


def check_photo(file: IO[bytes] | bytes, *, max_bytes: int) -> PhotoResult:
    """Refuse anything but a decodable JPEG face photo of the right shape; return it re-encoded.

    The photo is turned upright as its EXIF orientation says (the metadata goes, so the pixels
    must carry the orientation), converted to RGB and saved again without EXIF, ICC profile or
    comments: nothing the camera or phone recorded (location, device) is kept.

    Raises :class:`DocumentRejected` with one of the codes ``too_large``, ``empty``, ``not_jpeg``,
    ``damaged``, ``too_big_dimensions``, ``wrong_proportion``, ``too_small``.
    """
    too_large_message = photo_too_large_message(max_bytes)
    data = read_bounded(file, max_bytes=max_bytes, too_large_message=too_large_message)
    if not data:
        raise DocumentRejected(
            "empty",
            _("This file is empty. Check that you chose the right photo and upload it again."),
        )
    if not data.startswith(JPEG_MAGIC):
        raise _not_jpeg()
    rgb = _decode_photo_upright(data)
    width, height = rgb.size
    _check_photo_shape(width, height)
    return _reencode_photo(rgb, max_bytes=max_bytes, too_large_message=too_large_message)


def _not_jpeg() -> DocumentRejected:
    return DocumentRejected(
        "not_jpeg",
        _(
            "The photo must be a JPEG file (.jpg). Open it in a photo app, save or export it as "
            "JPEG, and upload it again."
        ),
    )


def _decode_photo_upright(data: bytes) -> Image.Image:
    """The JPEG's pixels in RGB, turned as its EXIF orientation says; its declared dimensions are
    checked from the header before anything is decoded."""
    with warnings.catch_warnings():
        # Pillow's own decompression-bomb guard warns first and raises only at twice its limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                image_format, (width, height) = probe.format, probe.size
                if image_format not in ("JPEG", "MPO"):  # MPO: a JPEG with extra frames (cameras)
                    raise _not_jpeg()
                _check_dimensions(width, height)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                return upright.convert("RGB")
        except DocumentRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow refused the header itself (beyond Image.MAX_IMAGE_PIXELS): say what it declares.
            declared = _jpeg_declared_size(data)
            raise _too_big_dimensions(
                width=declared[0] if declared else None, height=declared[1] if declared else None
            ) from None
        except Exception:  # Pillow reports broken images as OSError, SyntaxError, ValueError …
            raise DocumentRejected(
                "damaged",
                _(
                    "The photo is damaged or incomplete and cannot be displayed. Open it on your "
                    "device to check it, save it again as JPEG, and upload it again."
                ),
            ) from None


def _check_photo_shape(width: int, height: int) -> None:
    """4 high for 3 wide, and large enough to recognise the face."""
    # Shape first: for a landscape photo, "too small" would send the applicant the wrong way.
    ratio = (height / width) / PHOTO_RATIO
    if not (1 - PHOTO_RATIO_TOLERANCE <= ratio <= 1 + PHOTO_RATIO_TOLERANCE):
        raise DocumentRejected(
            "wrong_proportion",
            lazy_format(
                _(
                    "The photo is %(width)s × %(height)s pixels; it must be 4 high for 3 wide, like a "
                    "photo 4 cm high and 3 cm wide (for example 300 × 400 pixels). Crop it to that "
                    "shape, with the face in the middle, and upload it again."
                ),
                {"width": width, "height": height},
            ),
        )
    if width < PHOTO_MIN_WIDTH or height < PHOTO_MIN_HEIGHT:
        raise DocumentRejected(
            "too_small",
            lazy_format(
                _(
                    "The photo is %(width)s × %(height)s pixels, too small to recognise the face. "
                    "Upload a photo of at least %(min_width)s × %(min_height)s pixels (width × height)."
                ),
                {
                    "width": width,
                    "height": height,
                    "min_width": PHOTO_MIN_WIDTH,
                    "min_height": PHOTO_MIN_HEIGHT,
                },
            ),
        )


def _reencode_photo(rgb: Image.Image, *, max_bytes: int, too_large_message: Promise) -> PhotoResult:
    """The pixels saved again as JPEG, at the best quality that fits in ``max_bytes``."""
    width, height = rgb.size
    # A fresh image carries no info dict: no EXIF, ICC profile or comment can follow it into the file.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    for quality in PHOTO_QUALITIES:
        out = io.BytesIO()
        clean.save(out, format="JPEG", quality=quality, optimize=True)
        jpeg = out.getvalue()
        if len(jpeg) <= max_bytes:
            return PhotoResult(
                jpeg_bytes=jpeg,
                width=width,
                height=height,
                size=len(jpeg),
                sha256=hashlib.sha256(jpeg).hexdigest(),
            )
    raise DocumentRejected("too_large", too_large_message, detail="after_reencoding")


def photo_too_large_message(max_bytes: int) -> Promise:
    return lazy_format(
        _(
            "The photo is larger than %(limit)s KB. Save it again with a smaller size (for example "
            "300 × 400 pixels) or stronger JPEG compression, and upload it again."
        ),
        {"limit": format_kb(max_bytes)},
    )


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers; not DHT, JPG, DAC


def _jpeg_declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first frame header (SOFn) of a JPEG, without decoding anything."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker in _SOF_MARKERS and position + 9 <= len(data):
            height = int.from_bytes(data[position + 5 : position + 7], "big")
            width = int.from_bytes(data[position + 7 : position + 9], "big")
            return width, height
        if marker == 0xDA or length < 2:  # start of scan: no frame header before it
            return None
        position += 2 + length
    return None


def _check_dimensions(width: int, height: int) -> None:
    if max(width, height) > PHOTO_MAX_SIDE or width * height > PHOTO_MAX_PIXELS:
        raise _too_big_dimensions(width=width, height=height)


def _too_big_dimensions(*, width: int | None, height: int | None) -> DocumentRejected:
    if width is None:
        message: str | Promise = _(
            "The photo has too many pixels to be processed. Reduce it, for example to 300 × 400 "
            "pixels, and upload it again."
        )
    else:
        message = lazy_format(
            _(
                "This image is %(width)s × %(height)s pixels; a photo must be at most %(max_width)s × "
                "%(max_height)s pixels (width × height). Reduce it, for example to 300 × 400 pixels, "
                "and upload it again."
            ),
            {"width": width, "height": height, "max_width": PHOTO_MAX_WIDTH, "max_height": PHOTO_MAX_HEIGHT},
        )
    return DocumentRejected("too_big_dimensions", message)


# --- Helpers ------------------------------------------------------------------------------------


def read_bounded(file: IO[bytes] | bytes, *, max_bytes: int, too_large_message: str | Promise) -> bytes:
    """All bytes of ``file``, read in chunks; ``too_large`` as soon as more than ``max_bytes`` arrive."""
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
        if len(data) > max_bytes:
            raise DocumentRejected("too_large", too_large_message)
        return data
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):  # a stream that cannot rewind is read as it stands
            file.seek(0)
    buffer = bytearray()
    while True:
        chunk = file.read(min(CHUNK_SIZE, max_bytes + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > max_bytes:
            raise DocumentRejected("too_large", too_large_message)
    return bytes(buffer)


def format_mb(size: int) -> str:
    """Bytes as megabytes for messages: 10485760 → "10", 24536678 → "23.4"."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def format_size(size: int) -> str:
    """Bytes for people: kilobytes below 1 MB (rounded up, so a small file is never "0"), else MB.

    38000 → "38 KB", 0 → "0 KB", 10485760 → "10 MB", 24536678 → "23.4 MB".
    """
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    return f"{format_mb(size)} MB"


def format_kb(size: int) -> str:
    return f"{size / 1024:.1f}".removesuffix(".0")


FILENAME_MAX_LENGTH = 200
_RESERVED_FILENAME_CHARACTERS = re.compile(r'[<>:"|?*]')


def sanitize_filename(
    name: str | None, *, default: str = "document", max_length: int = FILENAME_MAX_LENGTH
) -> str:
    """A file name fit for display and for a download's suggested name; never used as a path.

    Keeps the last path component, drops control, format (e.g. right-to-left overrides) and
    unassigned characters, replaces characters Windows forbids in file names, collapses spaces and
    shortens long names while keeping their extension. Japanese and other scripts are kept (NFC).
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _RESERVED_FILENAME_CHARACTERS.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    if not text:
        return default
    if len(text) > max_length:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            text = stem[: max_length - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            text = text[:max_length].rstrip(" .")
    return text or default
