"""Small JPEG previews (≤ 320 px, no metadata) of photos and of PDFs' first pages.

pikepdf cannot render a page, and no renderer is shipped (one would mean another parser of hostile PDFs,
or a subprocess and temporary files). A PDF's preview is therefore the largest picture on its first
page, which is the scan itself for most papers; a page without a usable picture gets a drawn page icon.
Only pictures we can decode with bounded work are used: JPEG (DCTDecode) and Flate. Never JBIG2 or
JPEG 2000: pikepdf decodes JBIG2 with the jbig2dec program through temporary files.
"""

from __future__ import annotations

import functools
import io
import zlib

import pikepdf
from PIL import Image, ImageDraw

from vault.media.budget import plan_preview
from vault.media.images import (
    BOMB_ERRORS,
    DECODE_ERRORS,
    check_sides,
    clean_pixels,
    flatten_alpha,
    reduce_before_decoding,
)
from vault.media.limits import MediaLimits

THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 80
THUMBNAIL_TYPE = "image/jpeg"
FLATE_SOURCE_PIXELS = 4_000_000  # Flate pictures are decoded in full: keep them modest
PREVIEW_CANDIDATES = 3
PDF_ERRORS = (pikepdf.PdfError, pikepdf.ForeignObjectError, NotImplementedError, AttributeError)


def make_thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most THUMBNAIL_SIDE pixels wide and high, without any metadata."""
    scale = min(1.0, THUMBNAIL_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0) if size != image.size else image
    output = io.BytesIO()
    clean_pixels(flatten_alpha(small)).save(output, format="JPEG", quality=THUMBNAIL_QUALITY)
    return output.getvalue()


@functools.lru_cache(maxsize=1)
def make_placeholder_thumbnail() -> bytes:
    """A drawn page icon, for PDFs whose first page holds no picture we can use."""
    image = Image.new("RGB", (226, THUMBNAIL_SIDE), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 215, 309), outline="#444444", width=6)
    for top in range(60, 280, 36):
        draw.line((40, top, 186, top), fill="#888888", width=8)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=THUMBNAIL_QUALITY)
    return output.getvalue()


def make_page_thumbnail(page: pikepdf.Page, limits: MediaLimits) -> bytes | None:
    """A thumbnail of the largest usable picture drawn directly on the page, or None."""
    try:
        xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject", pikepdf.Dictionary())
        pictures = [stream for stream in xobjects.values()
                    if isinstance(stream, pikepdf.Stream) and stream.get("/Subtype") == pikepdf.Name.Image]
        pictures.sort(key=_declared_area, reverse=True)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        return None
    for stream in pictures[:PREVIEW_CANDIDATES]:
        image = _decode_preview(stream, limits)
        if image is not None:
            return make_thumbnail(image)
    return None


def _declared_area(stream: pikepdf.Stream) -> int:
    try:
        return int(stream.get("/Width", 0)) * int(stream.get("/Height", 0))
    except (*PDF_ERRORS, *DECODE_ERRORS):
        return 0


def _decode_preview(stream: pikepdf.Stream, limits: MediaLimits) -> Image.Image | None:
    """The picture, decoded with bounded work, or None when it is not worth (or safe) trying."""
    try:
        width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
        if not check_sides((width, height), limits):
            return None
        filters = stream.get("/Filter")
        if isinstance(filters, pikepdf.Array) and len(filters) == 1:
            filters = filters[0]
        if filters == pikepdf.Name.DCTDecode:
            raw = stream.read_raw_bytes()
            image = Image.open(io.BytesIO(raw), formats=["JPEG"])
            # The declared /Width may lie: the JPEG's own header is what libjpeg will follow.
            plan = plan_preview(image, raw, THUMBNAIL_SIDE, limits.max_decoded_bytes)
            if not check_sides(image.size, limits) or plan is None:
                return None
            if not reduce_before_decoding(image, plan.scale):  # decodes at 1/2…1/8 of the size
                return None
            image.load()
            return image
        if filters == pikepdf.Name.FlateDecode and width * height <= FLATE_SOURCE_PIXELS:
            bits = min(max(int(stream.get("/BitsPerComponent", 8)), 1), 16)
            if not _inflates_within(stream.read_raw_bytes(), height * ((width * bits * 4 + 7) // 8 + 1)):
                return None
            return pikepdf.PdfImage(stream).as_pil_image()
    except (*PDF_ERRORS, *DECODE_ERRORS, *BOMB_ERRORS):
        return None
    return None


def _inflates_within(raw: bytes, bound: int) -> bool:
    """True when the Flate data inflates to at most ``bound`` bytes (checked with bounded work)."""
    try:
        produced = zlib.decompressobj().decompress(raw, bound + 1)
    except zlib.error:
        return False
    return len(produced) <= bound
