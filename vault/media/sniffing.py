"""A file's type from its first bytes. The name and the client's content type are never trusted."""

from __future__ import annotations

JPEG, PNG, WEBP, HEIF, PDF = "jpeg", "png", "webp", "heif", "pdf"
# ISO-BMFF major brands of HEIC/HEIF stills and sequences (AVIF's "avif"/"avis" are deliberately absent).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                         b"mif1", b"msf1"})
# Readers (and qpdf) accept the PDF header anywhere in the first KiB; whatever precedes it is not kept,
# because the document is rewritten from its parsed objects.
PDF_HEADER_WINDOW = 1024


def sniff_kind(data: bytes) -> str | None:
    """One of "jpeg", "png", "webp", "heif", "pdf", or None for anything else (GIF, SVG, EXE, text…)."""
    head = bytes(data[:PDF_HEADER_WINDOW])
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF
    if b"%PDF-" in head:
        return PDF
    return None
