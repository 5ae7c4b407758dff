"""PDFs opened from memory, cleaned of active content, and merged with photos into one PDF.

The result is always a new document into which pages are copied: nothing of an uploaded file's catalogue
survives (/OpenAction, /AA, /Names with /JavaScript and /EmbeddedFiles, /AcroForm and its XFA, outlines,
XMP metadata, document information). Forms are flattened first, so what was typed in them stays visible
as page content. On each page only the keys needed to draw it are kept (no /AA, thumbnails, metadata,
piece info), and annotations only of harmless kinds whose actions go to a page or to a web/mail link.
Every JPEG in the file loses its EXIF/XMP/ICC segments and every XMP packet is emptied. Streams are
copied as they are, never decoded, so a compressed bomb stays compressed. pikepdf is given BytesIO only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pikepdf
from PIL import Image

from vault.media.images import DECODE_ERRORS, encode_jpeg, open_image
from vault.media.jpeg_markers import strip_jpeg_metadata
from vault.media.limits import MediaLimits
from vault.media.links import is_safe_named_action, is_safe_uri
from vault.media.refusals import CorruptFile, EncryptedPdf, PdfTooComplex, TooManyPages
from vault.media.sniffing import PDF
from vault.media.thumbnails import PDF_ERRORS, make_page_thumbnail, make_thumbnail

# A photo becomes a page as large as it would print at BASE_DPI, shrunk to fit A4 (portrait or
# landscape, following the photo), and its pixels are reduced to at most MAX_DPI on that page.
BASE_DPI = 150
MAX_DPI = 200
A4_POINTS = (595.28, 841.89)
MIN_PAGE_POINTS = 3.0  # the smallest page side ISO 32000 allows
PAGE_JPEG_QUALITY = 85
KEPT_PAGE_KEYS = frozenset({"/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/BleedBox",
                            "/TrimBox", "/ArtBox", "/Contents", "/Rotate", "/Group", "/Annots", "/UserUnit"})
# Markup that draws something and runs nothing. Widgets are gone after flattening; file attachments,
# sounds, movies, screens, rich media and 3D annotations are dropped.
SAFE_ANNOTATION_SUBTYPES = frozenset({
    "/Link", "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
    "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/Popup", "/Redact", "/Watermark"})
SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named"})
ACTION_KEYS = frozenset({"/Type", "/S", "/Next", "/D", "/SD", "/URI", "/IsMap", "/N"})
MAX_ACTION_CHAIN = 8
# Streams under these filters are not JPEGs. DCTDecode streams are, and so may be streams under a filter
# no reader knows (a damaged name): those cannot be displayed, so cutting their metadata costs nothing.
NON_JPEG_FILTERS = frozenset({"/ASCIIHexDecode", "/ASCII85Decode", "/LZWDecode", "/FlateDecode",
                              "/RunLengthDecode", "/CCITTFaxDecode", "/JBIG2Decode", "/JPXDecode", "/Crypt",
                              "/AHx", "/A85", "/LZW", "/Fl", "/RL", "/CCF"})


def open_pdf(data: bytes, index: int, limits: MediaLimits) -> pikepdf.Pdf:
    """Open a PDF from memory; refuse it when encrypted, unreadable, too long or absurdly large."""
    try:
        # qpdf's recovery (rebuilding a damaged cross-reference table) stays on: slightly damaged scanner
        # output is common and opens in every reader. The file is rewritten from its objects anyway.
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise EncryptedPdf(index) from None
    except (*PDF_ERRORS, *DECODE_ERRORS):
        raise CorruptFile(index) from None
    try:
        if pdf.is_encrypted:  # even with an empty user password: we would store it still encrypted
            raise EncryptedPdf(index)
        if _declared_object_count(pdf) > limits.max_pdf_objects:
            raise PdfTooComplex(index)
        count = len(pdf.pages)
        if count == 0:
            raise CorruptFile(index)
        if count > limits.max_pages:
            raise TooManyPages(index)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        pdf.close()
        raise CorruptFile(index) from None
    except BaseException:
        pdf.close()
        raise
    return pdf


def combine_into_pdf(parts: Sequence[tuple[bytes, str]],
                     limits: MediaLimits) -> tuple[bytes, int, bytes | None]:
    """Each (data, kind) part's pages, in order, in one clean PDF: (content, page count, thumbnail)."""
    result = pikepdf.new()
    sources: list[pikepdf.Pdf] = []
    thumbnail = None
    try:
        for index, (data, kind) in enumerate(parts):
            if kind == PDF:
                source = open_pdf(data, index, limits)
                sources.append(source)  # copied streams are read from it when saving
                if len(result.pages) + len(source.pages) > limits.max_pages:
                    raise TooManyPages(index)
                first = _copy_clean_pages(result, source, index)
                thumbnail = thumbnail or make_page_thumbnail(result.pages[first], limits)
            else:
                if len(result.pages) + 1 > limits.max_pages:
                    raise TooManyPages(index)
                image = open_image(data, kind, index, limits)
                thumbnail = thumbnail or make_thumbnail(image)
                append_image_page(result, image)
                del image  # one decoded photo in memory at a time
        pdf_indexes = [index for index, (_, kind) in enumerate(parts) if kind == PDF]
        try:
            output = io.BytesIO()
            result.save(output, fix_metadata_version=False,
                        stream_decode_level=pikepdf.StreamDecodeLevel.none)
        except (*PDF_ERRORS, *DECODE_ERRORS):
            # Streams are read from the sources only now; blame the PDF when there is only one.
            raise CorruptFile(pdf_indexes[0] if len(pdf_indexes) == 1 else None) from None
        return output.getvalue(), len(result.pages), thumbnail
    finally:
        for source in sources:
            source.close()
        result.close()


