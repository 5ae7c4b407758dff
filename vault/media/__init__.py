"""Uploaded files become one clean document, in memory only.

Bytes in, bytes out: nothing here writes to disk, because these are plaintext identity papers (Pillow
and pikepdf are only ever given BytesIO; no temporary file, no subprocess). Types are recognised by
their content, never by the name. One photo stays a photo in its own format (HEIC becomes JPEG), upright
and re-encoded without any metadata; one PDF stays a PDF, rewritten without active content; several
files become one PDF whose pages follow the upload order. Sizes are checked before anything is decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# qpdf's warnings about damaged files quote fragments of them: plaintext of a paper must never reach a
# log, so pikepdf's logger only passes errors on (its errors name the problem, not the content).
logging.getLogger("pikepdf").setLevel(logging.ERROR)

from vault.media.images import encode_image, open_image  # noqa: E402
from vault.media.limits import MediaLimits
from vault.media.pdfs import combine_into_pdf
from vault.media.refusals import (
    CorruptFile,
    DocumentTooLarge,
    EncryptedPdf,
    FileTooLarge,
    ImageTooLarge,
    MediaError,
    NoFiles,
    PdfTooComplex,
    TooManyFiles,
    TooManyPages,
    UnsupportedFileType,
)
from vault.media.sniffing import PDF, PNG, WEBP, sniff_kind
from vault.media.thumbnails import THUMBNAIL_TYPE, make_placeholder_thumbnail, make_thumbnail

DEFAULT_LIMITS = MediaLimits()
KINDS_WITH_ALPHA = frozenset({PNG, WEBP})  # kept in their own format; the others are stored as JPEG

__all__ = [
    "CorruptFile", "DocumentTooLarge", "EncryptedPdf", "FileTooLarge", "ImageTooLarge", "MediaError",
    "MediaLimits", "NoFiles", "NormalisedDocument", "PdfTooComplex", "TooManyFiles", "TooManyPages",
    "UnsupportedFileType", "UploadedFile", "normalise_document", "sniff_kind",
]


@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file. Neither bytes nor name appear in repr(): they would end up in logs."""

    data: bytes = field(repr=False)
    filename: str | None = field(default=None, repr=False)  # kept for the caller; never used to decide
    # Lets go of the request's own hold on the bytes (the web layer's in-memory upload buffer), so that
    # once the paper is cleaned the original plaintext can be freed: see vault.documents.add_document.
    release: Callable[[], None] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class NormalisedDocument:
    content: bytes = field(repr=False)
    content_type: str
    pages: int
    thumbnail: bytes = field(repr=False)
    thumbnail_type: str = THUMBNAIL_TYPE


def normalise_document(files: Sequence[UploadedFile], *,
                       limits: MediaLimits = DEFAULT_LIMITS) -> NormalisedDocument:
    """Turn the uploaded files into one clean document, or raise a MediaError naming the file at fault.

    One photo gives that photo (JPEG, PNG or WebP; HEIC gives JPEG); one PDF gives that PDF, cleaned;
    several files give one PDF with a page per photo and every page of every PDF, in upload order.
    """
    files = list(files)
    _check_sizes(files, limits)
    kinds = [_recognise(upload.data, index) for index, upload in enumerate(files)]
    if len(files) == 1 and kinds[0] != PDF:
        # Photos stored as JPEG lose their transparency anyway: flattened while decoding, at no extra cost.
        image = open_image(files[0].data, kinds[0], 0, limits, keep_alpha=kinds[0] in KINDS_WITH_ALPHA)
        content, content_type = encode_image(image, kinds[0])
        return NormalisedDocument(content, content_type, 1, make_thumbnail(image))
    parts = [(upload.data, kind) for upload, kind in zip(files, kinds, strict=True)]
    content, pages, thumbnail = combine_into_pdf(parts, limits)
    return NormalisedDocument(content, "application/pdf", pages, thumbnail or make_placeholder_thumbnail())


def _check_sizes(files: list[UploadedFile], limits: MediaLimits) -> None:
    """Counts and byte sizes of every file, before a single byte is parsed."""
    if not files:
        raise NoFiles()
    if len(files) > limits.max_files:
        raise TooManyFiles()
    total = 0
    for index, upload in enumerate(files):
        size = len(upload.data)
        if size > limits.max_file_bytes:
            raise FileTooLarge(index)
        total += size
        if total > limits.max_document_bytes:
            raise DocumentTooLarge(index)


def _recognise(data: bytes, index: int) -> str:
    if not data:
        raise CorruptFile(index)
    kind = sniff_kind(data)
    if kind is None:
        raise UnsupportedFileType(index)
    return kind
