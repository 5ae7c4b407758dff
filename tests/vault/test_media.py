"""Uploads become clean documents: type by content, metadata stripped, active content removed, in memory."""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import pickle
import sys
import tempfile

import pikepdf
import pytest
from PIL import Image

from tests.vault import media_samples as samples
from vault import media
from vault.media import MediaError, MediaLimits, UploadedFile, normalise_document

METADATA_MARKERS = (b"Exif", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"<x:xmpmeta", b"MPF\x00")
PLACEHOLDER = media.thumbnails.make_placeholder_thumbnail()


def one(data: bytes, name: str | None = "file", **limits):
    return normalise_document([UploadedFile(data, name)], limits=MediaLimits(**limits))


def several(*blobs: bytes, **limits):
    return normalise_document([UploadedFile(blob) for blob in blobs], limits=MediaLimits(**limits))


def refusal(call) -> MediaError:
    with pytest.raises(MediaError) as raised:
        call()
    return raised.value


def assert_clean(blob: bytes) -> None:
    for marker in METADATA_MARKERS + samples.SECRETS:
        assert marker not in blob, marker


def assert_small_clean_thumbnail(thumbnail: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(thumbnail))
    assert image.format == "JPEG" and max(image.size) <= 320
    assert not image.getexif() and "icc_profile" not in image.info
    assert_clean(thumbnail)
    return image


def page_pictures(pdf: pikepdf.Pdf, page_number: int) -> list[pikepdf.Stream]:
    return list(pdf.pages[page_number].get_images().values())


# --- one photo ---------------------------------------------------------------------------------------
def test_gps_exif_is_gone_and_the_photo_is_upright():
    result = one(samples.jpeg_with_gps(640, 400, orientation=6), "IMG_2041.jpg")
    assert (result.content_type, result.pages, result.thumbnail_type) == ("image/jpeg", 1, "image/jpeg")
    image = Image.open(io.BytesIO(result.content))
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert_clean(result.content)
    assert image.size == (400, 640)  # orientation 6: turn 90° clockwise to display
    # The striped top half of the stored picture is now on the right.
    assert image.crop((0, 0, 150, 640)).getextrema()[2][1] < 120
    assert image.crop((250, 0, 400, 640)).getextrema()[2][1] > 150
    assert assert_small_clean_thumbnail(result.thumbnail).size == (200, 320)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation):
    image = Image.open(io.BytesIO(one(samples.jpeg_with_gps(64, 32, orientation=orientation)).content))
    assert image.size == ((32, 64) if orientation >= 5 else (64, 32))


def test_phone_photo_with_a_second_picture_keeps_only_the_photo():
    result = one(samples.mpo_with_gps())
    image = Image.open(io.BytesIO(result.content))
    assert (image.format, getattr(image, "n_frames", 1), image.size) == ("JPEG", 1, (640, 400))
    assert_clean(result.content)


def test_heic_becomes_an_upright_jpeg_without_exif():
    result = one(samples.heic_with_gps(orientation=6), "IMG_0001.HEIC")
    image = Image.open(io.BytesIO(result.content))
    assert (result.content_type, image.format, image.size) == ("image/jpeg", "JPEG", (48, 64))
    assert not image.getexif()
    assert_clean(result.content)


def test_png_and_webp_stay_themselves_without_metadata():
    png = one(samples.png_bytes())
    image = Image.open(io.BytesIO(png.content))
    assert (png.content_type, image.format, image.size) == ("image/png", "PNG", (300, 200))
    assert not image.info and not image.getexif()
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
        assert chunk not in png.content
    webp = one(samples.webp_bytes())
    image = Image.open(io.BytesIO(webp.content))
    assert (webp.content_type, image.format, dict(image.getexif())) == ("image/webp", "WEBP", {})
    assert "xmp" not in image.info
    for chunk in (b"EXIF", b"XMP ", b"ICCP"):
        assert chunk not in webp.content
    assert_clean(webp.content)


@pytest.mark.parametrize("data, content_type, mode", [
    (samples.png_in_mode("P"), "image/png", "RGBA"),
    (samples.png_in_mode("LA"), "image/png", "RGBA"),
    (samples.png_in_mode("1"), "image/png", "L"),
    (samples.png_in_mode("I;16"), "image/png", "L"),
    (samples.cmyk_jpeg(), "image/jpeg", "RGB"),
])
def test_colour_modes_are_normalised(data, content_type, mode):
    result = one(data)
    image = Image.open(io.BytesIO(result.content))
    assert (result.content_type, image.mode) == (content_type, mode)


