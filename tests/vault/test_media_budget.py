"""Decoding within a memory budget: large JPEGs reduced while still readable, other pictures refused.

Reproduced from issue 6: an 821-byte JPEG declaring 6300×6300 pixels was decoded at full size (300 MiB
with the cleaning's copies). The budget counts what decoding really takes (see vault/media/budget.py);
tests/vault/test_media_memory.py checks those figures against real decodes.
"""

from __future__ import annotations

import io
import struct

import pikepdf
import pytest
from PIL import Image

from tests.vault import media_samples as samples
from vault.media import MediaError, MediaLimits, UploadedFile, normalise_document
from vault.media.budget import MIN_READABLE_SIDE, coefficient_bytes, pixel_cost, plan_decoding
from vault.media.jpeg_markers import decodes_in_one_pass
from vault.media.sniffing import HEIF, JPEG, PNG, WEBP

MIB = 1024 * 1024
BUDGET = MediaLimits().max_decoded_bytes


def one(data: bytes, **limits):
    return normalise_document([UploadedFile(data)], limits=MediaLimits(**limits))


def refusal_code(data: bytes, **limits) -> str:
    with pytest.raises(MediaError) as raised:
        one(data, **limits)
    return raised.value.code


def stored_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_the_hostile_jpeg_is_decoded_at_half_size_within_the_budget():
    hostile = samples.hostile_jpeg(6300, 6300)
    opened = Image.open(io.BytesIO(hostile))
    assert 6300 * 6300 * pixel_cost("RGB", JPEG) > BUDGET  # what it used to cost, cleaning included
    plan = plan_decoding(opened, JPEG, hostile, BUDGET)
    assert (plan.scale, plan.size) == (2, (3150, 3150)) and plan.cost <= BUDGET
    result = one(hostile)
    assert stored_size(result.content) == (3150, 3150)


def test_a_photo_within_the_budget_keeps_every_pixel():
    photo = samples.noise_jpeg(4032, 3024)  # a 12-megapixel phone photo
    assert stored_size(one(photo).content) == (4032, 3024)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # 108 MP: decoded at 1/4
def test_a_very_large_photo_is_reduced_but_stays_readable():
    # 12000×9000 (a 108-megapixel phone) needs 1/4 to fit: 3000×2250, an ID card across half of it
    # still has 1500 pixels
    large = samples.hostile_jpeg(12000, 9000)
    plan = plan_decoding(Image.open(io.BytesIO(large)), JPEG, large, BUDGET)
    assert plan.scale == 4 and max(plan.size) >= MIN_READABLE_SIDE
    assert stored_size(one(large).content) == (3000, 2250)


def test_a_jpeg_that_would_become_unreadable_is_refused_rather_than_shrunk_to_nothing():
    # With a small budget, 6300×6300 would need 1/8 (788 pixels): refused instead
    hostile = samples.hostile_jpeg(6300, 6300)
    assert refusal_code(hostile, max_decoded_bytes=8 * MIB) == "image_too_large"


def test_a_progressive_jpeg_counts_the_coefficients_libjpeg_keeps_at_full_size():
    # A progressive picture makes libjpeg keep 2 bytes per coefficient of the whole picture, whatever
    # the scale it is decoded at: reducing the scale does not make it fit
    progressive = samples.hostile_jpeg(6300, 6300, progressive=True, subsampling=0)  # 4:4:4
    opened = Image.open(io.BytesIO(progressive))
    assert not decodes_in_one_pass(progressive)
    assert coefficient_bytes(opened) >= 6300 * 6300 * 3 * 2 > BUDGET
    assert plan_decoding(opened, JPEG, progressive, BUDGET) is None
    assert refusal_code(progressive) == "image_too_large"
    # At 4:2:0 the chroma has a quarter of the blocks: 1.5 components instead of 3
    subsampled = samples.hostile_jpeg(6300, 6300, progressive=True)
    assert 6300 * 6300 * 3 <= coefficient_bytes(Image.open(io.BytesIO(subsampled))) < 6300 * 6300 * 3.1


