"""Test papers for duplicates, made in memory: a page with a 2D-Doc-like DataMatrix and a QR code printed on
it (as a PDF and as a photo), multi-page PDFs, and hostile files."""

from __future__ import annotations

import io

import pikepdf
import pypdfium2 as pdfium
import segno
import zxingcpp
from PIL import Image, ImageDraw

from vault.duplicates.marking import font

DATAMATRIX_TEXT = "DC04FR0000011E6A1E6A0101FR0ADUPONT<GS>1BJEAN"
PRINTED_QR_TEXT = "https://www.impots.gouv.fr/verifavis?n=1234567890123"
PAGE_DPI = 200
A4_PIXELS = (1654, 2339)  # A4 at 200 dpi


def paper_with_codes(size: tuple[int, int] = A4_PIXELS) -> Image.Image:
    """An "avis d'imposition": lines of text, a DataMatrix at the top right, a QR code at the bottom left."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    letters = font(34, bold=False)
    for line in range(22):
        draw.text((120, 420 + line * 70), f"Ligne {line + 1} : revenu fiscal de référence 12 345 €", font=letters,
                  fill=(20, 20, 20))
    matrix = zxingcpp.create_barcode(DATAMATRIX_TEXT.replace("<GS>", "\x1d"), zxingcpp.BarcodeFormat.DataMatrix)
    view = memoryview(matrix.to_image(scale=7))
    datamatrix = Image.frombytes("L", (view.shape[1], view.shape[0]), bytes(view))
    page.paste(datamatrix, (size[0] - datamatrix.width - 120, 100))
    qr = segno.make(PRINTED_QR_TEXT, error="m")
    picture = io.BytesIO()
    qr.save(picture, kind="png", scale=6, border=4)
    page.paste(Image.open(io.BytesIO(picture.getvalue())).convert("RGB"), (120, size[1] - 420))
    return page


def as_png(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def as_jpeg(image: Image.Image, quality: int = 92) -> bytes:
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=quality)
    return output.getvalue()


def as_pdf(*images: Image.Image, dpi: int = PAGE_DPI) -> bytes:
    """A PDF whose pages are these pictures (as a scanner makes them)."""
    output = io.BytesIO()
    images[0].save(output, format="PDF", resolution=dpi, save_all=True, append_images=list(images[1:]))
    return output.getvalue()


def text_pdf(pages: int, *, size: tuple[float, float] = (595, 842)) -> bytes:
    pdf = pikepdf.new()
    for number in range(pages):
        page = pdf.add_blank_page(page_size=size)
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(
            F1=pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
        page.Contents = pikepdf.Stream(pdf, f"BT /F1 24 Tf 72 720 Td (Attestation page {number + 1}) Tj ET".encode())
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def render_pages(pdf: bytes, dpi: int = 150) -> list[Image.Image]:
    """Every page of ``pdf`` as pixels (pdfium), for the tests to look at."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[index].render(scale=dpi / 72).to_pil().convert("RGB") for index in range(len(document))]
    finally:
        document.close()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def as_webp(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, format="WEBP", quality=90)
    return output.getvalue()


def sniff(data: bytes) -> str:
    from vault.media.sniffing import sniff_kind

    return sniff_kind(data)
