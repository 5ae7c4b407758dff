"""Uploads become clean documents: type by content, metadata stripped, active content removed."""

from __future__ import annotations

import builtins
import io
import os

import pikepdf
import pytest
from PIL import Image

from tests.vault import media_samples as samples
from vault.media import MediaLimits, UploadedFile, normalise_document


def one(data: bytes, name: str = "file", **limits):
    return normalise_document([UploadedFile(data, name)], limits=MediaLimits(**limits))


def test_gps_exif_is_gone_and_the_photo_is_upright():
    result = one(samples.jpeg_with_gps(640, 400, orientation=6), "IMG.jpg")
    assert result.content_type == "image/jpeg" and result.pages == 1
    image = Image.open(io.BytesIO(result.content))
    assert not image.getexif() and "exif" not in image.info
    assert image.size == (400, 640)  # orientation 6 means "rotate 90°"
    for marker in (b"Exif", b"PhoneMaker", b"Model X42"):
        assert marker not in result.content
    assert b"Exif" not in result.thumbnail
    assert max(Image.open(io.BytesIO(result.thumbnail)).size) <= 320


def test_two_sides_become_one_two_page_pdf():
    result = normalise_document([UploadedFile(samples.jpeg_with_gps(), "recto.jpg"),
                                 UploadedFile(samples.jpeg_with_gps(), "verso.jpg")])
    assert (result.content_type, result.pages) == ("application/pdf", 2)
    assert len(pikepdf.open(io.BytesIO(result.content)).pages) == 2
    assert b"PhoneMaker" not in result.content and b"Exif" not in result.content


def test_pdf_and_image_keep_their_order():
    result = normalise_document([UploadedFile(samples.pdf_bytes(2)), UploadedFile(samples.png_bytes())])
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert len(pdf.pages) == 3
    assert b"Page 1" in pdf.pages[0].Contents.read_bytes()
    assert "/XObject" in pdf.pages[2].Resources
    assert b"Zainab" not in result.content  # the document information dictionary is gone


def test_png_and_webp_stay_themselves_without_text_chunks():
    png = one(samples.png_bytes())
    assert png.content_type == "image/png" and b"Zainab" not in png.content
    assert one(samples.webp_bytes()).content_type == "image/webp"


def test_heic_becomes_jpeg():
    from pillow_heif import from_pillow

    output = io.BytesIO()
    from_pillow(Image.new("RGB", (64, 48), (1, 2, 3))).save(output, quality=80)
    result = one(output.getvalue(), "photo.heic")
    assert result.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(result.content)).size == (64, 48)


def test_javascript_is_removed_from_pdfs():
    result = one(samples.scripted_pdf())
    assert b"JavaScript" not in result.content and b"app.alert" not in result.content
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert "/OpenAction" not in pdf.Root and len(pdf.pages) == 1


@pytest.mark.parametrize("data, code", [
    (samples.exe_bytes(), "unsupported_file_type"),
    (b"plain text pretending to be a PDF", "unsupported_file_type"),
    (samples.gif_bytes(), "unsupported_file_type"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unsupported_file_type"),
    (samples.png_bomb(), "image_too_large"),
    (samples.png_bomb(side=13_000), "image_too_large"),
    (samples.jpeg_with_gps()[:300], "corrupt_file"),
    (samples.broken_pdf(), "corrupt_file"),
    (samples.encrypted_pdf(), "encrypted_pdf"),
    (b"", "corrupt_file"),
])
def test_refusals(data, code):
    with pytest.raises(Exception) as raised:
        one(data, "innocent.jpg")
    assert getattr(raised.value, "code", None) == code
    assert raised.value.file_index == 0


def test_limits():
    with pytest.raises(Exception) as raised:
        one(samples.noisy_png(100), max_file_bytes=1000)
    assert raised.value.code == "file_too_large"
    files = [UploadedFile(samples.png_bytes()) for _ in range(3)]
    with pytest.raises(Exception) as raised:
        normalise_document(files, limits=MediaLimits(max_document_bytes=2 * len(files[0].data)))
    assert (raised.value.code, raised.value.file_index) == ("document_too_large", 2)
    with pytest.raises(Exception) as raised:
        normalise_document(files, limits=MediaLimits(max_files=2))
    assert raised.value.code == "too_many_files"
    with pytest.raises(Exception) as raised:
        one(samples.pdf_bytes(5), max_pages=4)
    assert raised.value.code == "too_many_pages"
    with pytest.raises(Exception) as raised:
        normalise_document([])
    assert raised.value.code == "no_files"


def test_nothing_is_written_to_disk(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"write to disk attempted: {file}")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise AssertionError(f"write to disk attempted: {path}")
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    normalise_document([UploadedFile(samples.jpeg_with_gps()), UploadedFile(samples.pdf_bytes(2)),
                        UploadedFile(samples.png_bytes())])
    one(samples.jpeg_with_gps())
    assert list(tmp_path.iterdir()) == []
