"""Test files made in memory: photos with GPS EXIF, PDFs clean, encrypted, broken, scripted or with forms,
decompression bombs, and files whose name lies about their content. Nothing is written to disk."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image, ImageCms, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110
RED, BLUE = (200, 60, 40), (20, 120, 200)
# Strings planted in samples; none may survive normalisation.
SECRETS = (b"PhoneMaker", b"Model X42", b"Zainab", b"app.alert", b"evil.example")


def photo(width: int = 640, height: int = 400) -> Image.Image:
    """Red, with blue stripes across the top half (so rotations can be told apart)."""
    image = Image.new("RGB", (width, height), RED)
    for x in range(0, width, 40):
        image.paste(BLUE, (x, 0, x + 20, height // 2))
    return image


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Model X42"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    return exif


def jpeg_with_gps(width: int = 640, height: int = 400, orientation: int = 1, **options) -> bytes:
    output = io.BytesIO()
    photo(width, height).save(output, format="JPEG", exif=gps_exif(orientation).tobytes(), quality=90,
                              comment=b"Zainab B. passport", **options)
    return output.getvalue()


def mpo_with_gps() -> bytes:
    """A phone JPEG carrying a second picture (as for depth maps), each with its EXIF."""
    output = io.BytesIO()
    photo().save(output, format="MPO", save_all=True, append_images=[photo(160, 100)],
                 exif=gps_exif().tobytes())
    return output.getvalue()


def heic_with_gps(orientation: int = 6) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    output = io.BytesIO()
    photo(64, 48).save(output, format="HEIF", exif=gps_exif(orientation).tobytes(), quality=80)
    return output.getvalue()


def cmyk_jpeg() -> bytes:
    output = io.BytesIO()
    photo(120, 80).convert("CMYK").save(output, format="JPEG")
    return output.getvalue()


def png_bytes(width: int = 300, height: int = 200) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zainab B.")
    info.add_itxt("Comment", "Model X42", zip=True)
    output = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (width, height), (10, 150, 90)).save(output, format="PNG", pnginfo=info,
                                                         exif=gps_exif().tobytes(), icc_profile=srgb)
    return output.getvalue()


def png_in_mode(mode: str) -> bytes:
    """A 4×1 PNG in a given mode ("P" gets a transparent first colour, "I;16" spans 0…65535)."""
    output = io.BytesIO()
    if mode == "I;16":
        image = Image.new("I;16", (4, 1))
        for x, value in enumerate((0, 21845, 43690, 65535)):
            image.putpixel((x, 0), value)
        image.save(output, format="PNG")
    elif mode == "P":
        image = Image.new("P", (4, 1), 1)
        image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
        image.putpixel((0, 0), 0)
        image.save(output, format="PNG", transparency=0)
    else:
        Image.new(mode, (4, 1)).save(output, format="PNG")
    return output.getvalue()


def noisy_png(side: int) -> bytes:
    generator = random.Random(side)
    pixels = bytes(generator.getrandbits(8) for _ in range(side * side * 3))
    image = Image.frombytes("RGB", (side, side), pixels)
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def webp_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (120, 80), (90, 90, 200)).save(output, format="WEBP", exif=gps_exif().tobytes(),
                                                    xmp=b"<x:xmpmeta>Zainab</x:xmpmeta>")
    return output.getvalue()


def animated(format_name: str) -> bytes:
    output = io.BytesIO()
    frames = [Image.new("RGB", (20, 20), colour) for colour in (RED, BLUE)]
    frames[0].save(output, format=format_name, save_all=True, append_images=frames[1:])
    return output.getvalue()


def gif_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("P", (10, 10)).save(output, format="GIF")
    return output.getvalue()


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200


def svg_bytes() -> bytes:
    return b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


def png_bomb(side: int = 100_000, height: int | None = None) -> bytes:
    """A PNG whose header (IHDR, with a correct CRC) claims side × height pixels; a few bytes of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side if height is None else height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) \
        + chunk(b"IEND", b"")


