"""PDFs opened from memory, cleaned of active content, and merged with photos into one PDF.

The result is written under a new catalogue and a new trailer, holding the pages only: nothing of an
uploaded file's catalogue survives (/OpenAction, /AA, /Names with /JavaScript and /EmbeddedFiles,
/AcroForm and its XFA, outlines, XMP metadata, document information, file identifier), and qpdf writes
only what the new catalogue reaches. The largest uploaded PDF is cleaned where it is rather than copied
(pikepdf copies every stream of a copied page at once: for a 48 MiB scan, one more 48 MiB); the pages of
other PDFs are copied in. Forms are flattened first, so what was typed in them stays visible as page
content. On each page only the keys needed to draw it are kept (no /AA, thumbnails, metadata,
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
    """Each (data, kind) part's pages, in order, in one clean PDF: (content, page count, thumbnail).

    Memory: the largest uploaded PDF is cleaned where it is and written out from there, its streams read
    from the upload only while the result is written, so the result is the one copy it adds. The pages
    of any other PDF are copied in (pikepdf copies streams at once) and photos become new pages.
    """
    base_index = _largest_pdf(parts)
    sources: list[pikepdf.Pdf] = []
    thumbnail = None
    try:
        if base_index is None:
            result = pikepdf.new()
        else:
            result = open_pdf(parts[base_index][0], base_index, limits)
        sources.append(result)
        if base_index is not None:
            # Before anything else joins it, so that its cleaning only ever sees its own pages.
            _clean_pages_in_place(result, base_index)
        base_pages = len(result.pages)
        placed = 0  # pages of the parts handled so far, which come first
        for index, (data, kind) in enumerate(parts):
            if index == base_index:
                count = base_pages
            elif kind == PDF:
                source = open_pdf(data, index, limits)
                sources.append(source)
                count = len(source.pages)
                _check_page_count(result, count, index, limits)
                _insert_clean_pages(result, source, placed, index)
            else:
                count = 1
                _check_page_count(result, count, index, limits)
                image = open_image(data, kind, index, limits)
                thumbnail = thumbnail or make_thumbnail(image)
                insert_image_page(result, image, placed)
                del image  # one decoded photo in memory at a time
            if kind == PDF and thumbnail is None:
                thumbnail = make_page_thumbnail(result.pages[placed], limits)
            placed += count
        _replace_catalogue(result)
        return _save(result, parts), placed, thumbnail
    finally:
        for source in sources:
            source.close()


def _largest_pdf(parts: Sequence[tuple[bytes, str]]) -> int | None:
    sizes = [(len(data), index) for index, (data, kind) in enumerate(parts) if kind == PDF]
    return max(sizes)[1] if sizes else None


def _check_page_count(result: pikepdf.Pdf, adding: int, index: int, limits: MediaLimits) -> None:
    if len(result.pages) + adding > limits.max_pages:
        raise TooManyPages(index)


def _save(result: pikepdf.Pdf, parts: Sequence[tuple[bytes, str]]) -> bytes:
    """The cleaned PDF. Only objects reachable from the new catalogue are written, each on its own."""
    output = io.BytesIO()
    try:
        # Object streams are not kept from the upload nor made: every written object stays visible to
        # the tests that look for what must not survive, and nothing unreachable rides along in one.
        result.save(output, fix_metadata_version=False, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                    object_stream_mode=pikepdf.ObjectStreamMode.disable)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        # Streams are read from the uploads only now; blame the PDF when there is only one.
        pdf_indexes = [index for index, (_, kind) in enumerate(parts) if kind == PDF]
        raise CorruptFile(pdf_indexes[0] if len(pdf_indexes) == 1 else None) from None
    return output.getvalue()  # the buffer itself, not a copy (CPython shares it when it can)


def insert_image_page(pdf: pikepdf.Pdf, image: Image.Image, position: int) -> None:
    """Insert one page showing the photo as a JPEG, sized as described at the top of this module."""
    width_points, height_points, pixels = page_geometry(image.size)
    if pixels != image.size:
        image = image.resize(pixels, Image.Resampling.LANCZOS, reducing_gap=3.0)
    jpeg = encode_jpeg(image, PAGE_JPEG_QUALITY)
    colour_space = pikepdf.Name.DeviceGray if image.mode == "L" else pikepdf.Name.DeviceRGB
    picture = pikepdf.Stream(pdf, jpeg, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                             Width=image.width, Height=image.height, ColorSpace=colour_space,
                             BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    drawing = f"q {width_points:.2f} 0 0 {height_points:.2f} 0 0 cm /Im0 Do Q"
    page = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, width_points, height_points],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture)),
        Contents=pikepdf.Stream(pdf, drawing.encode())))
    _insert_page(pdf, position, pikepdf.Page(page))


def _insert_page(pdf: pikepdf.Pdf, position: int, page: pikepdf.Page) -> None:
    if position == len(pdf.pages):
        pdf.pages.append(page)  # pikepdf's insert refuses the position just past the end
    else:
        pdf.pages.insert(position, page)


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


def _clean_pages_in_place(pdf: pikepdf.Pdf, index: int) -> None:
    """Flatten the forms of an uploaded PDF, strip its metadata and clean its pages, where it is."""
    try:
        _flatten_forms(pdf)
        strip_stream_metadata(pdf)
        for page in pdf.pages:
            clean_page(page.obj)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        raise CorruptFile(index) from None


def _insert_clean_pages(result: pikepdf.Pdf, source: pikepdf.Pdf, position: int, index: int) -> None:
    """Copy the source's pages (forms flattened, metadata stripped) into ``result`` at ``position``."""
    try:
        _flatten_forms(source)
        strip_stream_metadata(source)
        for offset, page in enumerate(source.pages):
            _insert_page(result, position + offset, page)
        for page in result.pages[position:position + len(source.pages)]:
            clean_page(page.obj)
    except (*PDF_ERRORS, *DECODE_ERRORS):
        raise CorruptFile(index) from None


def _replace_catalogue(pdf: pikepdf.Pdf) -> None:
    """A new catalogue and a flat page tree holding the pages only; the trailer keeps nothing else.

    Nothing of the uploaded catalogue (/OpenAction, /AA, /Names with /JavaScript and /EmbeddedFiles,
    /AcroForm and its XFA, outlines, XMP metadata) nor of its page tree nodes is reachable any more, so
    none of it is written; the document information and the file identifier go with the old trailer.
    Inherited page attributes were pushed down onto the pages when the file was opened.
    """
    pages = [page.obj for page in pdf.pages]
    tree = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Pages, Kids=pikepdf.Array(pages),
                                                Count=len(pages)))
    for page in pages:
        page.Parent = tree
    catalogue = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Catalog, Pages=tree))
    for key in list(pdf.trailer.keys()):
        if key != "/Size":  # which qpdf rewrites with the count of objects written
            del pdf.trailer[key]
    pdf.trailer.Root = catalogue


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
    unchanged = stripped is None or stripped is raw
    del raw  # qpdf takes its own copy of what is written: one picture in Python at a time, not two
    if not unchanged:
        # Written back raw, under the same filter name and parameters.
        parameters = stream.get("/DecodeParms")
        if parameters is None:
            stream.write(stripped, filter=filters)
        else:
            stream.write(stripped, filter=filters, decode_parms=parameters)
