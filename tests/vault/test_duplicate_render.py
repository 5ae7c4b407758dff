"""Marked copies, rendered for real: the watermark on every page, barcodes kept, the QR code verifies,
bounds on hostile papers, nothing on disk."""

from __future__ import annotations

import builtins
import os
import tempfile
from datetime import date

import pikepdf
import pytest
import zxingcpp
from PIL import ImageChops

from crypto.errors import InvalidSignature, MalformedInput
from crypto.signing import SigningKey, SigningRing
from tests.vault import duplicate_papers as papers
from vault.duplicates import render
from vault.duplicates.render import Marking, RenderLimits, render_copy
from vault.duplicates.statement import Statement, sign_statement, verify_statement
from vault.media import CorruptFile, ImageTooLarge, MediaError, TooManyPages, UnsupportedFileType

KEY = SigningKey.generate()
REF = "7K3M-QX2D-9TBW-HN4F"
URL = f"https://consigne.example/verify/{REF}"
STATEMENT = Statement(ref=REF, issuer="https://consigne.example", organisation="Accueil de jour Les Lilas",
                      purpose="caf_rsa", purpose_text=None, kind="avis_imposition", issued_on=date(2026, 11, 28))
SIGNED = sign_statement(STATEMENT, KEY)
MARKING = Marking(watermark=f"Copie pour dossier CAF — Accueil de jour Les Lilas — 28/11/2026 — réf. {REF}",
                  qr_content=f"{URL}#{SIGNED}", footer=(f"Copie marquée — réf. {REF}", f"Vérifier : {URL}"))
GRID = 4


def original_page(data: bytes, index: int = 0):
    """The original page as the copy renders it (same scale), to compare against."""
    if data.startswith(b"%PDF"):
        return next(p for i, p in enumerate(render._pdf_pages(data, RenderLimits())) if i == index)
    return next(render._photo_page(data, papers.sniff(data), RenderLimits()))


def assert_watermarked_everywhere(copy_page, original) -> None:
    """The watermark's pixels are spread over the whole page: every cell of a 4 × 4 grid has many."""
    width, height = original.size
    marked = copy_page.crop((0, 0, width, height))
    difference = ImageChops.difference(marked, original).convert("L").point(lambda value: 255 if value > 40 else 0)
    for row in range(GRID):
        for column in range(GRID):
            cell = difference.crop((column * width // GRID, row * height // GRID,
                                    (column + 1) * width // GRID, (row + 1) * height // GRID))
            changed = cell.histogram()[255] / (cell.width * cell.height)
            assert changed > 0.02, f"cell {row},{column}: {changed:.3%} of its pixels carry the watermark"


def tinted_share(picture) -> float:
    """The share of pixels tinted by the watermark's red ink (JPEG's grey ringing around black and white
    modules is not tinted; the ink, over white or over black, is)."""
    red, green, _ = picture.split()
    tinted = ImageChops.subtract(red, green).point(lambda value: 255 if value > 35 else 0)
    return tinted.histogram()[255] / (picture.width * picture.height)


def statements_on(page) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
            if code.text.startswith(URL)]


@pytest.mark.parametrize("make", [
    pytest.param(lambda: papers.text_pdf(3), id="text-pdf-3-pages"),
    pytest.param(lambda: papers.as_pdf(papers.paper_with_codes(), papers.paper_with_codes((1200, 800))), id="scan-pdf"),
    pytest.param(lambda: papers.as_jpeg(papers.paper_with_codes()), id="jpeg-photo"),
    pytest.param(lambda: papers.as_png(papers.paper_with_codes((900, 600))), id="png-photo"),
    pytest.param(lambda: papers.as_webp(papers.paper_with_codes((700, 500))), id="webp-photo"),
])
def test_every_page_carries_the_watermark_and_a_qr_code_that_verifies(make):
    data = make()
    copy = render_copy(data, MARKING)
    pages = papers.render_pages(copy.pdf)
    assert len(pages) == copy.pages == (len(pikepdf.open(__import__("io").BytesIO(data)).pages)
                                        if data.startswith(b"%PDF") else 1)
    for index, page in enumerate(pages):
        assert_watermarked_everywhere(page, original_page(data, index))
        (found,) = statements_on(page)
        assert found == MARKING.qr_content
        statement = verify_statement(found.split("#", 1)[1], [KEY.verify_key])
        assert statement == STATEMENT


@pytest.mark.parametrize("kind", ["pdf", "jpeg", "png"])
def test_existing_barcodes_still_decode_on_the_copy(kind):
    paper = papers.paper_with_codes()
    data = {"pdf": papers.as_pdf, "jpeg": papers.as_jpeg, "png": papers.as_png}[kind](paper)
    copy = render_copy(data, MARKING)
    (page,) = papers.render_pages(copy.pdf)
    texts = {(code.format, code.text) for code in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.AllMatrix)}
    assert (zxingcpp.BarcodeFormat.DataMatrix, papers.DATAMATRIX_TEXT.replace("<GS>", "\x1d")) in texts \
        or any(fmt == zxingcpp.BarcodeFormat.DataMatrix and text.startswith("DC04FR") for fmt, text in texts)
    assert (zxingcpp.BarcodeFormat.QRCode, papers.PRINTED_QR_TEXT) in texts
    # zxing reads through a light watermark too, so decoding alone proves little: the codes' own pixels
    # must be those of the original (no ink on them), while the watermark is all around them.
    original = original_page(data)
    codes = zxingcpp.read_barcodes(original, formats=zxingcpp.BarcodeFormat.AllMatrix)
    assert len(codes) == 2
    for code in codes:
        corners = [code.position.top_left, code.position.top_right, code.position.bottom_right,
                   code.position.bottom_left]
        box = (min(p.x for p in corners), min(p.y for p in corners), max(p.x for p in corners) + 1,
               max(p.y for p in corners) + 1)
        inked = tinted_share(page.crop(box))
        assert inked < 0.002 and tinted_share(original.crop(box)) == 0, (code.format, inked)
    assert_watermarked_everywhere(page, original)