def jpeg_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small JPEG whose start-of-frame claims width × height."""
    data = bytearray(jpeg_with_gps(16, 16))
    frame = data.find(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated_jpeg() -> bytes:
    data = jpeg_with_gps(800, 600)
    return data[:len(data) * 2 // 3]


def _page(pdf: pikepdf.Pdf, text: str) -> pikepdf.Page:
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = Dictionary(Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1,
                                                              BaseFont=Name.Helvetica)))
    page.Contents = pikepdf.Stream(pdf, f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode())
    return page


def _saved(pdf: pikepdf.Pdf, **options) -> bytes:
    output = io.BytesIO()
    pdf.save(output, **options)
    return output.getvalue()


def pdf_bytes(pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for number in range(pages):
        _page(pdf, f"Page {number + 1}")
    pdf.docinfo["/Author"] = "Zainab B."
    return _saved(pdf)


def scripted_pdf() -> bytes:
    """/OpenAction and /Names JavaScript, page /AA, an embedded file and a file attachment."""
    pdf = pikepdf.new()
    page = _page(pdf, "Page 1")
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert('x')")))
    pdf.Root.OpenAction = script
    pdf.Root.AA = Dictionary(WC=script)
    attachment = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("evil.example.exe"),
                                              EF=Dictionary(F=pikepdf.Stream(pdf, b"MZ evil.example"))))
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("run"), script])),
                                EmbeddedFiles=Dictionary(Names=Array([String("x.exe"), attachment])))
    page.obj.AA = Dictionary(O=script)
    page.obj.Annots = Array([pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[0, 0, 20, 20], FS=attachment))])
    pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines))
    return _saved(pdf)


def linked_pdf() -> bytes:
    """Links: a web link (kept), then JavaScript, Launch, javascript: URI and a chained script (dropped)."""
    pdf = pikepdf.new()
    page = _page(pdf, "Links")
    actions = [
        Dictionary(S=Name.URI, URI=String("https://www.service-public.fr/"),  # kept, minus the odd key
                   Nxet=Dictionary(S=Name.JavaScript, JS=String("app.alert('x')"))),
        Dictionary(S=Name.JavaScript, JS=String("app.alert('x')")),
        Dictionary(S=Name.Launch, F=String("cmd.exe evil.example")),
        Dictionary(S=Name.URI, URI=String("javascript:app.alert('x')")),
        Dictionary(S=Name.URI, URI=String("https://ok.example/"),
                   Next=Dictionary(S=Name.JavaScript, JS=String("app.alert('x')"))),
    ]
    page.obj.Annots = Array([
        pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, A=action,
                                     Rect=[72, 600 - 30 * n, 300, 620 - 30 * n]))
        for n, action in enumerate(actions)])
    return _saved(pdf)


def form_pdf() -> bytes:
    """A filled form: a text field whose value has an appearance, a keystroke script and an XFA packet."""
    pdf = pikepdf.new()
    page = _page(pdf, "Formulaire")
    font = Dictionary(Helv=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    appearance = pikepdf.Stream(pdf, b"/Tx BMC BT /Helv 12 Tf 2 5 Td (FILLED-VALUE) Tj ET EMC",
                                Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 200, 20],
                                Resources=Dictionary(Font=font))
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert('x')")))
    field = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String("nom"),
                                         V=String("FILLED-VALUE"), Rect=[72, 650, 272, 670], F=4,
                                         AP=Dictionary(N=appearance), AA=Dictionary(K=script), P=page.obj))
    page.obj.Annots = Array([field])
    xfa = pikepdf.Stream(pdf, b"<xdp:xdp><script>app.alert('x')</script></xdp:xdp>")
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]), DA=String("/Helv 0 Tf 0 g"), XFA=xfa)
    return _saved(pdf, compress_streams=False)


def scanned_pdf(jpeg: bytes | None = None, side: tuple[int, int] = (640, 400)) -> bytes:
    """One page holding a camera JPEG as it is (EXIF and GPS included), as scanning apps do."""
    jpeg = jpeg or jpeg_with_gps(*side)
    pdf = pikepdf.new()
    width, height = Image.open(io.BytesIO(jpeg)).size
    picture = pikepdf.Stream(pdf, jpeg, Type=Name.XObject, Subtype=Name.Image, Width=width, Height=height,
                             ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = Dictionary(XObject=Dictionary(Im0=picture))
    page.Contents = pikepdf.Stream(pdf, b"q 595 0 0 372 0 400 cm /Im0 Do Q")
    return _saved(pdf)


def stamped_pdf() -> bytes:
    """A page "signed" with a stamp annotation whose appearance draws a camera JPEG (EXIF and GPS)."""
    pdf = pikepdf.new()
    page = _page(pdf, "Signature")
    signature = pikepdf.Stream(pdf, jpeg_with_gps(160, 100), Type=Name.XObject, Subtype=Name.Image,
                               Width=160, Height=100, ColorSpace=Name.DeviceRGB, BitsPerComponent=8,
                               Filter=Name.DCTDecode)
    appearance = pikepdf.Stream(pdf, b"q 160 0 0 100 0 0 cm /Sig Do Q", Type=Name.XObject,
                                Subtype=Name.Form, BBox=[0, 0, 160, 100],
                                Resources=Dictionary(XObject=Dictionary(Sig=signature)))
    stamp = Dictionary(Type=Name.Annot, Subtype=Name.Stamp, Rect=[300, 100, 460, 200],
                       AP=Dictionary(N=appearance))
    page.obj.Annots = Array([pdf.make_indirect(stamp)])
    return _saved(pdf)


def flate_bomb_pdf(inflated: int = 32 * 1024 * 1024) -> bytes:
    """A page whose 10×10 picture is a Flate stream inflating to ``inflated`` bytes."""
    pdf = pikepdf.new()
    picture = pikepdf.Stream(pdf, b"", Type=Name.XObject, Subtype=Name.Image, Width=10, Height=10,
                             ColorSpace=Name.DeviceGray, BitsPerComponent=8)
    picture.write(zlib.compress(b"\0" * inflated, 9), filter=Name.FlateDecode)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = Dictionary(XObject=Dictionary(Im0=picture))
    page.Contents = pikepdf.Stream(pdf, b"q 100 0 0 100 0 0 cm /Im0 Do Q")
    return _saved(pdf)


def damaged_xref_pdf() -> bytes:
    """A valid PDF whose cross-reference offsets are all wrong (bytes inserted after the header)."""
    data = _saved(pikepdf.open(io.BytesIO(pdf_bytes(2))), object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return data.replace(b"\n", b"\n% inserted by a careless tool\n", 1)


def damaged_copies(data: bytes, count: int, seed: int) -> list[bytes]:
    """Deterministic truncations and byte flips of a sample, as bad networks and bad tools make them."""
    generator = random.Random(seed)
    copies = []
    for number in range(count):
        blob = bytearray(data)
        if number % 3 == 0:
            blob = blob[:generator.randrange(1, len(blob))]
        else:
            for _ in range(generator.randrange(1, 8)):
                blob[generator.randrange(len(blob))] = generator.randrange(256)
        copies.append(bytes(blob))
    return copies


def encrypted_pdf(user_password: str = "") -> bytes:
    pdf = pikepdf.open(io.BytesIO(pdf_bytes(1)))
    return _saved(pdf, encryption=pikepdf.Encryption(user=user_password, owner="owner-secret"))


def broken_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage garbage\n%%EOF\n"


def text_named_pdf() -> bytes:
    return b"Bonjour, ceci est un texte et pas un PDF.\n"


def noise_jpeg(width: int, height: int, *, exif: bool = False, seed: int = 0, **options) -> bytes:
    """A JPEG of random pixels: as large as a JPEG of that size gets (a stand-in for a dense scan)."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    output = io.BytesIO()
    extra = {"exif": gps_exif().tobytes()} if exif else {}
    picture = Image.frombytes("RGB", (width, height), pixels)
    picture.save(output, format="JPEG", quality=80, **extra, **options)
    return output.getvalue()