def test_sixteen_bit_scans_keep_their_greys_and_transparency_survives():
    grey = Image.open(io.BytesIO(one(samples.png_in_mode("I;16")).content))
    assert [grey.getpixel((x, 0)) for x in range(4)] == [0, 85, 170, 255]  # not clipped to white
    palette = Image.open(io.BytesIO(one(samples.png_in_mode("P")).content))
    assert palette.getpixel((0, 0))[3] == 0 and palette.getpixel((1, 0)) == (255, 0, 0, 255)


def test_type_comes_from_the_content_not_the_name():
    assert one(samples.pdf_bytes(1), "photo.jpg").content_type == "application/pdf"
    assert one(samples.jpeg_with_gps(), "scan.pdf").content_type == "image/jpeg"
    assert one(samples.png_bytes(), None).content_type == "image/png"


# --- several files: one PDF --------------------------------------------------------------------------
def test_two_sides_of_an_id_card_become_one_two_page_pdf():
    result = normalise_document([UploadedFile(samples.jpeg_with_gps(), "recto.jpg"),
                                 UploadedFile(samples.jpeg_with_gps(orientation=6), "verso.jpg")],
                                limits=MediaLimits())
    assert (result.content_type, result.pages) == ("application/pdf", 2)
    assert_clean(result.content)
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert len(pdf.pages) == 2 and not pdf.get_warnings()
    boxes = [list(map(float, page.mediabox)) for page in pdf.pages]
    assert boxes == [[0, 0, 307.2, 192.0], [0, 0, 192.0, 307.2]]
    picture = page_pictures(pdf, 1)[0]
    assert (picture.Width, picture.Height, picture.Filter) == (400, 640, pikepdf.Name.DCTDecode)
    assert_clean(picture.read_raw_bytes())
    assert_small_clean_thumbnail(result.thumbnail)


def test_a_large_photo_page_fits_a4_at_no_more_than_200_dpi():
    result = several(samples.jpeg_with_gps(4000, 3000), samples.jpeg_with_gps(300, 4000))
    pdf = pikepdf.open(io.BytesIO(result.content))
    for page, landscape in zip(pdf.pages, (True, False)):
        width, height = float(page.mediabox[2]), float(page.mediabox[3])
        assert (width > height) == landscape
        assert max(width, height) <= 842 and min(width, height) <= 596
        picture = page_pictures(pdf, pdf.pages.index(page))[0]
        assert picture.Width <= 200 * width / 72 + 1 and picture.Height <= 200 * height / 72 + 1


def test_pdf_and_photos_keep_the_upload_order():
    result = several(samples.png_bytes(), samples.pdf_bytes(2), samples.jpeg_with_gps())
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert result.pages == len(pdf.pages) == 4
    assert page_pictures(pdf, 0) and page_pictures(pdf, 3)
    assert b"Page 1" in pdf.pages[1].Contents.read_bytes() and b"Page 2" in pdf.pages[2].Contents.read_bytes()
    assert_clean(result.content)  # including the PDF's /Author


# --- PDFs ----------------------------------------------------------------------------------------------
def test_scripts_embedded_files_and_page_actions_are_removed_from_pdfs():
    result = one(samples.scripted_pdf(), "attestation.pdf")
    for marker in (b"JavaScript", b"OpenAction", b"EmbeddedFiles", b"FileAttachment", b"/AA", b"Outlines"):
        assert marker not in result.content
    assert_clean(result.content)
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert len(pdf.pages) == 1 and not pdf.get_warnings()
    assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
    assert "/AA" not in pdf.pages[0].obj and "/Annots" not in pdf.pages[0].obj


def test_only_plain_web_links_survive():
    result = one(samples.linked_pdf())
    assert b"JavaScript" not in result.content and b"Launch" not in result.content
    assert_clean(result.content)
    pdf = pikepdf.open(io.BytesIO(result.content))
    annotations = pdf.pages[0].obj.Annots
    assert [str(annotation.A.URI) for annotation in annotations] == ["https://www.service-public.fr/"]


def test_forms_are_flattened_and_their_scripts_and_xfa_dropped():
    result = one(samples.form_pdf())
    for marker in (b"JavaScript", b"XFA", b"xdp", b"AcroForm", b"Widget"):
        assert marker not in result.content
    pdf = pikepdf.open(io.BytesIO(result.content))
    drawn = b"".join(stream.read_bytes() for stream in pdf.pages[0].Resources.XObject.values())
    assert b"FILLED-VALUE" in drawn  # what was typed in the form is still on the page


def test_camera_jpegs_inside_pdfs_lose_their_exif_but_not_their_pixels():
    original = samples.jpeg_with_gps(640, 400)
    result = one(samples.scanned_pdf(original))
    assert_clean(result.content)
    pdf = pikepdf.open(io.BytesIO(result.content))
    kept = Image.open(io.BytesIO(page_pictures(pdf, 0)[0].read_raw_bytes()))
    assert kept.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    thumbnail = assert_small_clean_thumbnail(result.thumbnail)
    assert thumbnail.size == (320, 200) and result.thumbnail != PLACEHOLDER