def append_image_page(pdf: pikepdf.Pdf, image: Image.Image) -> None:
    """Add one page showing the photo as a JPEG, sized as described at the top of this module."""
    width_points, height_points, pixels = page_geometry(image.size)
    if pixels != image.size:
        image = image.resize(pixels, Image.Resampling.LANCZOS, reducing_gap=3.0)
    jpeg = encode_jpeg(image, PAGE_JPEG_QUALITY)
    colour_space = pikepdf.Name.DeviceGray if image.mode == "L" else pikepdf.Name.DeviceRGB
    picture = pikepdf.Stream(pdf, jpeg, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                             Width=image.width, Height=image.height, ColorSpace=colour_space,
                             BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    page = pdf.add_blank_page(page_size=(width_points, height_points))
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    drawing = f"q {width_points:.2f} 0 0 {height_points:.2f} 0 0 cm /Im0 Do Q"
    page.obj.Contents = pikepdf.Stream(pdf, drawing.encode())


def page_geometry(size: tuple[int, int]) -> tuple[float, float, tuple[int, int]]:
    """(page width, page height) in points and the pixel size the photo is stored at."""
    width, height = size
    box_width, box_height = A4_POINTS if height >= width else A4_POINTS[::-1]
    width_points, height_points = width * 72 / BASE_DPI, height * 72 / BASE_DPI
    scale = min(1.0, box_width / width_points, box_height / height_points)
    width_points = max(width_points * scale, MIN_PAGE_POINTS)
    height_points = max(height_points * scale, MIN_PAGE_POINTS)
    reduction = min(1.0, MAX_DPI * width_points / 72 / width, MAX_DPI * height_points / 72 / height)
    pixels = (max(1, round(width * reduction)), max(1, round(height * reduction)))
    return width_points, height_points, pixels


def _declared_object_count(pdf: pikepdf.Pdf) -> int:
    """The cross-reference table's declared size: free to read, and bounds what qpdf will walk."""
    return int(pdf.trailer.get("/Size", 0))


def _copy_clean_pages(result: pikepdf.Pdf, source: pikepdf.Pdf, index: int) -> int:
    """Copy the source's pages (forms flattened) to the end of ``result`` and clean them."""
    first = len(result.pages)
    try:
        _flatten_forms(source)
        strip_stream_metadata(source)
        result.pages.extend(source.pages)
        for page in result.pages[first:]:
            clean_page(page.obj)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        raise CorruptFile(index) from None
    return first


def _flatten_forms(pdf: pikepdf.Pdf) -> None:
    """Burn form fields' visible values into the pages; then the form (scripts, XFA) can go."""
    if "/AcroForm" not in pdf.Root:
        return
    try:
        pdf.generate_appearance_streams()
        pdf.flatten_annotations("screen")
    except PDF_ERRORS:
        pass  # then the widgets are dropped with the form: the page keeps its printed content


def clean_page(page: pikepdf.Dictionary) -> None:
    """Keep only what draws the page, and only harmless annotations."""
    for key in list(page.keys()):
        if key not in KEPT_PAGE_KEYS:
            del page[key]
    annotations = page.get("/Annots")
    if annotations is not None:
        kept = [item for item in annotations if trim_annotation(item)] \
            if isinstance(annotations, pikepdf.Array) else []
        if kept:
            page.Annots = pikepdf.Array(kept)
        else:
            del page["/Annots"]


def strip_stream_metadata(pdf: pikepdf.Pdf) -> None:
    """Drop XMP from every stream and EXIF & co. from every JPEG of the file, however it is reached.

    Every object is visited rather than the pages' resources: a picture referenced from an odd place
    would still be copied. The walk is bounded by the object count checked when opening.
    """
    for item in pdf.objects:
        if not isinstance(item, pikepdf.Stream):
            continue
        if "/Metadata" in item:
            del item["/Metadata"]
        if item.get("/Subtype") == pikepdf.Name.XML:
            item.write(b"")  # an XMP packet itself (also reachable from places we do not clean)
        else:
            _strip_picture(item)


def trim_annotation(annotation: pikepdf.Object) -> bool:
    """Trim an annotation to what is harmless; False when it must go altogether.

    Kept: markup of harmless kinds, whose action (if any) only moves to a page or opens a web/mail link.
    """
    if not isinstance(annotation, pikepdf.Dictionary):
        return False
    if str(annotation.get("/Subtype", "")) not in SAFE_ANNOTATION_SUBTYPES:
        return False
    for key in ("/AA", "/PA"):
        # "Additional actions" (on hover, on focus…) are only ever scripts here; /PA holds a link's former
        # URI action (Web Capture), which an editor can turn back on, unchecked.
        if key in annotation:
            del annotation[key]
    action = annotation.get("/A")
    return action is None or trim_action(action)


def trim_action(action: pikepdf.Object) -> bool:
    """True when an action and every /Next action chained to it are safe; each loses unknown keys."""
    pending, visited = [action], 0
    while pending:
        current = pending.pop()
        visited += 1
        if visited > MAX_ACTION_CHAIN or not isinstance(current, pikepdf.Dictionary):
            return False
        kind = str(current.get("/S", ""))
        if kind not in SAFE_ACTIONS:
            return False
        if kind == "/URI" and not is_safe_uri(current.get("/URI")):
            return False  # javascript:, file:, smb: … links, and anything a reader could read another way
        if kind == "/Named" and not is_safe_named_action(current.get("/N")):
            return False
        for key in list(current.keys()):
            if key not in ACTION_KEYS:
                del current[key]  # nothing a reader would run, but nothing we need either
        following = current.get("/Next")
        if isinstance(following, pikepdf.Array):
            pending.extend(following)
        elif following is not None:
            pending.append(following)
    return True


def _strip_picture(stream: pikepdf.Stream) -> None:
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if not isinstance(filters, pikepdf.Name) or str(filters) in NON_JPEG_FILTERS:
        return
    raw = stream.read_raw_bytes()
    if filters != pikepdf.Name.DCTDecode and not raw.startswith(b"\xff\xd8\xff"):
        return
    stripped = strip_jpeg_metadata(raw)
    if stripped is not None and len(stripped) != len(raw):
        # Written back raw, under the same filter name and parameters.
        parameters = stream.get("/DecodeParms")
        if parameters is None:
            stream.write(stripped, filter=filters)
        else:
            stream.write(stripped, filter=filters, decode_parms=parameters)
