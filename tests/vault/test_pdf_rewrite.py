"""An uploaded PDF is cleaned where it is and written out under a new catalogue (no copy of its pictures):
nothing of its catalogue, trailer, page tree nodes or unreferenced objects may reach the result."""

from __future__ import annotations

import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from tests.vault import media_samples as samples
from vault.media import MediaLimits, UploadedFile, normalise_document

SECRET = b"Zainab"


def cleaned(*blobs: bytes):
    return normalise_document([UploadedFile(blob) for blob in blobs], limits=MediaLimits())


def page_texts(content: bytes) -> list[bytes]:
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return [b"".join(stream.read_bytes() for stream in _contents(page)) for page in pdf.pages]


def _contents(page: pikepdf.Page) -> list[pikepdf.Stream]:
    contents = page.obj.get("/Contents")
    if contents is None:
        return []
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


@pytest.mark.parametrize("mode", [pikepdf.ObjectStreamMode.generate, pikepdf.ObjectStreamMode.preserve])
def test_scripts_inside_object_streams_do_not_survive(mode):
    source = pikepdf.open(io.BytesIO(samples.scripted_pdf()))
    output = io.BytesIO()
    source.save(output, object_stream_mode=mode, compress_streams=True)
    result = cleaned(output.getvalue())
    # Every object is written on its own (no object stream) and uncompressed dictionaries show what is left
    assert b"/ObjStm" not in result.content
    for marker in (b"JavaScript", b"OpenAction", b"EmbeddedFiles", b"/AA", b"Outlines", b"evil.example"):
        assert marker not in result.content
    with pikepdf.open(io.BytesIO(result.content)) as pdf:
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}


def test_page_tree_nodes_lose_everything_but_the_pages_keep_what_they_inherited():
    pdf = pikepdf.new()
    for number in (1, 2):
        samples._page(pdf, f"Page {number}")
    # Move the pages under an intermediate node that carries inherited attributes and junk
    pages = [page.obj for page in pdf.pages]
    font = pages[0].Resources
    for page in pages:
        del page["/Resources"]
        del page["/MediaBox"]
    metadata = pikepdf.Stream(pdf, b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>")
    middle = pdf.make_indirect(Dictionary(Type=Name.Pages, Kids=Array(pages), Count=2, Resources=font,
                                          MediaBox=[0, 0, 400, 500], PieceInfo=Dictionary(Owner=String(SECRET)),
                                          Metadata=metadata))
    for page in pages:
        page.Parent = middle
    pdf.Root.Pages.Kids = Array([middle])
    pdf.Root.Pages.Count = 2
    pdf.Root.Pages.PieceInfo = Dictionary(Owner=String(SECRET))
    output = io.BytesIO()
    pdf.save(output, compress_streams=False)

    result = cleaned(output.getvalue())
    assert SECRET not in result.content and b"PieceInfo" not in result.content
    with pikepdf.open(io.BytesIO(result.content)) as kept:
        assert set(kept.Root.Pages.keys()) == {"/Type", "/Kids", "/Count"}
        for page in kept.pages:
            assert list(map(float, page.obj.MediaBox)) == [0, 0, 400, 500]
            assert "/F1" in page.obj.Resources.Font
            assert page.obj.Parent.objgen == kept.Root.Pages.objgen
    assert [b"Page 1" in text for text in page_texts(result.content)] == [True, False]


def test_document_information_identifier_and_unreferenced_objects_are_not_written():
    pdf = pikepdf.new()
    samples._page(pdf, "Page 1")
    pdf.docinfo["/Author"] = SECRET.decode()
    pdf.make_indirect(pikepdf.Stream(pdf, b"left over by an editor: " + SECRET))  # reachable from nothing
    output = io.BytesIO()
    pdf.save(output, compress_streams=False, static_id=True)
    upload = output.getvalue()
    with pikepdf.open(io.BytesIO(upload)) as original:
        original_id = bytes(original.trailer.ID[0])
    assert SECRET in upload

    result = cleaned(upload)
    assert SECRET not in result.content
    with pikepdf.open(io.BytesIO(result.content)) as kept:
        assert "/Info" not in kept.trailer
        assert bytes(kept.trailer.ID[0]) != original_id


def test_pages_follow_the_upload_order_whichever_pdf_is_cleaned_in_place():
    # The largest PDF (the second file) is the one cleaned in place: the others are placed around it
    small, large = samples.pdf_bytes(1), samples.pdf_bytes(3)
    assert len(large) > len(small)
    result = cleaned(small, samples.png_bytes(), large, samples.jpeg_with_gps())
    assert result.pages == 6
    texts = page_texts(result.content)
    assert b"Page 1" in texts[0]
    assert [b"Page 1" in texts[2], b"Page 2" in texts[3], b"Page 3" in texts[4]] == [True, True, True]
    with pikepdf.open(io.BytesIO(result.content)) as pdf:
        assert [bool(page.get_images()) for page in pdf.pages] == [False, True, False, False, False, True]
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"} and not pdf.get_warnings()


def test_a_form_in_the_pdf_cleaned_in_place_is_flattened_like_one_copied_in():
    result = cleaned(samples.pdf_bytes(1), samples.form_pdf() + b"\n% padding to make it the largest" * 50)
    for marker in (b"JavaScript", b"XFA", b"xdp", b"AcroForm", b"Widget"):
        assert marker not in result.content
    with pikepdf.open(io.BytesIO(result.content)) as pdf:
        drawn = b"".join(stream.read_bytes() for stream in pdf.pages[1].Resources.XObject.values())
    assert b"FILLED-VALUE" in drawn  # what was typed in the form is still on its page
