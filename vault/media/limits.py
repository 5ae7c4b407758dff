"""How much one upload may weigh, and how much memory decoding what it holds may take."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """Checked before anything is decoded: bytes first, then the sizes declared in the headers."""

    max_file_bytes: int = 20 * MIB
    max_document_bytes: int = 50 * MIB
    max_files: int = 20
    # Memory one picture may take while it is decoded and cleaned (see budget.py). 176 MiB holds a
    # 16-megapixel phone photo as JPEG, PNG or HEIC at 11 bytes a pixel (a 12-megapixel one, even sent
    # progressive, fits too); larger JPEGs are decoded at a reduced scale, other pictures over it are
    # refused. Decoding runs through the media work gate, so a process never holds more than its number
    # of media slots times this.
    max_decoded_bytes: int = 176 * MIB
    max_side: int = 12_000
    max_pages: int = 100
    # A 100-page scan holds a few hundred objects, a text-heavy one a few thousand. Hundreds of thousands
    # means a file built to make the cleaning walk (and qpdf's memory) explode.
    max_pdf_objects: int = 200_000
