"""JPEG structure read without decoding: metadata segments cut out, and how a picture will be decoded.

Scanning apps often put the camera's JPEG, EXIF and GPS included, straight into the PDF. Re-encoding
every such picture would cost quality and time; dropping the segments that carry metadata is lossless.
How the first scan is sent tells what libjpeg will hold in memory to decode it (see ``budget.py``).
"""

from __future__ import annotations

import re

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP1, APP14, APP15 = 0xE0, 0xE1, 0xEE, 0xEF
# Markers without a length field: TEM and the restart markers.
STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
# APP0 is the JFIF header; APP14 is Adobe's colour-transform flag, without which CMYK/RGB scans decode
# with wrong colours. Every other APPn (EXIF, XMP, ICC, MPF, IPTC/Photoshop…) and comments go.
KEPT_APP_MARKERS = frozenset({APP0, APP14})
# Start-of-frame markers (SOF0…SOF15, which share their range with DHT, JPG and DAC), and those of
# sequential frames: baseline, extended, and sequential with arithmetic coding.
FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
SEQUENTIAL_FRAMES = frozenset({0xC0, 0xC1, 0xC9})


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The same JPEG without APPn (but JFIF/Adobe) or comment segments, and nothing after its end.

    Cutting at the end marker also drops what phones append after the picture (the second picture of
    an MPO file, with its own EXIF). Like libjpeg, stray bytes between segments are skipped. Metadata
    lives before the first scan: once past it, damage further on only means the rest is copied as it
    is; damage before it (a header no decoder can read) means the picture is cut there. None when the
    bytes do not even start like a JPEG; ``data`` itself (no copy) when there is nothing to cut.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    view = memoryview(data)  # the parts kept are views: the picture is copied once, when joined
    kept = [view[:2]]
    position, length, scanned = 2, len(data), False
    while position + 1 < length:
        if data[position] != 0xFF:
            following = data.find(b"\xff", position)  # extraneous bytes before a marker
            if following == -1:
                break
            position = following
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == EOI:
            kept.append(view[position:position + 2])
            return _joined(data, kept)
        if marker in STANDALONE_MARKERS:
            kept.append(view[position:position + 2])
            position += 2
            continue
        end = _segment_end(data, position) if marker not in (0x00, SOI) else None
        if end is None:
            break
        if not _holds_metadata(marker):
            kept.append(view[position:end])
        position = end
        if marker == SOS:
            scanned = True
            scan_end = _find_scan_end(data, position)
            if scan_end is None:
                break
            kept.append(view[position:scan_end])
            position = scan_end
    if scanned:
        kept.append(view[position:])
    return _joined(data, kept)


def _joined(data: bytes, kept: list[memoryview]) -> bytes:
    # Parts are in order and never overlap: as long as the whole, they are the whole.
    if sum(len(part) for part in kept) == len(data):
        return data
    return b"".join(kept)


def decodes_in_one_pass(data: bytes) -> bool:
    """True when libjpeg can decode the picture a band of rows at a time.

    That is a sequential frame whose first scan carries every component. A progressive picture, or one
    sent one component per scan, makes libjpeg keep the coefficients of the whole picture until the
    last scan. Anything unreadable before the first scan counts as the costly case.
    """
    if not data.startswith(b"\xff\xd8"):
        return False
    frame, components, position, length = None, 0, 2, len(data)
    while position + 1 < length:
        if data[position] != 0xFF:
            return False  # stray bytes before the first scan: no guess about what libjpeg will make of it
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        end = _segment_end(data, position)
        if end is None or marker in STANDALONE_MARKERS or marker in (SOI, EOI):
            return False
        if marker in FRAME_MARKERS and end - position >= 10:
            frame, components = marker, data[position + 9]
        elif marker == SOS:
            return (frame in SEQUENTIAL_FRAMES and end - position >= 5
                    and data[position + 4] == components)
        position = end
    return False


def _segment_end(data: bytes, position: int) -> int | None:
    if position + 4 > len(data):
        return None
    end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return end if position + 4 <= end <= len(data) else None


def _holds_metadata(marker: int) -> bool:
    return marker == COM or (APP1 <= marker <= APP15 and marker not in KEPT_APP_MARKERS)


# In entropy-coded data 0xFF is followed by 0x00 (a stuffed byte), a restart marker (0xD0–0xD7) or more
# 0xFF fill bytes; any other byte after 0xFF is a real marker. One regular-expression search finds it in C:
# a scan holds about one 0xFF in 256 bytes, and looking at each from Python cost 0.1 s for a 20 MiB scan.
_MARKER_AFTER_SCAN = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")


def _find_scan_end(data: bytes, position: int) -> int | None:
    """Where the entropy-coded data after a start-of-scan ends: at the first real marker (its 0xFF)."""
    found = _MARKER_AFTER_SCAN.search(data, position)
    if found is None:
        return None
    return found.end() - 2  # the 0xFF just before the marker's code, after any fill bytes
