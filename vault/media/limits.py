"""How much one upload may weigh, and how large what it holds may claim to be."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """Checked before anything is decoded: bytes first, then the sizes declared in the headers."""

    max_file_bytes: int = 20 * MIB
    max_document_bytes: int = 50 * MIB
    max_files: int = 20
    max_pixels: int = 40_000_000  # a 40 MP photo decodes to ~120 MB of RGB: the most one request may take
    max_side: int = 12_000
    max_pages: int = 100
    # A 100-page scan holds a few hundred objects, a text-heavy one a few thousand. Hundreds of thousands
    # means a file built to make the cleaning walk (and qpdf's memory) explode.
    max_pdf_objects: int = 200_000
