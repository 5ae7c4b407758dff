"""Specimen papers for the demo: real images and PDFs, fictional, marked SPECIMEN, the same for a seed."""

from __future__ import annotations

import io
import subprocess

import pikepdf
import pytest
from PIL import Image

from tests.lanes import require_program
from vault.errors import InvalidInput, UnknownDocumentKind
from vault.specimens import ATTESTATION_KINDS, CARD_SIZE, KINDS, render_specimen, render_specimen_pdf

NAME = "Camille EXEMPLE"


def red_share(image: Image.Image) -> float:
    """The share of pixels that are clearly red: the watermark's, since the papers use no red."""
    small = image.convert("RGB").resize((200, round(200 * image.height / image.width)))
    data = small.tobytes()
    pixels = [data[index:index + 3] for index in range(0, len(data), 3)]
    red = sum(1 for r, g, b in pixels if r > 150 and r - g > 50 and r - b > 50)
    return red / len(pixels)


@pytest.mark.parametrize("kind", KINDS)
def test_each_specimen_is_a_real_jpeg_with_a_red_watermark(kind):
    data, media_type = render_specimen(kind, name=NAME, seed=1)
    assert media_type == "image/jpeg"
    assert data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG"
        assert not image.getexif()  # nothing about a device or a place
        if kind.startswith("carte_identite"):
            assert image.size == CARD_SIZE
        else:
            assert image.height > image.width  # a page
        assert red_share(image) > 0.05


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_bytes_and_another_seed_another_paper(kind):
    first, _ = render_specimen(kind, name=NAME, seed=7)
    again, _ = render_specimen(kind, name=NAME, seed=7)
    other, _ = render_specimen(kind, name=NAME, seed=8)
    assert first == again
    assert first != other


@pytest.mark.parametrize("kind", ATTESTATION_KINDS)
def test_attestation_pdfs_say_specimen_and_name_the_fictional_holder(kind):
    pdf = render_specimen_pdf(kind, name=NAME)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 1
        assert str(document.docinfo["/Title"]).startswith("SPECIMEN")
    program = require_program("pdftotext", "poppler-utils")
    text = subprocess.run([program, "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode()
    assert "SPECIMEN" in text
    assert "fictif" in text
    assert "Camille EXEMPLE" in text
    assert render_specimen_pdf(kind, name=NAME) == pdf  # deterministic


def test_the_name_reaches_the_paper():
    # The name reaches the card: two different names give two different pictures for the same seed.
    camille, _ = render_specimen("carte_identite_recto", name=NAME, seed=1)
    dominique, _ = render_specimen("carte_identite_recto", name="Dominique MODÈLE", seed=1)
    assert camille != dominique


@pytest.mark.parametrize("kind", ["passeport", "", "carte_identite"])
def test_an_unknown_kind_is_refused(kind):
    with pytest.raises(UnknownDocumentKind):
        render_specimen(kind, name=NAME, seed=1)


def test_only_attestations_come_as_pdf():
    with pytest.raises(UnknownDocumentKind):
        render_specimen_pdf("carte_identite_recto", name=NAME)


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "Camille\nEXEMPLE"])
def test_a_bad_name_is_refused(name):
    with pytest.raises(InvalidInput):
        render_specimen("attestation_caf", name=name, seed=1)
