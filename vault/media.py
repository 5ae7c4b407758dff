"""Uploaded files become one clean document, in memory only.

Bytes in, bytes out: nothing here writes to disk, because these are plaintext identity papers (Pillow
and pikepdf are only ever given BytesIO). Types are recognised by their content, never by the name.
Images are auto-rotated and re-encoded, which drops every piece of metadata (EXIF with GPS and device,
XMP, comments). PDFs are opened strictly, refused when encrypted or broken, and cleaned of active
content (JavaScript, launch actions, embedded files, forms' scripts). Several files become one PDF.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Sequence

import pikepdf
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

MIB = 1024 * 1024
THUMBNAIL_SIDE = 320
THUMBNAIL_SOURCE_PIXELS = 4_000_000  # larger non-JPEG pictures get the drawn icon
PAGE_DPI = 150
A4_POINTS = (595.0, 842.0)
JPEG_QUALITY = 88
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Keys of active content removed from the document catalogue and from every page.
CATALOG_ACTIVE = ("/OpenAction", "/AA", "/JavaScript")
NAMES_ACTIVE = ("/JavaScript", "/EmbeddedFiles")
DANGEROUS_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition"}


class MediaError(Exception):
    """A file that cannot become a paper; ``code`` is stable, ``file_index`` says which file."""

    code = "media_error"
    message = "This file cannot be kept."

    def __init__(self, file_index: int | None = None) -> None:
        super().__init__(self.message)
        self.file_index = file_index


class NoFiles(MediaError):
    code, message = "no_files", "No file was sent."


class TooManyFiles(MediaError):
    code, message = "too_many_files", "Too many files for one paper."


class FileTooLarge(MediaError):
    code, message = "file_too_large", "This file is too large."


class DocumentTooLarge(MediaError):
    code, message = "document_too_large", "These files together are too large."


class UnsupportedFileType(MediaError):
    code, message = "unsupported_file_type", "Only photos (JPEG, PNG, WebP, HEIC) and PDFs are accepted."


class ImageTooLarge(MediaError):
    code, message = "image_too_large", "This picture has absurd dimensions."


class CorruptFile(MediaError):
    code, message = "corrupt_file", "This file is damaged or empty."


class EncryptedPdf(MediaError):
    code, message = "encrypted_pdf", "This PDF is protected by a password."


class TooManyPages(MediaError):
    code, message = "too_many_pages", "This paper has too many pages."


@dataclass(frozen=True)
class MediaLimits:
    max_file_bytes: int = 20 * MIB
    max_document_bytes: int = 50 * MIB
    max_files: int = 20
    max_pixels: int = 40_000_000
    max_side: int = 12_000
    max_pages: int = 100


@dataclass(frozen=True)
class UploadedFile:
    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class NormalisedDocument:
    content: bytes
    content_type: str
    pages: int
    thumbnail: bytes
    thumbnail_type: str = "image/jpeg"


def sniff(data: bytes) -> str | None:
    """The file's type from its first bytes: "jpeg", "png", "webp", "heif", "pdf" or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1"}:
        return "heif"
    if data[:1024].lstrip(b"\x00\t\n\r\x0c ").startswith(b"%PDF-"):
        return "pdf"
    return None


def normalise_document(files: Sequence[UploadedFile], *, limits: MediaLimits = MediaLimits()) -> NormalisedDocument:
    if not files:
        raise NoFiles()
    if len(files) > limits.max_files:
        raise TooManyFiles()
    total = 0
    kinds = []
    for index, upload in enumerate(files):
        if len(upload.data) > limits.max_file_bytes:
            raise FileTooLarge(index)
        total += len(upload.data)
        if total > limits.max_document_bytes:
            raise DocumentTooLarge(index)
        if not upload.data:
            raise CorruptFile(index)
        kind = sniff(upload.data)
        if kind is None:
            raise UnsupportedFileType(index)
        kinds.append(kind)
    if len(files) == 1 and kinds[0] != "pdf":
        image = open_image(files[0].data, 0, limits)
        content, content_type = encode_image(image, kinds[0])
        return NormalisedDocument(content, content_type, 1, make_thumbnail(image))
    return _combine(files, kinds, limits)


