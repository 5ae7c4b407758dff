"""Specimen identity papers for the demo data: drawn here, fictional, and marked SPECIMEN all over.

No real person's data and no official emblem: every name, number and place is made up from a seed, the
issuers are openly fictional, and a huge red diagonal « SPECIMEN » crosses each paper so that nobody can
mistake a demo paper, or a screenshot of it, for a real one. The same seed always gives the same bytes.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from vault.errors import InvalidInput, UnknownDocumentKind
from vault.sheets import FONT_FOLDERS

CARD_KINDS = ("carte_identite_recto", "carte_identite_verso")
ATTESTATION_KINDS = ("attestation_domiciliation", "attestation_caf")
KINDS = CARD_KINDS + ATTESTATION_KINDS
CARD_SIZE = (1000, 630)  # the ID-1 card's 85.6 x 54 mm ratio
PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
JPEG_QUALITY = 88
MAX_NAME_LENGTH = 60
WATERMARK = "SPECIMEN"
WATERMARK_RED = (210, 20, 20)
WATERMARK_OPACITY = 135  # of 255: unmistakable, yet the fields under it stay readable
WATERMARK_LENGTH = 0.78  # share of the diagonal, so that the rotated word stays whole on the paper
INK, MUTED, PAPER = (20, 24, 32), (90, 96, 110), (255, 255, 255)
CARD_TINTS = ((214, 230, 244), (226, 238, 226), (240, 228, 238), (244, 236, 220))
# Openly fictional places and issuers.
TOWNS = ("VILLE-EXEMPLE", "BOURG-FICTIF", "SAINT-MODÈLE", "PORT-IMAGINAIRE")
STREETS = ("rue de l'Exemple", "avenue Imaginaire", "place du Modèle", "chemin Fictif")
PDF_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so that the same paper gives the same bytes


@dataclass(frozen=True)
class _Person:
    """A fictional holder, derived from the name and the seed only."""

    given_names: str
    surname: str
    born_on: date
    birthplace: str
    document_number: str
    issued_on: date
    expires_on: date
    street: str
    town: str
    postcode: str
    claimant_number: str
    monthly_amounts: tuple[int, ...]


def render_specimen(kind: str, *, name: str, seed: int) -> tuple[bytes, str]:
    """Return a specimen paper of ``kind`` as (JPEG bytes, "image/jpeg"); the same seed, the same bytes.

    ``kind`` is one of KINDS: an identity card's front or back (card-sized), or an attestation (A4 page).
    """
    person = _fictional_person(name, seed)
    drawers = {"carte_identite_recto": _draw_card_front, "carte_identite_verso": _draw_card_back,
               "attestation_domiciliation": _draw_attestation, "attestation_caf": _draw_attestation}
    if kind not in drawers:
        raise UnknownDocumentKind(kind=kind)
    image = drawers[kind](kind, person, random.Random(seed))
    image = _with_watermark(image)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return output.getvalue(), "image/jpeg"


def render_specimen_pdf(kind: str, *, name: str, seed: int = 1) -> bytes:
    """Return a specimen attestation of ``kind`` (one of ATTESTATION_KINDS) as a one-page A4 PDF."""
    if kind not in ATTESTATION_KINDS:
        raise UnknownDocumentKind(kind=kind)
    person = _fictional_person(name, seed)
    title, issuer, paragraphs, fields = _attestation_text(kind, person)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    family = _pdf_font(pdf)
    pdf.set_text_color(*INK)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 6, issuer, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, f"{WATERMARK} — document fictif, sans valeur", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font(family, "B", 17)
    pdf.multi_cell(0, 9, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, "", 12)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6.5, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.ln(3)
    for label, value in fields:
        pdf.set_font(family, "", 12)
        pdf.cell(70, 8, label, border="B")
        pdf.set_font(family, "B", 12)
        pdf.cell(0, 8, value, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font(family, "", 12)
    pdf.cell(0, 7, f"Fait à {person.town}, le {person.issued_on:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.5)
    stamp_y = pdf.get_y() + 22
    pdf.circle(160, stamp_y, 18, style="D")  # the fictional issuer's stamp
    pdf.set_font(family, "B", 9)
    pdf.set_xy(142, stamp_y - 3)
    pdf.cell(36, 6, "CACHET FICTIF", align="C")
    _stamp_pdf_watermark(pdf, family)
    pdf.set_title(f"{WATERMARK} — {title}")
    pdf.set_creator("Consigne (demo data)")
    pdf.set_producer("Consigne")
    pdf.set_creation_date(PDF_DATE)
    return bytes(pdf.output())


def _stamp_pdf_watermark(pdf: FPDF, family: str) -> None:
    """The huge red diagonal SPECIMEN, see-through, over everything on the page."""
    centre_x, centre_y = pdf.w / 2, pdf.h / 2
    probe = 100
    pdf.set_font(family, "B", probe)
    size = probe * WATERMARK_LENGTH * math.hypot(pdf.w, pdf.h) / pdf.get_string_width(WATERMARK)
    pdf.set_font(family, "B", size)
    width = pdf.get_string_width(WATERMARK)
    angle = math.degrees(math.atan2(pdf.h, pdf.w))
    with (pdf.local_context(fill_opacity=WATERMARK_OPACITY / 255, text_color=WATERMARK_RED),
          pdf.rotation(angle, x=centre_x, y=centre_y)):
        # text() takes the baseline: lower it by about a third of the size to centre the capitals.
        pdf.text(centre_x - width / 2, centre_y + size * 0.3528 / 3, WATERMARK)


def _fictional_person(name: str, seed: int) -> _Person:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput(field="name")
    words = name.split()
    surname_words = [word for word in words if word.isupper()] or words[-1:]
    given_words = [word for word in words if word not in surname_words] or ["Camille"]
    rng = random.Random(seed)
    born_on = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    issued_on = date(2021, 1, 1) + timedelta(days=rng.randrange(0, 365 * 4))
    return _Person(
        given_names=" ".join(given_words), surname=" ".join(surname_words).upper(), born_on=born_on,
        birthplace=rng.choice(TOWNS), document_number=f"SPEC{rng.randrange(10**7, 10**8)}",
        issued_on=issued_on, expires_on=issued_on.replace(year=issued_on.year + 10) - timedelta(days=1),
        street=f"{rng.randrange(1, 99)} {rng.choice(STREETS)}", town=rng.choice(TOWNS),
        postcode=f"00{rng.randrange(100, 999)}", claimant_number=f"{rng.randrange(1000000, 9999999)}",
        monthly_amounts=tuple(rng.randrange(30000, 70000) for _ in range(3)))


def _attestation_text(kind: str, person: _Person) -> tuple[str, str, list[str], list[tuple[str, str]]]:
    """Title, issuer, paragraphs and fields of an attestation: the same words on the image and the PDF."""
    holder = f"{person.given_names} {person.surname}"
    if kind == "attestation_domiciliation":
        until = person.issued_on.replace(year=person.issued_on.year + 1) - timedelta(days=1)
        return (
            "Attestation d'élection de domicile",
            f"CCAS de {person.town.title()} (organisme fictif)",
            [(f"Le centre communal d'action sociale atteste que {holder}, "
              f"né(e) le {person.born_on:%d/%m/%Y}, "
              "est domicilié(e) à l'adresse ci-dessous pour recevoir son courrier."),
             "Cette attestation permet de faire valoir ses droits (modèle de démonstration)."],
            [("Adresse de domiciliation", f"CCAS, {person.street}"),
             ("Commune", f"{person.postcode} {person.town}"),
             ("Valable du", f"{person.issued_on:%d/%m/%Y} au {until:%d/%m/%Y}")])
    months = [(person.issued_on.replace(day=1) - timedelta(days=31 * offset)).strftime("%m/%Y")
              for offset in range(len(person.monthly_amounts))]
    return (
        "Attestation de paiement",
        "Caisse d'allocations familiales de démonstration (organisme fictif)",
        [(f"La caisse atteste que {holder}, né(e) le {person.born_on:%d/%m/%Y}, a perçu les sommes "
          "ci-dessous (montants fictifs).")],
        [("Numéro d'allocataire", f"SPEC {person.claimant_number}"),
         *((f"Paiement {month}", f"{amount / 100:.2f} €".replace(".", ","))
           for month, amount in zip(months, person.monthly_amounts, strict=True))])


# --- drawing ---------------------------------------------------------------------------------------------
def _font(size: int, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = f"DejaVuSans{'Mono' if mono else ''}{'-Bold' if bold else ''}.ttf"
    for folder in FONT_FOLDERS:
        if (Path(folder) / name).is_file():
            return ImageFont.truetype(str(Path(folder) / name), size)
    return ImageFont.load_default(size)


def _pdf_font(pdf: FPDF) -> str:
    for folder in FONT_FOLDERS:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("specimen", "", str(regular))
            pdf.add_font("specimen", "B", str(bold))
            return "specimen"
    pdf.core_fonts_encoding = "windows-1252"
    return "helvetica"


def _draw_fields(draw: ImageDraw.ImageDraw, x: int, y: int, fields: list[tuple[str, str]], size: int,
                 step: int) -> None:
    for label, value in fields:
        draw.text((x, y), label, font=_font(size - 6), fill=MUTED)
        draw.text((x, y + size - 2), value, font=_font(size, bold=True), fill=INK)
        y += step


def _card(kind: str, rng: random.Random) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    tint = rng.choice(CARD_TINTS)
    image = Image.new("RGB", CARD_SIZE, tint)
    draw = ImageDraw.Draw(image)
    width, height = CARD_SIZE
    for offset in range(-height, width, 28):  # a fine guilloche-like hatching, drawn, not copied
        draw.line([(offset, height), (offset + height, 0)], fill=tuple(max(0, c - 14) for c in tint), width=1)
    draw.rectangle([0, 0, width, 78], fill=(40, 60, 110))
    side = "recto" if kind.endswith("recto") else "verso"
    draw.text((28, 18), f"CARTE D'IDENTITÉ — {WATERMARK} ({side})", font=_font(32, bold=True), fill=PAPER)
    draw.text((28, height - 40), "Modèle fictif sans valeur, pour démonstration", font=_font(20), fill=MUTED)
    return image, draw


def _draw_card_front(kind: str, person: _Person, rng: random.Random) -> Image.Image:
    image, draw = _card(kind, rng)
    _draw_portrait(image, (40, 110, 300, 450), rng)
    _draw_fields(draw, 340, 104, [
        ("NOM / Surname", person.surname), ("Prénom(s) / Given names", person.given_names),
        ("Date de naissance", f"{person.born_on:%d %m %Y}"), ("Lieu de naissance", person.birthplace),
        ("N° du document", person.document_number)], size=30, step=74)
    draw.text((40, 470), "Signature", font=_font(20), fill=MUTED)
    points = [(60 + step * 14, 530 + int(18 * math.sin(step * 1.3 + rng.random()))) for step in range(14)]
    draw.line(points, fill=INK, width=3)  # a scribble, not anybody's signature
    return image


def _draw_card_back(kind: str, person: _Person, rng: random.Random) -> Image.Image:
    image, draw = _card(kind, rng)
    _draw_fields(draw, 40, 104, [
        ("Adresse", f"{person.street}, {person.postcode} {person.town}"),
        ("Date de délivrance", f"{person.issued_on:%d %m %Y}"),
        ("Date d'expiration", f"{person.expires_on:%d %m %Y}"),
        ("Autorité", "Préfecture de démonstration (fictive)")], size=30, step=74)
    zone = (f"IDSPEC{person.surname}".replace(" ", "<").ljust(30, "<")[:30],
            f"{person.document_number}<<{person.given_names.upper()}".replace(" ", "<").ljust(30, "<")[:30])
    draw.rectangle([0, 430, CARD_SIZE[0], 560], fill=PAPER)
    for line_index, line in enumerate(zone):
        draw.text((40, 445 + 52 * line_index), line, font=_font(34, mono=True), fill=INK)
    return image


def _draw_attestation(kind: str, person: _Person, rng: random.Random) -> Image.Image:
    title, issuer, paragraphs, fields = _attestation_text(kind, person)
    image = Image.new("RGB", PAGE_SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((110, 100), "\n".join(_wrapped(draw, issuer, _font(30, bold=True), PAGE_SIZE[0] - 220)),
              font=_font(30, bold=True), fill=INK)
    draw.text((110, 190), f"{WATERMARK} — document fictif, sans valeur", font=_font(26), fill=MUTED)
    draw.text((110, 260), title, font=_font(48, bold=True), fill=INK)
    y = 370
    for paragraph in paragraphs:
        for line in _wrapped(draw, paragraph, _font(30), PAGE_SIZE[0] - 220):
            draw.text((110, y), line, font=_font(30), fill=INK)
            y += 44
        y += 24
    _draw_fields(draw, 110, y + 20, fields, size=32, step=86)
    y += 20 + 86 * len(fields) + 60
    draw.text((110, y), f"Fait à {person.town}, le {person.issued_on:%d/%m/%Y}", font=_font(30), fill=INK)
    centre = (900 + rng.randrange(-20, 20), y + 150)
    draw.ellipse([centre[0] - 110, centre[1] - 110, centre[0] + 110, centre[1] + 110], outline=(40, 60, 110),
                 width=6)
    draw.text(centre, "CACHET FICTIF", font=_font(22, bold=True), fill=(40, 60, 110), anchor="mm")
    return image


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            candidate = word
        current = candidate
    return [*lines, current] if current else lines


def _draw_portrait(image: Image.Image, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """A faceless silhouette: the shape of a photo, never a face."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    portrait = Image.new("RGB", (width, height), (222, 226, 232))
    draw = ImageDraw.Draw(portrait)
    centre_x, head = width // 2, rng.randrange(54, 66)
    head_y = height * 2 // 5
    shade = (rng.randrange(80, 120),) * 3
    draw.ellipse([centre_x - 120, head_y + head + 14, centre_x + 120, height + 170], fill=shade)
    draw.ellipse([centre_x - head, head_y - head, centre_x + head, head_y + head], fill=shade)
    draw.rectangle([0, 0, width - 1, height - 1], outline=MUTED, width=2)
    image.paste(portrait, (left, top))


def _with_watermark(image: Image.Image) -> Image.Image:
    """Stamp a huge red SPECIMEN from corner to corner."""
    width, height = image.size
    diagonal = math.hypot(width, height)
    probe = 100
    size = int(probe * WATERMARK_LENGTH * diagonal / _font(probe, bold=True).getlength(WATERMARK))
    font = _font(size, bold=True)
    left, top, right, bottom = font.getbbox(WATERMARK)
    text = Image.new("RGBA", (right - left + 40, bottom - top + 40), (0, 0, 0, 0))
    ImageDraw.Draw(text).text((20 - left, 20 - top), WATERMARK, font=font,
                              fill=(*WATERMARK_RED, WATERMARK_OPACITY))
    angle = math.degrees(math.atan2(height, width))
    text = text.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    layer.alpha_composite(text, dest=((width - text.width) // 2, (height - text.height) // 2))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
