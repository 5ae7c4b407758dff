"""Why an upload was refused: one exception per reason, each with a stable ``code`` and the file's index.

``file_index`` is the position of the offending file in the upload (None when the upload as a whole is at
fault), so the API can say which file was wrong. Messages are plain English defaults for logs and tests;
they never quote the file or its name, because these are identity papers.
"""

from __future__ import annotations


class MediaError(Exception):
    """A file that cannot become a paper; ``code`` is stable, ``file_index`` says which file."""

    code = "media_error"
    message = "This file cannot be kept."

    def __init__(self, file_index: int | None = None) -> None:
        super().__init__(self.message)
        self.file_index = file_index

    def __reduce__(self):
        # Exceptions pickle as cls(*args); args holds the message, not the index.
        return type(self), (self.file_index,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(file_index={self.file_index!r})"


class NoFiles(MediaError):
    code, message = "no_files", "No file was sent."


class TooManyFiles(MediaError):
    code, message = "too_many_files", "Too many files for one paper."


class FileTooLarge(MediaError):
    code, message = "file_too_large", "This file is too large."


class DocumentTooLarge(MediaError):
    code, message = "document_too_large", "These files together are too large."


class UnsupportedFileType(MediaError):
    code, message = "unsupported_file_type", "Only photos (JPEG, PNG, WebP, HEIC) and PDFs are accepted."


class ImageTooLarge(MediaError):
    code, message = "image_too_large", "This picture has too many pixels."


class CorruptFile(MediaError):
    code, message = "corrupt_file", "This file is damaged or empty."


class EncryptedPdf(MediaError):
    code, message = "encrypted_pdf", "This PDF is protected by a password."


class TooManyPages(MediaError):
    code, message = "too_many_pages", "This paper has too many pages."


class PdfTooComplex(MediaError):
    code, message = "pdf_too_complex", "This PDF is built from too many parts to be checked."
