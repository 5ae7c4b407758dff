"""Marking one rendered page: the watermark burnt into its pixels, its barcodes kept readable, our QR code.

Why pixels and not a PDF layer: a watermark drawn as a separate object is removed in a minute with any
PDF editor. Rendered, blended into the page and re-encoded as one picture, it can only be painted over,
and the copy's SHA-256 (recorded when issued) then no longer matches.

Why clear the watermark over barcodes: a 2D-Doc (the French state's signed DataMatrix on tax notices,
proofs of address, residence permits) or a QR code is what lets the recipient check the original paper;
lines of text across it can make it unreadable. So every 2D code zxing-cpp finds on the rendered page is
left untouched, with its quiet zone (the French state's watermark service does the same).

Our own QR code goes into a band added below the page, so it never covers the paper or its codes. It
holds the verification address and, after ``#``, the signed statement (``statement.py``): a phone's
camera opens the verification page; an offline verifier reads the statement from the fragment (which a
browser never sends to the server).
"""

from __future__ import annotations

import math
from functools import lru_cache

import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from vault.sheets import FONT_FOLDERS

# The watermark's ink: a dark red at 40 % over the page. Black print stays black, white paper turns pink
# under the letters: both the paper and the watermark can be read (measured on scans and on text PDFs).
INK = (170, 20, 40)
INK_OPACITY = 0.40
ANGLE_DEGREES = 30
# Letter height, as a fraction of the page's shorter side: 1/40 is about 5 mm on an A4 page.
FONT_FRACTION = 1 / 40
MIN_FONT_PIXELS = 14
ROW_SPACING = 4.0  # rows of text, in letter heights, apart
CODE_MARGIN = 0.12  # quiet zone kept clear around a barcode, as a fraction of its larger side
CODE_MARGIN_PIXELS = 6
# Every 2D symbology (2D-Doc is a DataMatrix; PDF417 is on some permits and tickets).
BARCODE_FORMATS = zxingcpp.BarcodeFormat.AllMatrix
FOOTER_INK = (0, 0, 0)


@lru_cache(maxsize=16)
def font(pixels: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (« — é and every French letter), or Pillow's own font when DejaVu is not installed."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_FOLDERS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), pixels)
    return ImageFont.load_default(size=pixels)


def barcode_boxes(page: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) around every 2D barcode found on ``page``, with its quiet zone."""
    boxes = []
    for code in zxingcpp.read_barcodes(page, formats=BARCODE_FORMATS):
        corners = code.position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_right.x, corners.bottom_left.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_right.y, corners.bottom_left.y]
        margin = int(max(max(xs) - min(xs), max(ys) - min(ys)) * CODE_MARGIN) + CODE_MARGIN_PIXELS
        boxes.append((max(0, min(xs) - margin), max(0, min(ys) - margin),
                      min(page.width, max(xs) + margin + 1), min(page.height, max(ys) + margin + 1)))
    return boxes


def burn_watermark(page: Image.Image, mask: Image.Image, keep_clear: list[tuple[int, int, int, int]]) -> Image.Image:
    """``page`` (RGB) with the ink pasted through ``mask`` (``watermark_mask``), except in ``keep_clear``."""
    mask = mask.copy()
    for box in keep_clear:
        mask.paste(0, box)
    page.paste(INK, mask=mask)
    return page


def watermark_mask(size: tuple[int, int], text: str) -> Image.Image:
    """``text`` repeated in diagonal rows over a page of ``size``, as a grey mask (the ink's opacity).

    Drawn once into a square the size of the page's diagonal (one byte a pixel), turned and cropped to
    the page. Pages of one size share their mask (a copy of a 10-page PDF draws it once).
    """
    width, height = size
    size = max(MIN_FONT_PIXELS, round(min(width, height) * FONT_FRACTION))
    letters = font(size)
    diagonal = math.ceil(math.hypot(width, height)) + 2 * size
    mask = Image.new("L", (diagonal, diagonal), 0)
    draw = ImageDraw.Draw(mask)
    spaced = text + "   •   "
    run = max(1, math.ceil(draw.textlength(spaced, font=letters)))
    line = spaced * (diagonal // run + 2)
    step = round(size * ROW_SPACING)
    opacity = round(255 * INK_OPACITY)
    for row, top in enumerate(range(-step // 2, diagonal, step)):
        # Each row starts half a text further than the one above: no column of blanks down the page.
        draw.text((-(row % 2) * run // 2, top), line, font=letters, fill=opacity)
    del draw
    turned = mask.rotate(ANGLE_DEGREES, resample=Image.Resampling.BILINEAR)
    del mask
    left, top = (diagonal - width) // 2, (diagonal - height) // 2
    return turned.crop((left, top, left + width, top + height))


def qr_picture(content: str, dpi: int) -> Image.Image:
    """Our QR code as a picture (drawn module by module: no file involved), made once per copy."""
    module = max(3, round(dpi / 45))  # 3 pixels a module at 150 dpi (0.5 mm): phones read it easily
    code = segno.make(content, error="m", micro=False)
    matrix = list(code.matrix_iter(scale=module, border=4))
    picture = Image.new("L", (len(matrix[0]), len(matrix)), 255)
    picture.putdata([0 if dark else 255 for row in matrix for dark in row])
    return picture


def add_footer(page: Image.Image, *, qr: Image.Image, lines: list[str], dpi: int) -> Image.Image:
    """The page with a white band below it: our QR code at the left, ``lines`` of text beside it."""
    width, height = page.size
    qr_side = qr.width
    text_size = max(MIN_FONT_PIXELS, round(dpi / 9), round(width / 75))  # readable on wide photos too
    margin = round(dpi / 10)
    band = max(qr_side, len(lines) * round(text_size * 1.5)) + 2 * margin
    marked = Image.new("RGB", (width, height + band), "white")
    marked.paste(page, (0, 0))
    marked.paste(qr, (margin, height + margin))
    draw = ImageDraw.Draw(marked)
    draw.line((0, height, width, height), fill=(120, 120, 120), width=max(1, dpi // 100))
    letters = font(text_size, bold=False)
    x = margin * 2 + qr_side
    for index, line in enumerate(lines):
        draw.text((x, height + margin + index * round(text_size * 1.5)), _fit(draw, line, letters, width - x - margin),
                  font=letters, fill=FOOTER_INK)
    return marked


def _fit(draw: ImageDraw.ImageDraw, text: str, letters, room: int) -> str:
    """``text``, cut with an ellipsis if it does not fit in ``room`` pixels (a very long purpose text)."""
    if draw.textlength(text, font=letters) <= room:
        return text
    while text and draw.textlength(text + "…", font=letters) > room:
        text = text[:-1]
    return text + "…"


__all__ = ["add_footer", "barcode_boxes", "burn_watermark", "font", "qr_picture", "watermark_mask"]