def open_image(data: bytes, index: int, limits: MediaLimits) -> Image.Image:
    """Decode an image after checking its declared size, rotated upright, metadata gone."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            width, height = image.size  # read from the header, before any pixel is decoded
            if not (1 <= width <= limits.max_side and 1 <= height <= limits.max_side) \
                    or width * height > limits.max_pixels:
                raise ImageTooLarge(index)
            if getattr(image, "n_frames", 1) > 1:
                raise UnsupportedFileType(index)  # animations are not papers
            image.load()
            upright = ImageOps.exif_transpose(image)
        except MediaError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(index) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
            raise CorruptFile(index) from None
    return _clean_pixels(upright)


def encode_image(image: Image.Image, kind: str) -> tuple[bytes, str]:
    """Re-encode without any metadata; HEIC becomes JPEG (what every phone and office can open)."""
    output = io.BytesIO()
    if kind == "png":
        image.save(output, format="PNG", optimize=True)
        return output.getvalue(), "image/png"
    if kind == "webp":
        image.save(output, format="WEBP", quality=JPEG_QUALITY)
        return output.getvalue(), "image/webp"
    _as_rgb(image).save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return output.getvalue(), "image/jpeg"


def make_thumbnail(image: Image.Image) -> bytes:
    small = _as_rgb(image).copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    output = io.BytesIO()
    small.save(output, format="JPEG", quality=80)
    return output.getvalue()


def placeholder_thumbnail() -> bytes:
    """A drawn page icon, for PDFs whose first page has no picture (pikepdf cannot render pages)."""
    image = Image.new("RGB", (226, THUMBNAIL_SIDE), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 215, 309), outline="#444444", width=6)
    for top in range(60, 280, 36):
        draw.line((40, top, 186, top), fill="#888888", width=8)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()


def _combine(files: Sequence[UploadedFile], kinds: list[str], limits: MediaLimits) -> NormalisedDocument:
    """Every file's pages, in order, in one clean PDF."""
    result = pikepdf.new()
    thumbnail = None
    opened = []
    try:
        for index, (upload, kind) in enumerate(zip(files, kinds)):
            if kind == "pdf":
                source = open_pdf(upload.data, index, limits)
                opened.append(source)
                result.pages.extend(source.pages)
                thumbnail = thumbnail or _first_image_thumbnail(source)
            else:
                image = open_image(upload.data, index, limits)
                thumbnail = thumbnail or make_thumbnail(image)
                page_pdf = pikepdf.open(io.BytesIO(_image_page(image)))
                opened.append(page_pdf)
                result.pages.extend(page_pdf.pages)
            if len(result.pages) > limits.max_pages:
                raise TooManyPages(index)
        _remove_active_content(result)
        output = io.BytesIO()
        result.save(output, fix_metadata_version=False, deterministic_id=False)
        return NormalisedDocument(output.getvalue(), "application/pdf", len(result.pages),
                                  thumbnail or placeholder_thumbnail())
    finally:
        for pdf in opened:
            pdf.close()
        result.close()


def open_pdf(data: bytes, index: int, limits: MediaLimits) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise EncryptedPdf(index) from None
    except (pikepdf.PdfError, ValueError, OSError):
        raise CorruptFile(index) from None
    if pdf.is_encrypted:
        pdf.close()
        raise EncryptedPdf(index)
    try:
        count = len(pdf.pages)
    except pikepdf.PdfError:
        pdf.close()
        raise CorruptFile(index) from None
    if count == 0:
        pdf.close()
        raise CorruptFile(index)
    if count > limits.max_pages:
        pdf.close()
        raise TooManyPages(index)
    return pdf


def _remove_active_content(pdf: pikepdf.Pdf) -> None:
    root = pdf.Root
    for key in CATALOG_ACTIVE:
        if key in root:
            del root[key]
    if "/Names" in root:
        for key in NAMES_ACTIVE:
            if key in root.Names:
                del root.Names[key]
    if "/AcroForm" in root:
        del root["/AcroForm"]  # forms carry scripts (and XFA); a paper's picture does not need them
    for key in ("/Metadata", "/PieceInfo"):
        if key in root:
            del root[key]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]  # author, software, dates: nothing a person chose to share
    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
        if "/Annots" in page.obj:
            kept = [annotation for annotation in page.obj.Annots if not _is_dangerous(annotation)]
            page.obj.Annots = pikepdf.Array(kept)


def _is_dangerous(annotation) -> bool:
    try:
        if annotation.get("/Subtype") in ("/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia"):
            return True
        if "/AA" in annotation:
            return True
        action = annotation.get("/A")
        return action is not None and str(action.get("/S")) in DANGEROUS_ACTIONS
    except (AttributeError, pikepdf.PdfError):
        return True


def _image_page(image: Image.Image) -> bytes:
    """One PDF page holding the image as JPEG, sized at PAGE_DPI and fitted within A4."""
    width_points = image.width * 72 / PAGE_DPI
    height_points = image.height * 72 / PAGE_DPI
    scale = min(1.0, A4_POINTS[0] / width_points, A4_POINTS[1] / height_points)
    output = io.BytesIO()
    _as_rgb(image).save(output, format="PDF", resolution=PAGE_DPI / scale, quality=JPEG_QUALITY)
    return output.getvalue()


def _first_image_thumbnail(pdf: pikepdf.Pdf) -> bytes | None:
    """A thumbnail from the first page's first picture (most papers are scans), decoded cheaply."""
    try:
        for raw in pdf.pages[0].get_images().values():
            width, height = int(raw.get("/Width", 0)), int(raw.get("/Height", 0))
            if not 0 < width * height <= MediaLimits.max_pixels:
                continue
            if raw.get("/Filter") == pikepdf.Name.DCTDecode:
                # A JPEG: Pillow's draft mode decodes it at 1/2…1/8 scale, far faster than in full.
                image = Image.open(io.BytesIO(raw.read_raw_bytes()))
                image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
                image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            elif width * height <= THUMBNAIL_SOURCE_PIXELS:
                image = pikepdf.PdfImage(raw).as_pil_image()
            else:
                continue
            return make_thumbnail(_clean_pixels(image))
    except Exception:  # noqa: BLE001 - an odd image only costs the thumbnail, never the upload
        return None
    return None


def _clean_pixels(image: Image.Image) -> Image.Image:
    """A fresh image carrying pixels only (no info dict, no EXIF, no ICC, no text chunks)."""
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
