"""A paper's plaintext becomes a marked copy: each page rendered, marked, re-encoded, put in a new PDF.

In memory only (these are identity papers): pdfium reads the PDF from bytes, Pillow the photos from
BytesIO, pikepdf writes the copy to BytesIO; nothing is written to disk and no program is started.

Why pypdfium2: it renders PDF pages to pixels in memory, from bytes, in-process (no Ghostscript or
poppler subprocess, no temporary file); it ships as wheels with PDFium built in (nothing to install on
the server), is permissively licensed (Apache-2.0 / BSD-3, PDFium itself BSD-3) and is kept current with
Chromium's PDFium, which is fuzzed continuously as the PDF reader of every Chrome browser.

Bounds (an attacker may have uploaded the paper: stored papers were cleaned, but the renderer is still
given hostile bytes in the tests):
- at most ``max_pages`` pages; each page rendered at ``dpi`` but never more than ``max_page_pixels``
  pixels (a page declaring 200 × 200 inches is rendered smaller, not refused); photos go through the
  media decoding budget (``vault.media.budget``), as at upload;
- one page's pixels at a time: each page is marked and encoded as JPEG before the next is rendered, so
  the memory held is one page's pixels plus the JPEG pages already made (a few hundred KiB each).

The copy holds no metadata (no /Info, no XMP), and its /ID is qpdf's fixed one, not a hash of its
content: nothing in the file identifies the person or fingerprints the original.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pikepdf
import pypdfium2 as pdfium
from PIL import Image

from vault.duplicates.marking import add_footer, barcode_boxes, burn_watermark, qr_picture, watermark_mask
from vault.media.images import open_image
from vault.media.limits import MediaLimits
from vault.media.refusals import CorruptFile, EncryptedPdf, ImageTooLarge, TooManyPages, UnsupportedFileType
from vault.media.sniffing import HEIF, JPEG, PDF, PNG, WEBP, sniff_kind

POINTS_PER_INCH = 72
# pdfium is not thread-safe: one rendering at a time per process (the media gate has one slot by default;
# with more slots, the others wait here for the few hundred milliseconds a page takes).
_PDFIUM = threading.Lock()


@dataclass(frozen=True)
class RenderLimits:
    max_pages: int = 100
    dpi: int = 150
    # 150 dpi on A4 is 2.2 million pixels; this lets A3 through at 150 dpi and shrinks anything larger.
    max_page_pixels: int = 6_000_000
    # A small page (a card scanned at its own size) is rendered at least this wide on its shorter side,
    # so the watermark's letters stay readable.
    min_short_side: int = 900
    jpeg_quality: int = 80
    media: MediaLimits = field(default_factory=MediaLimits)


@dataclass(frozen=True)
class Marking:
    """What goes on every page of one copy."""

    watermark: str  # « Copie pour … — … — … — réf. … »
    qr_content: str  # the verification address with the signed statement after ``#``
    footer: tuple[str, ...]  # lines beside the QR code


@dataclass(frozen=True)
class RenderedCopy:
    pdf: bytes = field(repr=False)
    pages: int


def render_copy(plaintext: bytes, marking: Marking, limits: RenderLimits = RenderLimits()) -> RenderedCopy:
    """The marked copy of a stored paper (a PDF, or a JPEG, PNG or WebP photo), as a new PDF.

    Raises a vault.media MediaError (CorruptFile, TooManyPages, ImageTooLarge, …) for what cannot be
    rendered.
    """
    kind = sniff_kind(plaintext) if plaintext else None
    if kind is None:
        raise CorruptFile(0) if not plaintext else UnsupportedFileType(0)
    pages = _pdf_pages(plaintext, limits) if kind == PDF else _photo_page(plaintext, kind, limits)
    output = pikepdf.new()
    count = 0
    stamp = _Stamp(marking, limits.dpi)
    for picture in pages:
        marked = stamp.mark(picture)
        del picture
        jpeg = io.BytesIO()
        marked.save(jpeg, format="JPEG", quality=limits.jpeg_quality, optimize=True, dpi=(limits.dpi, limits.dpi))
        _add_picture_page(output, jpeg.getvalue(), marked.size, limits.dpi)
        del marked
        count += 1
    if count == 0:
        raise CorruptFile(0)
    buffer = io.BytesIO()
    # static_id: qpdf's fixed /ID instead of one made from the time and the content (no fingerprint).
    output.save(buffer, static_id=True, fix_metadata_version=False)
    return RenderedCopy(buffer.getvalue(), count)


class _Stamp:
    """Marks the pages of one copy: the QR code made once, one watermark mask per page size."""

    def __init__(self, marking: Marking, dpi: int) -> None:
        self.marking, self.dpi = marking, dpi
        self.qr = qr_picture(marking.qr_content, dpi)
        self.masks: dict[tuple[int, int], Image.Image] = {}

    def mark(self, page: Image.Image) -> Image.Image:
        if page.mode != "RGB":
            page = page.convert("RGB")
        if page.size not in self.masks:
            if len(self.masks) >= 4:  # pages of many sizes: keep a few masks, not one per page
                self.masks.clear()
            self.masks[page.size] = watermark_mask(page.size, self.marking.watermark)
        # Found on the rendered page itself: a code found here is one the re-encoded copy keeps readable.
        boxes = barcode_boxes(page)
        page = burn_watermark(page, self.masks[page.size], boxes)
        return add_footer(page, qr=self.qr, lines=list(self.marking.footer), dpi=self.dpi)


def _pdf_pages(data: bytes, limits: RenderLimits) -> Iterator[Image.Image]:
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            raise (EncryptedPdf(0) if "password" in str(error).lower() else CorruptFile(0)) from None
    try:
        total = len(document)
        if total > limits.max_pages:
            raise TooManyPages(0)
        for index in range(total):
            with _PDFIUM:
                page = document[index]
                try:
                    width, height = page.get_size()
                    if not (width > 0 and height > 0 and math.isfinite(width * height)):
                        raise CorruptFile(0)
                    scale = _scale(width, height, limits)
                    bitmap = page.render(scale=scale, may_draw_forms=False, fill_color=(255, 255, 255, 255))
                    picture = bitmap.to_pil().convert("RGB")
                    bitmap.close()
                except pdfium.PdfiumError:
                    raise CorruptFile(0) from None
                finally:
                    page.close()
            yield picture
            del picture
    finally:
        with _PDFIUM:
            document.close()


def _scale(width: float, height: float, limits: RenderLimits) -> float:
    """Pixels per point for a page of ``width`` × ``height`` points, within the limits."""
    scale = limits.dpi / POINTS_PER_INCH
    if min(width, height) * scale < limits.min_short_side:
        scale = limits.min_short_side / min(width, height)
    if width * height * scale * scale > limits.max_page_pixels:
        scale = math.sqrt(limits.max_page_pixels / (width * height))
    if max(width, height) * scale > 20_000:  # a ribbon page: keep both sides within what JPEG can hold
        scale = 20_000 / max(width, height)
    return scale


def _photo_page(data: bytes, kind: str, limits: RenderLimits) -> Iterator[Image.Image]:
    """A photo as one page, resized so that its shorter side has ``min_short_side`` pixels at least."""
    if kind not in (JPEG, PNG, WEBP, HEIF):
        raise UnsupportedFileType(0)
    picture = open_image(data, kind, 0, limits.media, keep_alpha=False)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    width, height = picture.size
    factor = 1.0
    if min(width, height) < limits.min_short_side:
        factor = limits.min_short_side / min(width, height)
    if width * height * factor * factor > limits.max_page_pixels:
        factor = math.sqrt(limits.max_page_pixels / (width * height))
    if factor != 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        if size[0] * size[1] > limits.max_page_pixels * 1.01:
            raise ImageTooLarge(0)
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    yield picture


def _add_picture_page(pdf: pikepdf.Pdf, jpeg: bytes, size: tuple[int, int], dpi: int) -> None:
    """One page showing the JPEG as it is (DCTDecode: no second re-encoding), sized at ``dpi``."""
    width, height = size
    picture = pikepdf.Stream(pdf, jpeg)
    picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    picture.Width, picture.Height = width, height
    picture.ColorSpace, picture.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
    picture.Filter = pikepdf.Name.DCTDecode
    points = (width * POINTS_PER_INCH / dpi, height * POINTS_PER_INCH / dpi)
    page = pdf.add_blank_page(page_size=points)
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Page=picture))
    page.Contents = pikepdf.Stream(pdf, f"q {points[0]:.3f} 0 0 {points[1]:.3f} 0 0 cm /Page Do Q".encode())


__all__ = ["Marking", "RenderLimits", "RenderedCopy", "render_copy"]