def test_pictures_reached_through_annotations_lose_their_exif_too():
    result = one(samples.stamped_pdf())
    assert_clean(result.content)
    pdf = pikepdf.open(io.BytesIO(result.content))
    signature = pdf.pages[0].obj.Annots[0].AP.N.Resources.XObject.Sig  # the stamp is kept
    assert Image.open(io.BytesIO(signature.read_raw_bytes())).size == (160, 100)


def test_a_pdf_without_pictures_gets_the_drawn_placeholder():
    result = one(samples.pdf_bytes(1))
    assert result.thumbnail == PLACEHOLDER
    assert_small_clean_thumbnail(result.thumbnail)


def test_a_flate_bomb_in_a_pdf_is_never_inflated():
    bomb = samples.flate_bomb_pdf()
    result = one(bomb)
    assert len(result.content) < 2 * len(bomb) and result.thumbnail == PLACEHOLDER
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert page_pictures(pdf, 0)[0].Filter == pikepdf.Name.FlateDecode


def test_a_pdf_with_a_damaged_cross_reference_table_is_recovered():
    result = one(samples.damaged_xref_pdf())
    pdf = pikepdf.open(io.BytesIO(result.content))
    assert result.pages == len(pdf.pages) == 2 and not pdf.get_warnings()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow notes the damaged EXIF blocks it skips
@pytest.mark.parametrize("name", ["jpeg_with_gps", "mpo_with_gps", "heic_with_gps", "png_bytes", "webp_bytes",
                                  "scanned_pdf", "form_pdf", "scripted_pdf", "linked_pdf", "stamped_pdf"])
def test_damaged_files_are_refused_or_cleaned_never_crash(name):
    for number, blob in enumerate(samples.damaged_copies(getattr(samples, name)(), count=40, seed=7)):
        try:
            result = one(blob)
        except MediaError as error:
            assert error.file_index == 0
            continue
        assert_clean(result.content)
        assert b"JavaScript" not in result.content, number
        if result.content_type == "application/pdf":
            with pikepdf.open(io.BytesIO(result.content)) as pdf:
                assert len(pdf.pages) == result.pages
        else:
            Image.open(io.BytesIO(result.content)).load()
        Image.open(io.BytesIO(result.thumbnail)).load()


# --- refusals ------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("data, code", [
    pytest.param(samples.exe_bytes(), "unsupported_file_type", id="exe named .jpg"),
    pytest.param(samples.text_named_pdf(), "unsupported_file_type", id="text named .pdf"),
    pytest.param(samples.gif_bytes(), "unsupported_file_type", id="gif"),
    pytest.param(samples.svg_bytes(), "unsupported_file_type", id="svg"),
    pytest.param(samples.animated("PNG"), "unsupported_file_type", id="animated png"),
    pytest.param(samples.animated("WEBP"), "unsupported_file_type", id="animated webp"),
    pytest.param(samples.png_bomb(), "image_too_large", id="png 100000 square"),
    pytest.param(samples.png_bomb(side=13_000), "image_too_large", id="png 13000 square"),
    pytest.param(samples.png_bomb(side=12_001, height=10), "image_too_large", id="png side 12001"),
    pytest.param(samples.png_bomb(side=7_000, height=7_000), "image_too_large",
                 id="png 49 MP under Pillow limit"),
    pytest.param(samples.jpeg_bomb(), "image_too_large", id="jpeg 60000 square"),
    pytest.param(samples.png_bomb(side=0), "corrupt_file", id="png of size zero"),  # Pillow itself refuses it
    pytest.param(samples.truncated_jpeg(), "corrupt_file", id="truncated jpeg"),
    pytest.param(samples.jpeg_with_gps()[:300], "corrupt_file", id="jpeg header only"),
    pytest.param(samples.png_bytes()[:-30], "corrupt_file", id="truncated png"),
    pytest.param(samples.broken_pdf(), "corrupt_file", id="broken pdf"),
    pytest.param(b"<html>%PDF-1.7 not really</html>", "corrupt_file", id="html claiming pdf"),
    pytest.param(samples.encrypted_pdf(), "encrypted_pdf", id="encrypted pdf empty password"),
    pytest.param(samples.encrypted_pdf("user-secret"), "encrypted_pdf", id="encrypted pdf with password"),
    pytest.param(b"", "corrupt_file", id="empty file"),
])
def test_refusals(data, code):
    error = refusal(lambda: one(data, "innocent.jpg"))
    assert (error.code, error.file_index) == (code, 0)


