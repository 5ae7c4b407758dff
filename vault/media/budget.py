"""What decoding a picture will cost in memory, known before a single pixel is decoded.

A pixel count alone does not say it. Pillow keeps an RGB pixel in 4 bytes and a grey one in 1; the
cleaning in ``images.py`` keeps at most two full-size pictures alive at once (each step replaces the one
before); WebP and HEIF decoders keep their own copy of the pixels beside Pillow's as long as the opened
file lives; and a JPEG that is not sent as one sequential pass (progressive, or one scan per colour)
makes libjpeg hold every DCT coefficient of the whole picture, 2 bytes each, whatever the scale it is
decoded at. An 821-byte JPEG declaring 6300×6300 pixels cost 300 MiB before this was counted.

So each upload gets a budget in bytes (``MediaLimits.max_decoded_bytes``). A JPEG over it is decoded
at 1/2, 1/4 or 1/8 of its size (libjpeg's DCT scaling: the reduced picture is all that is ever held),
as long as what remains can still be read; any other picture over it is refused. The figures below
were measured with VmHWM on Pillow 13, pillow-heif 1.x and libjpeg-turbo (``tests/vault/
test_media_memory.py`` checks them against real decodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from vault.media.jpeg_markers import decodes_in_one_pass
from vault.media.sniffing import HEIF, JPEG, WEBP

# Full-size pictures alive at once while a photo is cleaned (see images.open_image).
COPIES = 2
# Bytes per pixel of the widest mode the cleaning goes through: grey stays grey (1 byte); everything
# else becomes RGB or RGBA, which Pillow stores in 4 bytes (16-bit greys pass through 32-bit "I").
GREY_MODES = frozenset({"1", "L"})
WORKING_BYTES_PER_PIXEL = 4
# Re-encoding the clean picture holds one more, smaller set of buffers: libjpeg's optimised Huffman
# tables need the coefficients of the whole picture (2 bytes each, 1.5 a pixel for colour at 4:2:0, 1 for
# grey) and Pillow gives that encoder an output buffer of one byte a pixel; PNG's output grows towards
# the raw size. Measured: up to 10.5 bytes a pixel in all for RGB, 4.2 for grey.
ENCODER_BYTES_PER_PIXEL = 3
# What a decoder holds besides Pillow's picture until the opened file is let go, per pixel. Measured:
# libwebp's canvas and the frame Pillow copies from (12 bytes kept, 17 at the peak in all); libheif's
# decoded picture, kept by pillow-heif (up to 11.5 in all).
DECODER_BYTES_PER_PIXEL = {WEBP: 8, HEIF: 2}
COEFFICIENT_BYTES = 2 * 64  # one 8×8 block of 16-bit DCT coefficients
JPEG_SCALES = (1, 2, 4, 8)
# The smallest long side a reduced JPEG may keep. An ID card (85.6 mm) across 60 % of a photo's long
# side then keeps about 350 dots per inch, an A4 page filling the photo about 170: enough to read the
# smallest print. Below that the photo is refused rather than kept unreadable.
MIN_READABLE_SIDE = 2000


@dataclass(frozen=True)
class DecodePlan:
    """How a picture will be decoded: at 1/``scale`` of its size (JPEG only), for ``cost`` bytes."""

    scale: int
    size: tuple[int, int]
    cost: int


def plan_decoding(image: Image.Image, kind: str, data: bytes, budget: int) -> DecodePlan | None:
    """The cheapest faithful way to decode an opened (not yet loaded) picture within ``budget`` bytes.

    Full size when it fits; a JPEG that does not fit is reduced by the smallest factor that fits while
    keeping MIN_READABLE_SIDE pixels; None when nothing fits (the caller refuses the picture).
    """
    width, height = image.size
    if width < 1 or height < 1:
        return None
    per_pixel = pixel_cost(image.mode, kind)
    if kind != JPEG:
        cost = width * height * per_pixel
        return DecodePlan(1, (width, height), cost) if cost <= budget else None
    # Held at full size whatever the scale, when the picture is not one sequential pass.
    coefficients = 0 if decodes_in_one_pass(data) else coefficient_bytes(image)
    for scale in JPEG_SCALES:
        size = (math.ceil(width / scale), math.ceil(height / scale))
        if scale > 1 and max(size) < MIN_READABLE_SIDE:
            return None
        cost = coefficients + size[0] * size[1] * per_pixel
        if cost <= budget:
            return DecodePlan(scale, size, cost)
    return None


def plan_preview(image: Image.Image, data: bytes, side: int, budget: int) -> DecodePlan | None:
    """A JPEG decoded for a preview at least ``side`` pixels wide and high: the largest reduction to it."""
    width, height = image.size
    if width < 1 or height < 1:
        return None
    scale = next((scale for scale in reversed(JPEG_SCALES)
                  if width // scale >= side and height // scale >= side), 1)
    size = (math.ceil(width / scale), math.ceil(height / scale))
    coefficients = 0 if decodes_in_one_pass(data) else coefficient_bytes(image)
    cost = coefficients + size[0] * size[1] * pixel_cost(image.mode, JPEG)
    return DecodePlan(scale, size, cost) if cost <= budget else None


def pixel_cost(mode: str, kind: str) -> int:
    """Bytes per pixel of the whole cleaning of a picture decoded in ``mode``."""
    working = 1 if mode in GREY_MODES else WORKING_BYTES_PER_PIXEL
    return COPIES * working + ENCODER_BYTES_PER_PIXEL + DECODER_BYTES_PER_PIXEL.get(kind, 0)


def coefficient_bytes(image: Image.Image) -> int:
    """What libjpeg holds for a multi-scan JPEG: every 8×8 block of every component, padded to whole MCUs.

    ``image.layer`` lists the components with their sampling factors (read from the frame header);
    without it every component is counted at full resolution, the most a frame can declare.
    """
    width, height = image.size
    layers = getattr(image, "layer", None) or [(None, 1, 1, None)] * 4
    most_wide = max(layer[1] for layer in layers) or 1
    most_high = max(layer[2] for layer in layers) or 1
    total = 0
    for _, wide, high, _ in layers:
        blocks_wide = math.ceil(width * wide / (8 * most_wide)) + wide
        blocks_high = math.ceil(height * high / (8 * most_high)) + high
        total += blocks_wide * blocks_high * COEFFICIENT_BYTES
    return total
