"""check_photo and sanitize_filename."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from zairyu.documents.checks import check_photo, sanitize_filename
from zairyu.documents.errors import DocumentRejected
from zairyu.documents.tests import factories as f

LIMIT = 50 * 1024


def refusal(data, *, max_bytes: int = LIMIT) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        check_photo(data, max_bytes=max_bytes)
    return caught.value


def test_a_good_photo_is_accepted_and_re_encoded_without_exif_icc_or_comment():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = f.jpeg_bytes(300, 400, exif=f.revealing_exif(), comment=b"SECRETCOMMENT", icc_profile=icc)
    assert b"SECRETCAMERA" in data and b"SECRETCOMMENT" in data

    result = check_photo(io.BytesIO(data), max_bytes=LIMIT)

    assert (result.width, result.height) == (300, 400)
    assert result.size == len(result.jpeg_bytes) <= LIMIT
    assert b"SECRET" not in result.jpeg_bytes and b"Exif" not in result.jpeg_bytes
    with Image.open(io.BytesIO(result.jpeg_bytes)) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert not {"exif", "icc_profile", "comment"} & set(stored.info)
        assert len(stored.getexif()) == 0


def test_a_sideways_phone_photo_is_turned_upright_before_its_metadata_goes():
    # Stored 400 wide × 300 high, with EXIF saying "rotate 90°": shown as 300 × 400.
    result = check_photo(f.jpeg_bytes(400, 300, exif=f.revealing_exif(orientation=6)), max_bytes=LIMIT)
    assert (result.width, result.height) == (300, 400)
    with Image.open(io.BytesIO(result.jpeg_bytes)) as stored:
        assert stored.size == (300, 400)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f.jpeg_bytes(image_format="PNG"), id="png"),
        pytest.param(f.jpeg_bytes(image_format="GIF"), id="gif"),
        pytest.param(f.pdf_bytes(), id="pdf"),
    ],
)
def test_other_formats_are_refused_as_not_jpeg(data):
    error = refusal(data)
    assert error.code == "not_jpeg"
    assert "JPEG" in str(error.message)


def test_a_broken_jpeg_is_refused_as_damaged():
    data = f.jpeg_bytes()
    assert refusal(data[: len(data) // 2]).code == "damaged"
    assert refusal(data[:200]).code == "damaged"


def test_an_empty_file_is_refused():
    assert refusal(b"").code == "empty"


@pytest.mark.parametrize(("width", "height"), [(400, 400), (300, 300), (400, 300), (300, 450)])
def test_a_photo_that_is_not_4_high_for_3_wide_is_refused(width, height):
    error = refusal(f.jpeg_bytes(width, height))
    assert error.code == "wrong_proportion"
    assert f"{width} × {height}" in str(error.message)
    assert "Crop" in str(error.message)


def test_a_photo_within_5_percent_of_the_proportion_is_accepted():
    assert check_photo(f.jpeg_bytes(300, 415), max_bytes=LIMIT).height == 415


def test_a_photo_under_240_by_320_is_refused():
    error = refusal(f.jpeg_bytes(180, 240))
    assert error.code == "too_small"
    assert "240 × 320" in str(error.message)


def test_a_photo_over_50_kb_is_refused():
    data = f.jpeg_bytes(600, 800, noise=True, quality=95)
    assert len(data) > LIMIT
    error = refusal(data)
    assert error.code == "too_large"
    assert "50 KB" in str(error.message)


@pytest.fixture
def decoded(monkeypatch) -> list[object]:
    """Records every image whose pixels Pillow decodes (``ImageFile.load``)."""
    from PIL import ImageFile

    loads: list[object] = []
    original = ImageFile.ImageFile.load

    def load(self):
        loads.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return loads


@pytest.mark.parametrize(("width", "height"), [(4500, 6000), (45000, 60000), (65535, 65535)])
def test_a_decompression_bomb_header_is_refused_before_decoding(width, height, decoded):
    data = f.jpeg_with_declared_size(width, height)
    assert len(data) < 2000
    error = refusal(data)
    assert error.code == "too_big_dimensions"
    # Even beyond Pillow's own bomb limit, the message says what the file declares.
    assert f"{width} × {height} pixels" in str(error.message) and "at most 1200 × 1600" in str(error.message)
    assert decoded == []


def test_a_small_file_of_3000_by_4000_pixels_is_refused_for_its_pixels_without_decoding(decoded):
    out = io.BytesIO()
    Image.new("L", (3000, 4000), 128).save(out, format="JPEG", quality=10, optimize=True)
    data = out.getvalue()
    assert len(data) < LIMIT  # 46 KB: it passes the size check; decoded, it would take ~36 MB or more
    error = refusal(data)
    assert error.code == "too_big_dimensions"
    assert str(error.message).startswith(
        "This image is 3000 × 4000 pixels; a photo must be at most 1200 × 1600"
    )
    assert decoded == []  # the header was read, not one pixel


def test_the_largest_accepted_photo_is_decoded_and_kept():
    result = check_photo(f.jpeg_bytes(1200, 1600, quality=30), max_bytes=200 * 1024)
    assert (result.width, result.height) == (1200, 1600)


def test_re_encoding_lowers_the_quality_until_the_photo_fits():
    data = f.jpeg_bytes(300, 400, noise=True, quality=30)  # about 35 KB; at quality 90 about 56 KB
    result = check_photo(data, max_bytes=45_000)
    assert result.size <= 45_000
    with Image.open(io.BytesIO(result.jpeg_bytes)) as stored:
        stored.load()


def test_a_photo_that_cannot_fit_even_at_the_lowest_quality_is_refused():
    data = f.jpeg_bytes(300, 400, noise=True, quality=30)
    error = refusal(data, max_bytes=max(len(data), 36_000))
    assert (error.code, error.detail) == ("too_large", "after_reencoding")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("passport.pdf", "passport.pdf"),
        ("C:\\Users\\taro\\Desktop\\在留カード 表面.pdf", "在留カード 表面.pdf"),
        ("../../etc/passwd", "passwd"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # right-to-left override dropped
        ("line\r\nbreak\x00.pdf", "linebreak.pdf"),
        ('what?"<>|*:.pdf', "what_______.pdf"),
        ("  spaced   out .pdf ", "spaced out .pdf"),
        ("パスポート.pdf", "パスポート.pdf"),
        ("ﾊﾟｽﾎﾟｰﾄ.pdf", "ﾊﾟｽﾎﾟｰﾄ.pdf"),  # half-width kana kept as typed (NFC, not NFKC)
        ("", "document"),
        (None, "document"),
        ("...", "document"),
        ("/", "document"),
    ],
)
def test_file_names_are_made_safe_for_display(name, expected):
    assert sanitize_filename(name) == expected


def test_long_file_names_are_shortened_keeping_the_extension():
    name = sanitize_filename("資" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith("資.pdf")
