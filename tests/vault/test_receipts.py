"""Consent receipts: one A4 page, read back with pdftotext, in French, English and Arabic."""

from __future__ import annotations

import subprocess

import pikepdf
import pytest

from tests.vault.test_shares_service import CAF, grant, world  # noqa: F401 - the fixture
from vault import receipts
from vault.errors import ShareNotFound
from vault.i18n import Translator
from vault.kinds import kind_for

TRANSLATOR = Translator.load()


# pdftotext marks right-to-left runs with Unicode embedding controls: without them, Latin names read as typed.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def text_of(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return text.decode().translate(BIDI_CONTROLS)


def receipt(services, who, share_id, language="fr"):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return receipts.share_receipt(uow.session, actor=current.actor, identity=current.identity, share_id=share_id,
                                      now=services.now, language=language, translator=TRANSLATOR)[1]


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_the_owner_receipt_says_who_what_why_until_and_how_to_end(services, world, language):  # noqa: F811
    view = grant(services, world["person"], "marie", [world["card"].id, world["payslip"].id])
    pdf = receipt(services, world["person"], view.id, language)
    assert len(pikepdf.open(__import__("io").BytesIO(pdf)).pages) == 1
    text = " ".join(text_of(pdf).split())
    words = lambda message: " ".join(TRANSLATOR.translate(language, message).split())  # noqa: E731
    # In Arabic, pdftotext gives the visual order: the name's brackets come out mirrored around it.
    assert ("marie (Les Lilas)" if language != "ar" else ")marie (Les Lilas") in text and view.id in text
    assert "Ma carte" in text and "Mars" in text  # titles, decrypted for the owner
    if language != "ar":  # pdftotext reorders shaped Arabic; the Latin parts above are enough there
        assert words(kind_for("carte_identite").label) in text
        assert words(CAF.label(lambda m: TRANSLATOR.translate(language, m))) in text
        assert words(receipts.MY_SHARES_BUTTON) in text and words(receipts.STOP_BUTTON) in text
    assert "%PDF" in pdf[:8].decode() and b"/Title" not in pdf


def test_the_grantee_receipt_has_no_titles(services, world):  # noqa: F811
    view = grant(services, world["person"], "marie", [world["card"].id])
    text = text_of(receipt(services, world["worker"], view.id, "en"))
    assert "Ma carte" not in text and "Identity card" in text and view.id in text


def test_others_get_no_receipt(services, world):  # noqa: F811
    view = grant(services, world["person"], "marie", [world["card"].id])
    for who in ("colleague", "foreign", "other"):
        with pytest.raises(ShareNotFound):
            receipt(services, world[who], view.id)
