"""Photos decoded safely, turned upright, stripped of every piece of metadata, and re-encoded.

Only Pillow is used, always on BytesIO. Pillow's global MAX_IMAGE_PIXELS is neither changed nor relied
on: what decoding the size declared in the header will cost is checked against the memory budget
(``budget.py``) before any pixel is decoded, and a large JPEG is decoded at a reduced scale.
Colour choice: an embedded ICC profile is converted to sRGB and then dropped (profiles carry device and
vendor names; sRGB is what every viewer assumes when there is none). HEIF "nclx" colour descriptions are
ignored: the pixels are kept as decoded.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms, ImageOps
from pillow_heif import register_heif_opener

from vault.media.budget import plan_decoding
from vault.media.limits import MediaLimits
from vault.media.refusals import CorruptFile, ImageTooLarge, UnsupportedFileType
from vault.media.sniffing import HEIF, JPEG, PNG, WEBP

JPEG_QUALITY = 88
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", HEIF: "HEIF"}
# Phones store depth maps, previews or bursts as extra pictures (MPO JPEGs, HEIF collections); the
# primary picture is the photo. Animated PNG/WebP are not papers and are refused.
MULTI_PICTURE_FORMATS = frozenset({"MPO", "HEIF"})
ICC_CONVERTIBLE_MODES = {"RGB": "RGB", "RGBA": "RGBA", "CMYK": "RGB"}
# What Pillow's decoders raise on damaged or hostile input. Kept narrow enough that a bug of ours is not
# reported to a person as "your file is damaged".
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, RuntimeError, struct.error, IndexError,
                 KeyError, TypeError, ZeroDivisionError)
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
SIXTEEN_TO_EIGHT_BITS = [round(value / 257) for value in range(65536)]

register_heif_opener()  # adds the HEIF format to Pillow; it changes nothing for other formats


def check_sides(size: tuple[int, int], limits: MediaLimits) -> bool:
    """True when a declared width and height are each within the limits (and not empty)."""
    width, height = size
    return 1 <= width <= limits.max_side and 1 <= height <= limits.max_side


def open_image(data: bytes, kind: str, index: int, limits: MediaLimits, *,
               keep_alpha: bool = True) -> Image.Image:
    """Decode a photo within the memory budget; upright, sRGB, no metadata at all.

    ``keep_alpha`` False flattens transparency onto white at full size (for a photo stored as JPEG),
    so that encoding it adds no third picture.
    """
    try:
        # formats= keeps Pillow to the type recognised from the magic bytes: no other decoder is tried.
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]])
    except BOMB_ERRORS:
        raise ImageTooLarge(index) from None
    except DECODE_ERRORS:
        raise CorruptFile(index) from None
    if not check_sides(image.size, limits):
        raise ImageTooLarge(index)
    if getattr(image, "n_frames", 1) > 1 and image.format not in MULTI_PICTURE_FORMATS:
        raise UnsupportedFileType(index)
    plan = plan_decoding(image, kind, data, limits.max_decoded_bytes)
    if plan is None:
        raise ImageTooLarge(index)
    if not reduce_before_decoding(image, plan.scale):
        raise ImageTooLarge(index)
    try:
        image.load()  # the current frame only: the primary picture of an MPO or HEIF file
    except BOMB_ERRORS:
        raise ImageTooLarge(index) from None
    except DECODE_ERRORS:
        raise CorruptFile(index) from None
    # Each step may make a new picture from the one before, and ``image`` is rebound at once so that the
    # one before is freed: at most two full-size pictures are alive at any time (budget.COPIES). A step
    # never keeps its input alive beyond its own work.
    image = make_upright(image)
    image = convert_to_srgb(image)
    image = normalise_mode(image)
    if not keep_alpha:
        image = flatten_alpha(image)
    return clean_pixels(image)


def reduce_before_decoding(image: Image.Image, scale: int) -> bool:
    """Have libjpeg decode an opened JPEG straight at 1/``scale`` of its size; False if it would not.

    Pillow picks the largest scale whose result is at least the size asked for, so the size asked is
    rounded down; its result is checked, because decoding at full size is exactly what must not happen.
    """
    if scale == 1:
        return True
    width, height = image.size
    expected = (-(-width // scale), -(-height // scale))
    image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))
    return image.size == expected


def make_upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (HEIF files come already rotated by pillow-heif)."""
    try:
        ImageOps.exif_transpose(image, in_place=True)  # in place: no copy when nothing needs turning
    except DECODE_ERRORS:
        pass  # a damaged EXIF block must not cost the photo; it is dropped anyway
    return image


def convert_to_srgb(image: Image.Image) -> Image.Image:
    """Pixels moved into sRGB when the file has an ICC profile; the profile itself is not kept."""
    profile = image.info.get("icc_profile")
    output_mode = ICC_CONVERTIBLE_MODES.get(image.mode)
    if not profile or output_mode is None:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                         renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=output_mode)
    except (ImageCms.PyCMSError, *DECODE_ERRORS):
        return image  # an unreadable profile: the pixels are shown as they are, like most viewers do


def normalise_mode(image: Image.Image) -> Image.Image:
    """L, RGB or RGBA: what JPEG, PNG, WebP and PDF pages all store without surprises."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I"):
        # 16-bit scans: Pillow's direct conversion to L clips (almost everything turns white), so scale,
        # through a table straight into L: one 32-bit picture at a time, never two.
        wide = image if mode == "I" else image.convert("I")
        return wide.point(SIXTEEN_TO_EIGHT_BITS, "L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if "A" in image.getbands() or mode in ("RGBa", "La"):
        return image.convert("RGBA")
    return image.convert("RGB")


def clean_pixels(image: Image.Image) -> Image.Image:
    """A fresh image holding pixels only: no info dict, EXIF, XMP, ICC, text chunks or comments.

    Give it a picture already through ``normalise_mode`` to keep to two pictures at once.
    """
    image = normalise_mode(image)
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def flatten_alpha(image: Image.Image) -> Image.Image:
    """An L or RGB image; transparency becomes white, as on paper."""
    if image.mode in ("L", "RGB"):
        return image
    image = normalise_mode(image)
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image)  # an RGBA mask means its alpha band: no copy of the channel
    return background


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """A baseline JPEG with no APP segment but JFIF."""
    output = io.BytesIO()
    flatten_alpha(image).save(output, format="JPEG", quality=quality, optimize=True)
    return output.getvalue()


def encode_image(image: Image.Image, kind: str) -> tuple[bytes, str]:
    """Re-encode in the file's own format; HEIC becomes JPEG (what every phone and office can open)."""
    if kind == PNG:
        output = io.BytesIO()
        image.save(output, format="PNG")
        return output.getvalue(), "image/png"
    if kind == WEBP:
        output = io.BytesIO()
        image.save(output, format="WEBP", quality=JPEG_QUALITY)
        return output.getvalue(), "image/webp"
    return encode_jpeg(image), "image/jpeg"
