"""The recovery sheet: one A4 page, readable text, a working QR code, and no secret in its metadata."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import unicodedata
from datetime import date

import pikepdf
import pytest
import segno
from PIL import Image, ImageOps

from tests.lanes import require_program
from vault import sheets
from vault.errors import InvalidInput
from vault.i18n import Translator
from vault.sheets import available_sheet_languages, render_recovery_sheet

USERNAME = "camille.exemple"
URL = "https://consigne.example.org"
CODES = [f"K7QM-{index}F3X-P9T{chr(65 + index)}" for index in range(10)]
ISSUED = date(2026, 11, 23)
# The sentences of the brief, written here again so that the test does not read them from the code.
# What each code does (a sign-in without the phone, or a new password when it is forgotten, once each)
# and the path to a new password: « J'ai perdu mon accès », then « Choisir un nouveau mot de passe ».
FRENCH_INSTRUCTIONS = [
    "Consigne — ma feuille de secours",
    ("Chaque code ne sert qu'une fois : pour vous connecter sans votre téléphone, ou pour choisir un nouveau "
     "mot de passe si vous l'avez oublié."),
    ("Connectez-vous avec votre mot de passe. Quand le code du téléphone est demandé, tapez plutôt un de "
     "ces codes."),
    "Mot de passe oublié ?",
    "J'ai perdu mon accès",
    "Choisir un nouveau mot de passe",
    "Se connecter",
    ("Gardez cette feuille à l'abri, comme une carte bancaire. Ne la photographiez pas dans un téléphone "
     "partagé."),
    "Votre mot de passe n'est PAS sur cette feuille.",
    "23/11/2026",
]
# Promises the sheet made before and no page keeps: a forgotten password is not handled « by going » anywhere
# but through the two buttons, and the sheet never asks for the password itself.
UNTRUE_TODAY = ["oublié votre mot de passe ? Allez", "écrivez votre mot de passe"]
A4_POINTS = (595.28, 841.89)


def render(language: str = "fr", **changes) -> bytes:
    arguments = {"username": USERNAME, "sign_in_url": URL, "recovery_codes": CODES, "issued_on": ISSUED,
                 "language": language} | changes
    return render_recovery_sheet(**arguments)


def text_of(pdf: bytes) -> str:
    """pdftotext's reading of the page, with runs of spaces (also non-breaking ones) made one space."""
    program = require_program("pdftotext", "poppler-utils")
    result = subprocess.run([program, "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    text = unicodedata.normalize("NFKC", result.stdout.decode("utf-8"))
    text = "".join(character for character in text if unicodedata.category(character) != "Cf")
    return re.sub(r"\s+", " ", text)


def page_image(pdf: bytes, dpi: int) -> Image.Image:
    program = require_program("pdftoppm", "poppler-utils")
    result = subprocess.run([program, "-r", str(dpi), "-gray", "-png", "-singlefile", "-"], input=pdf,
                            capture_output=True, check=True, timeout=60)
    return Image.open(io.BytesIO(result.stdout)).convert("L")


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_the_sheet_is_one_a4_page(language):
    with pikepdf.open(io.BytesIO(render(language))) as pdf:
        assert len(pdf.pages) == 1
        box = [float(value) for value in pdf.pages[0].MediaBox]
    assert box[:2] == [0, 0]
    assert box[2:] == pytest.approx(A4_POINTS, abs=1)


def test_the_french_sheet_reads_back_with_username_codes_and_instructions():
    text = text_of(render("fr"))
    assert USERNAME in text
    assert URL in text
    for code in CODES:
        assert code in text
    for number in range(1, 11):
        assert f"{number}." in text
    for sentence in FRENCH_INSTRUCTIONS:
        assert sentence in text
    for promise in UNTRUE_TODAY:
        assert promise not in text


def test_the_english_sheet_reads_back():
    text = text_of(render("en"))
    assert "Consigne — my recovery sheet" in text
    assert USERNAME in text and URL in text
    assert all(code in text for code in CODES)
    assert "Your password is NOT on this sheet." in text


def test_the_arabic_sheet_keeps_latin_values_intact():
    text = text_of(render("ar"))
    assert USERNAME in text and URL in text
    assert all(code in text for code in CODES)
    if "ar" in available_sheet_languages():
        assert "Consigne" in text
        assert "كلمة السر" in text  # "password", shaped then read back as plain letters
        assert "Votre mot de passe" not in text
    else:
        assert "Votre mot de passe n'est PAS sur cette feuille." in text


def test_nothing_personal_or_secret_in_the_metadata():
    pdf_bytes = render("fr")
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        info = {str(key): str(value) for key, value in pdf.docinfo.items()}
        with pdf.open_metadata() as xmp:
            xmp_text = str(xmp)
        has_file_id = "/ID" in pdf.trailer
    assert info.get("/Producer") == "Consigne" and info.get("/Creator") == "Consigne"
    assert not {"/Title", "/Subject", "/Keywords", "/Author"} & set(info)
    assert info["/CreationDate"].startswith("D:20261123000000")  # the printed day, not the minute
    everything = " ".join(info.values()) + xmp_text
    for secret in [USERNAME, *CODES, *(code.replace("-", "") for code in CODES)]:
        assert secret not in everything
    assert not has_file_id  # fpdf2's default /ID is a hash of the content, codes included


def test_the_qr_code_holds_the_sign_in_address():
    # Given the page printed at 300 dpi, cut into bands at the rules and box borders (rows black from side
    # to side) of its right-hand strip, where the QR code sits in the identity box
    image = page_image(render("fr"), dpi=300)
    per_mm = 300 / 25.4
    strip = image.crop((round(150 * per_mm), 0, round(193 * per_mm), round(150 * per_mm)))
    strip = strip.point(lambda value: 255 if value > 128 else 0)
    borders = [row for row in range(strip.height)
               if strip.crop((0, row, strip.width, row + 1)).getextrema()[1] == 0]
    bands = [strip.crop((0, start + 1, strip.width, end)) for start, end in itertools.pairwise(borders)
             if end - start > 1]
    # When the band with the most ink is taken as the QR code's
    corner = max(bands, key=lambda band: band.histogram()[0])
    left, top, right, bottom = ImageOps.invert(corner).getbbox()
    # Then every module sampled at its centre matches the QR code of the address
    matrix = segno.make(URL, error="m", micro=False).matrix
    module = (right - left) / len(matrix)
    assert (bottom - top) / len(matrix) == pytest.approx(module, rel=0.03)
    for row_index, row in enumerate(matrix):
        for column_index, dark in enumerate(row):
            centre = (left + (column_index + 0.5) * module, top + (row_index + 0.5) * module)
            assert (corner.getpixel(centre) < 128) == bool(dark), (row_index, column_index)


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_the_longest_allowed_values_still_fit_on_one_page(language):
    codes = ["WWWWW-WWWWW-WWWWW-WWWWW"] * 10  # MAX_CODE_LENGTH characters of the widest letter
    pdf_bytes = render(language, username="w" * 32, sign_in_url="https://" + "w" * 188 + ".org",
                       recovery_codes=codes)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages) == 1
    text = text_of(pdf_bytes)
    assert text.count(codes[0]) == 10
    assert "w" * 32 in text


def test_a_reprint_with_fewer_codes_numbers_them_from_one():
    text = text_of(render("fr", recovery_codes=CODES[:3]))
    assert all(code in text for code in CODES[:3])
    assert CODES[3] not in text


@pytest.mark.parametrize("changes", [
    {"recovery_codes": []},
    {"recovery_codes": [*CODES, "EXTRA-CODE"]},
    {"recovery_codes": "K7QM-0F3X-P9TA"},
    {"recovery_codes": ["W" * 25]},
    {"recovery_codes": ["K7QM\n0F3X"]},
    {"username": ""},
    {"username": "u" * 33},
    {"sign_in_url": ""},
    {"language": "de"},
])
def test_bad_input_is_refused(changes):
    with pytest.raises(InvalidInput):
        render(**changes)


def test_without_dejavu_the_core_fonts_print_french_and_arabic_falls_back(monkeypatch):
    # A machine without fonts-dejavu-core: Latin-1 core fonts still carry every French accent.
    monkeypatch.setattr(sheets, "FONT_FOLDERS", ())
    assert available_sheet_languages() == ("fr", "en")
    text = text_of(render("ar"))
    assert all(code in text for code in CODES)
    assert "Gardez cette feuille à l'abri, comme une carte bancaire." in text
    assert "Consigne — ma feuille de secours" in text


def test_every_language_has_every_text_in_the_catalogues():
    translator = Translator.load()
    for language in ("fr", "ar"):
        texts = sheets.sheet_texts(translator, language)
        for key, message in sheets.SHEET_TEXTS.items():
            assert texts[key] and texts[key] != message, (language, key)
        assert "%(date)s" in texts["issued"]
    english = sheets.sheet_texts(translator, "en")
    assert english["lost_buttons"] == ["I lost my access", "J'ai perdu mon accès"]
    assert sheets.sheet_texts(translator, "fr")["lost_buttons"] == ["J'ai perdu mon accès"]


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_who_helped_is_printed_with_a_line_for_the_phone_and_still_one_page(language):
    pdf_bytes = render(language, helped_by="  Accueil de jour\nSaint-Martin ")
    text = text_of(pdf_bytes)
    assert "Accueil de jour Saint-Martin" in text
    assert sheets.PHONE_LINE in text
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages) == 1
    # The longest values with a 200-character name: shortened, never a second page, never cut off.
    longest = render(language, username="w" * 32, sign_in_url="https://" + "w" * 188 + ".org",
                     recovery_codes=["WWWWW-WWWWW-WWWWW-WWWWW"] * 10, helped_by="W" * 200)
    with pikepdf.open(io.BytesIO(longest)) as pdf:
        assert len(pdf.pages) == 1
    assert text_of(longest).count("WWWWW-WWWWW-WWWWW-WWWWW") == 10


@pytest.mark.parametrize("helped_by", ["", "   ", "Accueil\x00"])
def test_a_blank_or_unprintable_helper_is_refused(helped_by):
    with pytest.raises(InvalidInput):
        render(helped_by=helped_by)


def test_the_sheet_says_what_each_code_does_and_names_the_forgotten_password_path():
    translator = Translator.load()
    for language in ("en", "fr"):
        texts = sheets.sheet_texts(translator, language)
        text = text_of(render(language))
        for key in ("codes_hint", "forgot_title", "forgot_body"):
            assert " ".join(texts[key].split()) in text.replace("\u00a0", " "), (language, key)
    english = text_of(render("en"))
    assert "to sign in without your phone, or to choose a new password" in english
    assert "Choose a new password" in english and "I lost my access" in english