def test_the_refused_file_is_named_by_its_index():
    error = refusal(lambda: several(samples.png_bytes(), samples.pdf_bytes(), samples.exe_bytes()))
    assert (error.code, error.file_index) == ("unsupported_file_type", 2)
    error = refusal(lambda: several(samples.png_bytes(), samples.truncated_jpeg()))
    assert (error.code, error.file_index) == ("corrupt_file", 1)


def test_limits():
    error = refusal(lambda: several(samples.png_bytes(), samples.noisy_png(100), max_file_bytes=5000))
    assert (error.code, error.file_index) == ("file_too_large", 1)
    files = [samples.png_bytes()] * 3
    error = refusal(lambda: several(*files, max_document_bytes=2 * len(files[0])))
    assert (error.code, error.file_index) == ("document_too_large", 2)
    error = refusal(lambda: several(*files, max_files=2))
    assert (error.code, error.file_index) == ("too_many_files", None)
    assert refusal(lambda: one(samples.pdf_bytes(5), max_pages=4)).code == "too_many_pages"
    error = refusal(lambda: several(*files, max_pages=2))
    assert (error.code, error.file_index) == ("too_many_pages", 2)
    assert refusal(lambda: one(samples.pdf_bytes(2), max_pdf_objects=3)).code == "pdf_too_complex"
    assert refusal(lambda: normalise_document([], limits=MediaLimits())).code == "no_files"
    # Sizes are checked before any file is parsed: a broken first file does not hide an oversize second.
    error = refusal(lambda: several(samples.broken_pdf(), samples.noisy_png(100), max_file_bytes=5000))
    assert error.code == "file_too_large"


def test_errors_carry_a_stable_code_and_index_and_never_the_file():
    codes = set()
    for error_class in MediaError.__subclasses__():
        error = error_class(3)
        assert (error.file_index, str(error)) == (3, error_class.message)
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.code, copy.file_index) == (error_class, error.code, 3)
        codes.add(error.code)
    assert codes == {"no_files", "too_many_files", "file_too_large", "document_too_large",
                     "unsupported_file_type", "image_too_large", "corrupt_file", "encrypted_pdf",
                     "too_many_pages", "pdf_too_complex"}
    upload = UploadedFile(b"%PDF-secret", "passport-zainab.pdf")
    assert "secret" not in repr(upload) and "zainab" not in repr(upload)


# --- nothing on disk -----------------------------------------------------------------------------------
WATCHED: list[list[str]] = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
SPAWN_EVENTS = ("subprocess.Popen", "os.system", "os.posix_spawn", "os.spawn", "os.exec", "os.fork",
                "tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir", "os.rename", "shutil.copyfile")


def record_disk_and_process_events(event: str, arguments: tuple) -> None:
    """Audit hook (cannot be removed, so it only records while a test watches)."""
    if not WATCHED:
        return
    if event == "open":
        path, mode, flags = (tuple(arguments) + (None, None))[:3]
        if (isinstance(mode, str) and any(flag in mode for flag in "wax+")) or (flags or 0) & WRITE_FLAGS:
            WATCHED[-1].append(f"open {path!r} {mode!r}")
    elif event.startswith(SPAWN_EVENTS):
        WATCHED[-1].append(event)


sys.addaudithook(record_disk_and_process_events)


@contextlib.contextmanager
def watching_disk_and_processes():
    WATCHED.append([])
    try:
        yield WATCHED[-1]
    finally:
        WATCHED.pop()


def every_kind_of_upload() -> list[list[bytes]]:
    return [[samples.jpeg_with_gps(orientation=6)], [samples.heic_with_gps()], [samples.png_bytes()],
            [samples.webp_bytes()], [samples.scanned_pdf()], [samples.form_pdf()], [samples.scripted_pdf()],
            [samples.jpeg_with_gps(), samples.pdf_bytes(2), samples.png_bytes(), samples.mpo_with_gps()],
            [samples.flate_bomb_pdf(1024 * 1024)], [samples.truncated_jpeg()], [samples.encrypted_pdf()]]


def normalise_each(uploads: list[list[bytes]]) -> None:
    for blobs in uploads:
        with contextlib.suppress(MediaError):
            several(*blobs)


def test_nothing_is_written_to_disk_and_no_program_is_started(tmp_path, monkeypatch):
    uploads = every_kind_of_upload()
    normalise_each(uploads)  # warm-up: lazy imports of Pillow plugins may write bytecode caches
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"write to disk attempted: {file}")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & WRITE_FLAGS:
            raise AssertionError(f"write to disk attempted: {path}")
        return real_os_open(path, flags, *args, **kwargs)

    def no_program(*args, **kwargs):
        raise AssertionError("a program was started")
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr("subprocess.Popen", no_program)
    with watching_disk_and_processes() as events:
        normalise_each(uploads)
    assert events == []
    assert list(tmp_path.iterdir()) == []