def test_a_moderate_progressive_photo_is_kept_whole():
    photo = samples.noise_jpeg(2000, 1500, progressive=True)
    assert not decodes_in_one_pass(photo)
    assert stored_size(one(photo).content) == (2000, 1500)


@pytest.mark.parametrize("kind, declared", [(PNG, samples.png_bomb(6000, 6000)),
                                            (PNG, samples.png_bomb(7000, 7000))])
def test_other_formats_over_the_budget_are_refused_with_the_reason(kind, declared):
    assert 6000 * 6000 * pixel_cost("RGB", kind) > BUDGET
    assert refusal_code(declared) == "image_too_large"


def test_webp_and_heif_pay_for_their_decoders_copy():
    assert pixel_cost("RGB", WEBP) > pixel_cost("RGB", HEIF) > pixel_cost("RGB", PNG)
    assert pixel_cost("RGB", PNG) == pixel_cost("RGB", JPEG)
    assert pixel_cost("L", JPEG) < pixel_cost("RGB", JPEG)
    webp = io.BytesIO()
    Image.new("RGB", (3200, 3200), "white").save(webp, format="WEBP")  # 10 MP: over the budget as WebP
    assert 3200 * 3200 * pixel_cost("RGB", WEBP) > BUDGET
    assert refusal_code(webp.getvalue()) == "image_too_large"


def test_a_grey_scan_gets_four_times_the_pixels_of_a_colour_one():
    grey = io.BytesIO()
    Image.new("L", (6000, 6000), 200).save(grey, format="PNG")  # 36 MP of grey fits, colour would not
    assert stored_size(one(grey.getvalue()).content) == (6000, 6000)


def jpeg_header(frame: int, components: int, scan_components: int) -> bytes:
    """SOI, a frame header and a scan header, enough for decodes_in_one_pass to decide."""
    frame_body = struct.pack(">BHHB", 8, 64, 64, components) + b"".join(
        bytes([index + 1, 0x11, 0]) for index in range(components))
    scan_body = (bytes([scan_components]) + b"".join(bytes([index + 1, 0]) for index in range(scan_components))
                 + b"\x00\x3f\x00")
    return (b"\xff\xd8" + bytes([0xFF, frame]) + struct.pack(">H", len(frame_body) + 2) + frame_body
            + b"\xff\xda" + struct.pack(">H", len(scan_body) + 2) + scan_body + b"\x00" * 16)


@pytest.mark.parametrize("header, one_pass", [
    (jpeg_header(0xC0, 3, 3), True),   # baseline, interleaved
    (jpeg_header(0xC1, 1, 1), True),   # extended sequential, grey
    (jpeg_header(0xC0, 3, 1), False),  # baseline, one scan per component
    (jpeg_header(0xC2, 3, 3), False),  # progressive
    (jpeg_header(0xC3, 3, 3), False),  # lossless
    (b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", False),  # a scan without a frame
    (b"\xff\xd8\xff\xc0\x00", False),  # cut in the frame header
    (b"\xff\xd8junk\xff\xc0", False),  # stray bytes
    (b"", False),
])
def test_how_libjpeg_will_decode_is_read_from_the_first_scan(header, one_pass):
    assert decodes_in_one_pass(header) is one_pass


def test_a_progressive_giant_inside_a_pdf_gets_the_placeholder_without_being_decoded():
    giant = samples.hostile_jpeg(9000, 9000, progressive=True, subsampling=0)
    result = one(samples.scanned_pdf(giant))
    assert result.thumbnail == samples_placeholder()
    with pikepdf.open(io.BytesIO(result.content)) as pdf:  # the picture itself is kept as it was sent
        assert pdf.pages[0].Resources.XObject.Im0.read_raw_bytes() == giant


def test_a_large_baseline_picture_inside_a_pdf_still_gets_its_preview():
    large = samples.hostile_jpeg(9000, 9000)
    thumbnail = Image.open(io.BytesIO(one(samples.scanned_pdf(large)).thumbnail))
    assert thumbnail.size == (320, 320)


def samples_placeholder() -> bytes:
    from vault.media.thumbnails import make_placeholder_thumbnail

    return make_placeholder_thumbnail()
