"""Test files made in memory: photos with GPS EXIF, PDFs clean, encrypted, broken or scripted, bombs."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pikepdf
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 640, height: int = 400, orientation: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (200, 60, 40))
    for x in range(0, width, 40):
        image.paste((20, 120, 200), (x, 0, x + 20, height // 2))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X42"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes(), quality=90)
    return output.getvalue()


def png_bytes(width: int = 300, height: int = 200) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zainab B.")
    output = io.BytesIO()
    Image.new("RGB", (width, height), (10, 150, 90)).save(output, format="PNG", pnginfo=info)
    return output.getvalue()


def noisy_png(side: int) -> bytes:
    generator = random.Random(side)
    image = Image.frombytes("RGB", (side, side), bytes(generator.getrandbits(8) for _ in range(side * side * 3)))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def webp_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (120, 80), (90, 90, 200)).save(output, format="WEBP")
    return output.getvalue()


def pdf_bytes(pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for number in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Contents = pikepdf.Stream(pdf, f"BT /F1 24 Tf 72 720 Td (Page {number + 1}) Tj ET".encode())
    pdf.docinfo["/Author"] = "Zainab B."
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def scripted_pdf() -> bytes:
    pdf = pikepdf.open(io.BytesIO(pdf_bytes(1)))
    script = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')")))
    pdf.Root.OpenAction = script
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("run"), script])))
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def encrypted_pdf() -> bytes:
    pdf = pikepdf.open(io.BytesIO(pdf_bytes(1)))
    output = io.BytesIO()
    pdf.save(output, encryption=pikepdf.Encryption(user="", owner="owner-secret"))
    return output.getvalue()


def broken_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage garbage\n%%EOF\n"


def png_bomb(side: int = 100_000) -> bytes:
    """A PNG whose header claims side × side pixels (a few bytes of data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) \
        + chunk(b"IEND", b"")


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200


def gif_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("P", (10, 10)).save(output, format="GIF")
    return output.getvalue()