def scanned_pdf_of_size(size: int, *, exif: bool = False) -> bytes:
    """A PDF of about ``size`` bytes: A4 pages at 150 dpi, each holding its own JPEG (~1.4 MB) as a
    scanner writes it, or as a phone app does, camera EXIF included, when ``exif``."""
    page_jpeg = noise_jpeg(1240, 1754, exif=exif)
    pdf = pikepdf.new()
    for number in range(max(1, round(size / len(page_jpeg)))):
        data = bytearray(page_jpeg)
        data[-3] = number % 256  # a different stream on every page, as in a real scan
        picture = pikepdf.Stream(pdf, bytes(data), Type=Name.XObject, Subtype=Name.Image, Width=1240,
                                 Height=1754, ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode)
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Resources = Dictionary(XObject=Dictionary(Im0=picture))
        page.Contents = pikepdf.Stream(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    return _saved(pdf)


def hostile_jpeg(width: int = 6300, height: int = 6300, *, progressive: bool = False, **options) -> bytes:
    """A few hundred bytes of JPEG whose frame declares width × height: libjpeg fills in the missing data,
    so decoding it at full size costs what a real photo of that size would."""
    output = io.BytesIO()
    photo(16, 16).save(output, format="JPEG", quality=90, progressive=progressive, **options)
    data = bytearray(output.getvalue())
    frame = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)