def test_the_statement_verifies_with_the_published_key_only():
    other = SigningKey.generate()
    assert verify_statement(SIGNED, [other.verify_key, KEY.verify_key]) == STATEMENT
    with pytest.raises(InvalidSignature):
        verify_statement(SIGNED, [other.verify_key])
    # Another key that claims the same key id does not verify either.
    impostor = SIGNED.replace(SIGNED.split(".")[1], other.key_id)
    with pytest.raises(InvalidSignature):
        verify_statement(impostor, [other.verify_key])
    # One changed character of the payload (another purpose) breaks the signature.
    prefix, key_id, payload, signature = SIGNED.split(".")
    forged_statement = Statement(**{**STATEMENT.__dict__, "purpose": "housing"})
    forged_payload = sign_statement(forged_statement, other).split(".")[2]
    with pytest.raises(InvalidSignature):
        verify_statement(".".join([prefix, key_id, forged_payload, signature]), [KEY.verify_key])
    for garbage in ["", "CS1", "CS2." + SIGNED[4:], SIGNED + ".x", "CS1.zz.a.b", "x" * 5000]:
        with pytest.raises((MalformedInput, InvalidSignature)):
            verify_statement(garbage, [KEY.verify_key])


def test_the_signing_ring_signs_with_the_newest_and_publishes_all():
    old, new = SigningKey.generate(), SigningKey.generate()
    ring = SigningRing.parse(f"2026-11-28={new.encode()}, 2025-01-02={old.encode()}")
    assert ring.current.key_id == new.key_id
    assert [(key.key_id, created) for key, created in ring.public_keys()] == [
        (new.key_id, "2026-11-28"), (old.key_id, "2025-01-02")]
    assert SigningRing.parse(ring.encode()).encode() == ring.encode()
    assert "AAAA" not in repr(ring) and new.encode() not in repr(ring)
    for bad in ["", f"28/11/2026={new.encode()}", f"{new.encode()},{new.encode()}", "ed25519:abc"]:
        with pytest.raises(MalformedInput):
            SigningRing.parse(bad)


def test_the_copy_holds_no_metadata_and_no_content_derived_id():
    data = papers.text_pdf(1)
    first, second = render_copy(data, MARKING).pdf, render_copy(data, MARKING).pdf
    pdf = pikepdf.open(__import__("io").BytesIO(first))
    assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
    other = pikepdf.open(__import__("io").BytesIO(render_copy(papers.text_pdf(2), MARKING).pdf))
    assert pdf.trailer.ID == other.trailer.ID  # qpdf's fixed id: the same whatever the paper
    for marker in (b"Attestation", b"Helvetica", b"Producer", b"CreationDate"):
        assert marker not in first
    assert first == second  # nothing random or time-dependent either


def test_hostile_papers_are_bounded():
    with pytest.raises(TooManyPages):
        render_copy(papers.text_pdf(6), MARKING, RenderLimits(max_pages=5))
    with pytest.raises(CorruptFile):
        render_copy(b"", MARKING)
    with pytest.raises(CorruptFile):
        render_copy(b"%PDF-1.7\n" + os.urandom(2000), MARKING)
    with pytest.raises(UnsupportedFileType):
        render_copy(b"GIF89a" + b"\x00" * 100, MARKING)
    with pytest.raises((ImageTooLarge, CorruptFile)):
        render_copy(papers.png_declaring(60_000, 60_000), MARKING)
    with pytest.raises(MediaError):
        render_copy(papers.png_declaring(11_000, 11_000), MARKING)
    # A page declaring 200 × 200 inches is rendered within the pixel bound, not refused.
    huge = render_copy(papers.text_pdf(1, size=(14_400, 14_400)), MARKING)
    (page,) = papers.render_pages(huge.pdf)
    assert page.width * page.width <= RenderLimits().max_page_pixels * 1.01


def test_nothing_is_written_to_disk_and_no_program_is_started(tmp_path, monkeypatch):
    samples = [papers.text_pdf(2), papers.as_png(papers.paper_with_codes((900, 600))),
               papers.as_jpeg(papers.paper_with_codes((900, 600)))]
    render_copy(samples[0], MARKING)  # warm-up: lazy imports may write bytecode caches
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        assert not any(flag in mode for flag in "wax+"), f"write to disk attempted: {file}"
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        assert not flags & write_flags, f"write to disk attempted: {path}"
        return real_os_open(path, flags, *args, **kwargs)

    def no_program(*args, **kwargs):
        raise AssertionError("a program was started")

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in ("system", "popen", "posix_spawn", "posix_spawnp", "fork", "execv", "execve"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, no_program)
    import subprocess

    monkeypatch.setattr(subprocess, "Popen", no_program)
    before = set(os.listdir("/proc/self/fd"))
    for data in samples:
        render_copy(data, MARKING)
    assert list(tmp_path.iterdir()) == []
    # pdfium, zxing and libjpeg are C: no descriptor of theirs is left open either.
    assert set(os.listdir("/proc/self/fd")) <= before | {str(fd) for fd in range(3)}
