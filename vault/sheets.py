"""The recovery sheet: one printed A4 page that gets a person back into their vault.

A shelter worker prints it at enrolment. It carries the username, the sign-in address (also as a QR
code) and the recovery codes, in plain words with drawn pictograms, for people who read little French.
The codes unlock the vault, so the sheet is built in memory only and never written to disk, and nothing
personal goes into the PDF's metadata (no title, subject, keywords, author or content fingerprint).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

import segno
from fpdf import FPDF

from vault.errors import InvalidInput
from vault.i18n import N_, Translator

# Debian's fonts-dejavu-core (or Fedora's and Arch's DejaVu folders): Unicode fonts for « — » and
# Arabic. Without them the sheet falls back to the PDF core fonts (Latin only) and Arabic to French.
FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu-sans-fonts"),
                Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts/TTF"))
FONT_FILES = {("sans", ""): "DejaVuSans.ttf", ("sans", "B"): "DejaVuSans-Bold.ttf",
              ("mono", ""): "DejaVuSansMono.ttf", ("mono", "B"): "DejaVuSansMono-Bold.ttf"}
CORE_FONTS = {"sans": "helvetica", "mono": "courier"}
LANGUAGES = ("fr", "en", "ar")
RIGHT_TO_LEFT = frozenset({"ar"})
# Plain words in short sentences, translated through the catalogues like every page (English source).
# The sheet says only what is true, and a test holds it to that (tests/vault/test_sheets.py): each code
# signs in without the phone or resets a forgotten password, once; the buttons it draws are the labels of
# real links on the site (« J'ai perdu mon accès » on the sign-in page, « Choisir un nouveau mot de
# passe » on that page), in the sheet's language.
SHEET_TEXTS = {
    "title": N_("Consigne — my recovery sheet"),
    "issued": N_("Sheet printed on %(date)s (day/month/year)"),
    "username_label": N_("My username:"),
    "address_label": N_("The address to sign in:"),
    "scan_hint": N_("Or scan the square with a phone."),
    "codes_title": N_("My recovery codes"),
    "codes_hint": N_("Each code works only once: to sign in without your phone, or to choose a new password "
                     "if you forgot it. Cross out the box of a used code."),
    "phone_title": N_("Lost your phone?"),
    "phone_body": N_("Sign in with your password. When the code from your phone is asked, type one of these "
                     "codes instead."),
    "forgot_title": N_("Forgot your password?"),
    "forgot_body": N_("On the site, choose these two buttons, then type your username and one of these codes."),
    "safe_title": N_("Keep this sheet safe"),
    "safe_body": N_("Keep this sheet safe, like a bank card. Do not take a photo of it with a shared phone."),
    "password_note": N_("Your password is NOT on this sheet. Do not write it here."),
    "helped_by": N_("Who helped me: %(organisation)s"),
    "helped_phone": N_("Their phone number:"),
    "or": N_("or"),
}
# The site's buttons the sheet draws: in the sheet's language, and in French too (the site opens in French).
SIGN_IN_BUTTON = N_("Sign in")
LOST_BUTTON = N_("I lost my access")
NEW_PASSWORD_BUTTON = N_("Choose a new password")
# An organisation's name may have 200 characters; the sheet prints at most this many (then « … »), so
# that one line or two hold it whatever the rest of the page.
MAX_ORGANISATION_LENGTH = 60
SHORT_ORGANISATION_LENGTH = 30
PHONE_LINE = "_" * 18  # where the person writes the organisation's phone number by hand

MAX_CODES = 10  # two columns of five: what fits on the page at a readable size
MAX_CODE_LENGTH = 24  # the longest code that fits a column at 12 pt: XXXXX-XXXXX-XXXXX-XXXXX
MAX_USERNAME_LENGTH = 32  # usernames have 3 to 32 characters (vault.accounts)
MAX_URL_LENGTH = 200
ARROW_WIDTH = 9.0  # the drawn arrow between a button and the next one to choose

PAGE_WIDTH, PAGE_HEIGHT, MARGIN, BOTTOM_MARGIN = 210.0, 297.0, 13.0, 10.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
PICTOGRAM = 18.0
TEXT_INDENT = PICTOGRAM + 6.0
QR_SIZE = 36.0
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
# Type sizes in points: nothing under 12 pt, so the sheet reads without glasses off a cheap printer.
TITLE_PT, HEADING_PT, BODY_PT, LABEL_PT = 21, 15, 13, 12
USERNAME_PT, CODE_PT, URL_PT, MIN_FITTED_PT = 24, 19, 14, 12
# DejaVu's Arabic letters look smaller than its Latin ones at the same point size.
ARABIC_SCALE = 1.1
# Spacing is tightened step by step (never the type) until everything fits on the one page.
DENSITIES = (1.0, 0.9, 0.8, 0.7, 0.6)
NEUTRAL_PRODUCER = "Consigne"


def available_sheet_languages() -> tuple[str, ...]:
    """The languages this machine can print a sheet in (Arabic needs uharfbuzz and an Arabic font)."""
    if _font_folder() is not None and importlib.util.find_spec("uharfbuzz") is not None:
        return LANGUAGES
    return tuple(language for language in LANGUAGES if language not in RIGHT_TO_LEFT)


def render_recovery_sheet(*, username: str, sign_in_url: str, recovery_codes: Sequence[str],
                          issued_on: date, language: str = "fr", translator: Translator | None = None,
                          helped_by: str | None = None) -> bytes:
    """Return a one-page A4 PDF of the person's recovery sheet, built in memory only.

    ``language`` is "fr", "en" or "ar"; Arabic falls back to French on a machine that cannot shape
    Arabic (see ``available_sheet_languages``). The password is never on the sheet. ``translator``
    is the application's (the catalogues are loaded once when none is given). ``helped_by``: the name of
    the organisation that helped (assisted enrolment), printed with a line to write its phone number.
    """
    codes = _checked_codes(recovery_codes)
    if not username or len(username) > MAX_USERNAME_LENGTH or not username.isprintable():
        raise InvalidInput(field="username")
    if not sign_in_url or len(sign_in_url) > MAX_URL_LENGTH or not sign_in_url.isprintable():
        raise InvalidInput(field="sign_in_url")
    if language not in LANGUAGES:
        raise InvalidInput(field="language")
    if helped_by is not None:
        helped_by = " ".join(helped_by.split())
        if not helped_by or not helped_by.isprintable():
            raise InvalidInput(field="helped_by")
        helped_by = _shortened(helped_by, MAX_ORGANISATION_LENGTH)
    if language not in available_sheet_languages():
        language = "fr"
    texts = sheet_texts(translator or _catalogues(), language)
    # With the longest address and username, a long organisation name is shortened further, and as a last
    # resort left out (the page then holds everything else): the codes and instructions always come first.
    helpers = [helped_by, _shortened(helped_by, SHORT_ORGANISATION_LENGTH), None] if helped_by else [None]
    for helper, density in itertools.product(helpers, DENSITIES):
        sheet = _Sheet(language, density, texts)
        sheet.draw_header(issued_on)
        sheet.draw_identity(username, sign_in_url)
        sheet.draw_codes(codes)
        sheet.draw_instructions()
        if helper:
            sheet.draw_helped_by(helper)
        if sheet.fits_on_page():
            return sheet.to_bytes(issued_on)
    # Inputs are bounded and long values shrink to fit, so only over-long texts in the JSON get here:
    # fail loudly rather than hand out a sheet whose bottom lines are cut off.
    raise RuntimeError(f"the {language} recovery sheet texts do not fit on one page")


def sheet_texts(translator: Translator, language: str) -> dict:
    """The sheet's sentences in ``language``, and the labels of the buttons it draws."""
    texts = {key: translator.translate(language, message) for key, message in SHEET_TEXTS.items()}
    for key, message in (("sign_in_buttons", SIGN_IN_BUTTON), ("lost_buttons", LOST_BUTTON),
                         ("new_password_buttons", NEW_PASSWORD_BUTTON)):
        labels = [translator.translate(language, message)]
        french = translator.translate("fr", message)
        texts[key] = labels if french in labels else [*labels, french]
    return texts


@functools.lru_cache(maxsize=1)
def _catalogues() -> Translator:
    return Translator.load()


def _shortened(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def _checked_codes(recovery_codes: Sequence[str]) -> list[str]:
    if isinstance(recovery_codes, str):
        raise InvalidInput(field="recovery_codes")
    codes = list(recovery_codes)
    if not 1 <= len(codes) <= MAX_CODES:
        raise InvalidInput(field="recovery_codes")
    for code in codes:
        if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            raise InvalidInput(field="recovery_codes")
    return codes


def _font_folder() -> Path | None:
    for folder in FONT_FOLDERS:
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            return folder
    return None


def _has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(character) in {"R", "AL"} for character in text)


def _with_french_spacing(text: str) -> str:
    """Glue « ? ! : ; » to the word before them, so that a line never starts with one of them."""
    for mark in "?!:;»":
        text = text.replace(f" {mark}", f"\u00a0{mark}")
    return text.replace("« ", "«\u00a0")


class _SheetPdf(FPDF):
    def file_id(self):
        # fpdf2's default /ID is an MD5 of the whole file, codes included: leave no fingerprint of them.
        return None


class _Sheet:
    """Lays the page out top to bottom; ``self.y`` is where the next block starts, in mm."""

    def __init__(self, language: str, density: float, texts: dict) -> None:
        self.language = language
        self.texts = texts
        self.rtl = language in RIGHT_TO_LEFT
        self.scale = ARABIC_SCALE if self.rtl else 1.0
        self.density = density
        self.pdf = _SheetPdf(orientation="P", unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_lang(language)
        self.pdf.add_page()
        self.pdf.set_text_color(*BLACK)
        self.pdf.set_draw_color(*BLACK)
        self.pdf.set_fill_color(*BLACK)
        folder = _font_folder()
        self.unicode = folder is not None
        if folder is not None:
            for (family, style), name in FONT_FILES.items():
                self.pdf.add_font(family, style, str(folder / name))
        else:
            self.pdf.core_fonts_encoding = "windows-1252"
        self.y = MARGIN

    def fits_on_page(self) -> bool:
        return self.y <= PAGE_HEIGHT - BOTTOM_MARGIN

    # --- text helpers ------------------------------------------------------------------------------
    def _font(self, family: str, style: str, size: float, text: str = "") -> None:
        self.pdf.set_font(family if self.unicode else CORE_FONTS[family], style, size)
        if self.unicode and self.rtl and _has_right_to_left(text):
            self.pdf.set_text_shaping(True, direction="rtl", script="arab", language="ara")
        else:
            # Usernames, codes, addresses and Latin labels stay left to right, glyph for glyph.
            self.pdf.set_text_shaping(False)

    def _printable(self, text: str) -> str:
        if self.unicode:
            return text
        return text.encode("cp1252", "replace").decode("cp1252")

    def _x(self, x: float, width: float) -> float:
        """Mirror a box's left edge on right-to-left pages."""
        return PAGE_WIDTH - x - width if self.rtl else x

    def _gap(self, millimetres: float) -> None:
        self.y += millimetres * self.density

    def _paragraph(self, x: float, width: float, text: str, size: float, style: str = "") -> None:
        if self.language == "fr":
            text = _with_french_spacing(text)
        size *= self.scale
        self._font("sans", style, size, text)
        line_height = size * 0.3528 * (1.1 + 0.25 * self.density)  # points to mm, plus leading
        self.pdf.set_xy(self._x(x, width), self.y)
        self.pdf.multi_cell(width, line_height, self._printable(text), align="R" if self.rtl else "L",
                            new_x="LEFT", new_y="NEXT")
        self.y = self.pdf.get_y()

    def _latin_line(self, x: float, width: float, text: str, size: float) -> None:
        """Monospace, shrunk to fit one line; a very long address still wraps rather than overflows."""
        size = self._fitted_size(text, size, width)
        self._font("mono", "B", size)
        self.pdf.set_xy(self._x(x, width), self.y)
        self.pdf.multi_cell(width, size * 0.3528 * 1.35, self._printable(text),
                            align="R" if self.rtl else "L", new_x="LEFT", new_y="NEXT", wrapmode="CHAR")
        self.y = self.pdf.get_y()

    def _fitted_size(self, text: str, size: float, width: float) -> float:
        """The largest monospace size down to MIN_FITTED_PT at which ``text`` fits in ``width``."""
        self._font("mono", "B", size)
        while size > MIN_FITTED_PT and self.pdf.get_string_width(self._printable(text)) > width - 1:
            size -= 0.5
            self._font("mono", "B", size)
        return size

    def _rounded_box(self, x: float, y: float, width: float, height: float, radius: float = 3) -> None:
        self.pdf.set_line_width(0.6)
        self.pdf.rect(x, y, width, height, round_corners=True, corner_radius=radius)

    # --- blocks ------------------------------------------------------------------------------------
    def draw_header(self, issued_on: date) -> None:
        self._paragraph(MARGIN, CONTENT_WIDTH, self.texts["title"], TITLE_PT, "B")
        self._gap(1)
        issued = self.texts["issued"] % {"date": issued_on.strftime("%d/%m/%Y")}
        self._paragraph(MARGIN, CONTENT_WIDTH, issued, BODY_PT)
        self._gap(2)
        self.pdf.set_line_width(0.8)
        self.pdf.line(MARGIN, self.y, PAGE_WIDTH - MARGIN, self.y)
        self._gap(5)

    def draw_identity(self, username: str, sign_in_url: str) -> None:
        top, padding = self.y, 4.0
        text_x, text_width = MARGIN + padding, CONTENT_WIDTH - QR_SIZE - 3 * padding
        self.y += padding
        self._paragraph(text_x, text_width, self.texts["username_label"], LABEL_PT)
        self._latin_line(text_x, text_width, username, USERNAME_PT)
        self._gap(2)
        self._paragraph(text_x, text_width, self.texts["address_label"], LABEL_PT)
        self._latin_line(text_x, text_width, sign_in_url, URL_PT)
        self._paragraph(text_x, text_width, self.texts["scan_hint"], LABEL_PT)
        qr_x = self._x(PAGE_WIDTH - MARGIN - padding - QR_SIZE, QR_SIZE)
        _draw_qr_code(self.pdf, sign_in_url, qr_x, top + padding, QR_SIZE)
        self.y = max(self.y, top + padding + QR_SIZE) + padding
        self._rounded_box(MARGIN, top, CONTENT_WIDTH, self.y - top)
        self._gap(5)

    def draw_codes(self, codes: list[str]) -> None:
        self._section(_draw_key, self.texts["codes_title"], self.texts["codes_hint"], gap_after=2)
        top, row_height, padding = self.y, 9.0 + 1.5 * self.density, 2.5
        rows = (len(codes) + 1) // 2
        column_width = CONTENT_WIDTH / 2
        box, number_width = 7.0, 11.0
        code_width = column_width - padding - box - number_width - 6
        code_pt = min(self._fitted_size(code, CODE_PT, code_width) for code in codes)
        for index, code in enumerate(codes):
            column, row = divmod(index, rows)
            column_x = MARGIN + column * column_width + padding
            row_y = top + padding + row * row_height
            self.pdf.set_line_width(0.5)
            self.pdf.rect(self._x(column_x, box), row_y + (row_height - box) / 2, box, box)
            number_x = column_x + box + 2
            self._font("sans", "B", BODY_PT + 1)
            self.pdf.set_xy(self._x(number_x, number_width), row_y)
            self.pdf.cell(number_width, row_height, f"{index + 1}.", align="R")
            code_x = number_x + number_width + 2
            self._font("mono", "B", code_pt)
            self.pdf.set_xy(self._x(code_x, code_width), row_y)
            self.pdf.cell(code_width, row_height, self._printable(code), align="R" if self.rtl else "L")
        self.y = top + 2 * padding + rows * row_height
        self._rounded_box(MARGIN, top, CONTENT_WIDTH, self.y - top)
        self._gap(6)

    def draw_instructions(self) -> None:
        texts = self.texts
        self._section(_draw_lost_phone, texts["phone_title"], texts["phone_body"], buttons=texts["sign_in_buttons"])
        self._section(_draw_person_asking, texts["forgot_title"], texts["forgot_body"], buttons=texts["lost_buttons"],
                      then=texts["new_password_buttons"])
        self._section(_draw_padlock, texts["safe_title"], texts["safe_body"], texts["password_note"], gap_after=0)

    def draw_helped_by(self, organisation: str) -> None:
        """Who helped, and a line to write their phone number by hand (Consigne keeps no phone numbers)."""
        self._gap(3)
        self.pdf.set_line_width(0.5)
        self.pdf.line(MARGIN, self.y, PAGE_WIDTH - MARGIN, self.y)
        self._gap(2)
        helped = self.texts["helped_by"] % {"organisation": organisation}
        self._paragraph(MARGIN, CONTENT_WIDTH, f"{helped}   {self.texts['helped_phone']} {PHONE_LINE}", BODY_PT, "B")

    def _section(self, pictogram: Callable[[FPDF, float, float, float], None], title: str, body: str,
                 emphasis: str | None = None, buttons: Sequence[str] = (), then: Sequence[str] = (),
                 gap_after: float = 6) -> None:
        top = self.y
        pictogram(self.pdf, self._x(MARGIN, PICTOGRAM), top + 1, PICTOGRAM)
        text_x, text_width = MARGIN + TEXT_INDENT, CONTENT_WIDTH - TEXT_INDENT
        self._paragraph(text_x, text_width, title, HEADING_PT, "B")
        self._gap(1)
        self._paragraph(text_x, text_width, body, BODY_PT)
        if emphasis:
            self._gap(1)
            self._paragraph(text_x, text_width, emphasis, BODY_PT, "B")
        if buttons and then:
            self._gap(2)
            self._draw_paths(text_x, buttons, then)
        elif buttons:
            self._gap(2)
            self._draw_buttons(text_x, buttons)
        self.y = max(self.y, top + PICTOGRAM + 1)
        self._gap(gap_after)

    def _draw_paths(self, x: float, buttons: Sequence[str], then: Sequence[str]) -> None:
        """Two buttons in a row, the second on the page the first opens: [first] → [next], one row per
        language (the sheet's own, then French, which the site opens in). When the French row is wider than
        the text column it starts at the left margin, below the pictogram, rather than take a third row."""
        rows = max(len(buttons), len(then))
        for index in range(rows):
            first, second = buttons[min(index, len(buttons) - 1)], then[min(index, len(then) - 1)]
            prefix = [self.texts["or"]] if index else []
            width = self._row_width(prefix, first, second)
            start = x if x + width <= MARGIN + CONTENT_WIDTH else MARGIN
            if index:
                self._gap(1.5)
            self._draw_row(start, prefix, first, second)

    def _row_width(self, prefix: Sequence[str], first: str, second: str) -> float:
        width = ARROW_WIDTH
        for text in prefix:
            self._font("sans", "", BODY_PT * self.scale, text)
            width += self.pdf.get_string_width(text) + 6
        for label in (first, second):
            self._font("sans", "B", BODY_PT * self.scale, label)
            width += self.pdf.get_string_width(self._printable(label)) + 10
        return width

    def _draw_row(self, x: float, prefix: Sequence[str], first: str, second: str) -> None:
        height = 9.0
        for text in prefix:
            self._font("sans", "", BODY_PT * self.scale, text)
            width = self.pdf.get_string_width(text) + 6
            self.pdf.set_xy(self._x(x, width), self.y)
            self.pdf.cell(width, height, text, align="C")
            x += width
        x = self._draw_box(x, first, height)
        self.pdf.set_line_width(0.6)
        middle, start, end = self.y + height / 2, self._x(x + 1.5, 0), self._x(x + ARROW_WIDTH - 1.5, 0)
        self.pdf.line(start, middle, end, middle)
        tip = -2 if self.rtl else 2
        self.pdf.line(end, middle, end - tip, middle - 2)
        self.pdf.line(end, middle, end - tip, middle + 2)
        self._draw_box(x + ARROW_WIDTH, second, height)
        self.y += height

    def _draw_box(self, x: float, label: str, height: float) -> float:
        """One button at ``x``; returns where it ends."""
        self._font("sans", "B", BODY_PT * self.scale, label)
        width = self.pdf.get_string_width(self._printable(label)) + 10
        self._rounded_box(self._x(x, width), self.y, width, height, radius=2.5)
        self.pdf.set_xy(self._x(x, width), self.y)
        self.pdf.cell(width, height, self._printable(label), align="C")
        return x + width

    def _buttons_width(self, labels: Sequence[str]) -> float:
        width = 0.0
        for index, label in enumerate(labels):
            if index:
                self._font("sans", "", BODY_PT * self.scale, self.texts["or"])
                width += self.pdf.get_string_width(self.texts["or"]) + 6
            self._font("sans", "B", BODY_PT * self.scale, label)
            width += self.pdf.get_string_width(self._printable(label)) + 10
        return width

    def _draw_buttons(self, x: float, labels: Sequence[str], arrow: bool = False) -> None:
        """Draw the site's button as it looks on screen, for people who match shapes more than words.

        ``arrow``: these come after the row above (a drawn arrow, so it reads without words)."""
        height = 9.0
        if arrow:
            self.pdf.set_line_width(0.6)
            middle = self.y + height / 2
            start, end = self._x(x, 0), self._x(x + 6, 0)
            self.pdf.line(start, middle, end, middle)
            tip = -2 if self.rtl else 2
            self.pdf.line(end, middle, end - tip, middle - 2)
            self.pdf.line(end, middle, end - tip, middle + 2)
            x += 9
        for index, label in enumerate(labels):
            if index:
                separator = self.texts["or"]
                self._font("sans", "", BODY_PT * self.scale, separator)
                width = self.pdf.get_string_width(separator) + 6
                self.pdf.set_xy(self._x(x, width), self.y)
                self.pdf.cell(width, height, separator, align="C")
                x += width
            self._font("sans", "B", BODY_PT * self.scale, label)
            width = self.pdf.get_string_width(self._printable(label)) + 10
            self._rounded_box(self._x(x, width), self.y, width, height, radius=2.5)
            self.pdf.set_xy(self._x(x, width), self.y)
            self.pdf.cell(width, height, self._printable(label), align="C")
            x += width
        self.y += height

    def to_bytes(self, issued_on: date) -> bytes:
        pdf = self.pdf
        # Neutral metadata: no title or subject that could carry the username or a code, and the
        # printed date at midnight UTC rather than the exact moment of enrolment.
        pdf.set_creator(NEUTRAL_PRODUCER)
        pdf.set_producer(NEUTRAL_PRODUCER)
        pdf.set_creation_date(datetime.combine(issued_on, time(0, 0), tzinfo=UTC))
        return bytes(pdf.output())


# --- drawn pictograms: vector shapes only, solid black, readable when photocopied ----------------------
def _draw_qr_code(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares, so it stays sharp on any printer."""
    qr = segno.make(text, error="m", micro=False)
    quiet_zone = 2  # the white box around the code on a white page completes the quiet zone
    modules = len(qr.matrix) + 2 * quiet_zone
    module = size / modules
    pdf.set_fill_color(*BLACK)
    for row_index, row in enumerate(qr.matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(x + (start + quiet_zone) * module, y + (row_index + quiet_zone) * module,
                     (column - start) * module + 0.02, module + 0.02, style="F")


def _draw_key(pdf: FPDF, x: float, y: float, s: float) -> None:
    pdf.set_line_width(s * 0.11)
    pdf.circle(x + 0.25 * s, y + 0.5 * s, 0.19 * s, style="D")
    pdf.rect(x + 0.42 * s, y + 0.44 * s, 0.56 * s, 0.12 * s, style="F")
    pdf.rect(x + 0.68 * s, y + 0.5 * s, 0.1 * s, 0.24 * s, style="F")
    pdf.rect(x + 0.86 * s, y + 0.5 * s, 0.12 * s, 0.3 * s, style="F")


def _draw_lost_phone(pdf: FPDF, x: float, y: float, s: float) -> None:
    pdf.set_line_width(s * 0.07)
    pdf.rect(x + 0.27 * s, y + 0.04 * s, 0.46 * s, 0.92 * s, round_corners=True, corner_radius=0.08 * s)
    pdf.set_line_width(s * 0.035)
    pdf.rect(x + 0.34 * s, y + 0.14 * s, 0.32 * s, 0.62 * s)
    pdf.circle(x + 0.5 * s, y + 0.86 * s, 0.04 * s, style="F")
    # A white halo under the cross keeps it readable over the phone's outline.
    for colour, width in ((WHITE, 0.15), (BLACK, 0.085)):
        pdf.set_draw_color(*colour)
        pdf.set_line_width(s * width)
        pdf.line(x + 0.08 * s, y + 0.2 * s, x + 0.92 * s, y + 0.8 * s)
        pdf.line(x + 0.08 * s, y + 0.8 * s, x + 0.92 * s, y + 0.2 * s)
    pdf.set_draw_color(*BLACK)


def _draw_padlock(pdf: FPDF, x: float, y: float, s: float) -> None:
    pdf.set_line_width(s * 0.09)
    pdf.arc(x + 0.28 * s, y + 0.08 * s, 0.44 * s, 180, 360, style="D")
    pdf.line(x + 0.28 * s, y + 0.3 * s, x + 0.28 * s, y + 0.46 * s)
    pdf.line(x + 0.72 * s, y + 0.3 * s, x + 0.72 * s, y + 0.46 * s)
    pdf.rect(x + 0.14 * s, y + 0.44 * s, 0.72 * s, 0.52 * s, style="F", round_corners=True,
             corner_radius=0.06 * s)
    pdf.set_fill_color(*WHITE)
    pdf.circle(x + 0.5 * s, y + 0.64 * s, 0.07 * s, style="F")
    pdf.rect(x + 0.47 * s, y + 0.66 * s, 0.06 * s, 0.16 * s, style="F")
    pdf.set_fill_color(*BLACK)


def _draw_person_asking(pdf: FPDF, x: float, y: float, s: float) -> None:
    pdf.circle(x + 0.32 * s, y + 0.38 * s, 0.14 * s, style="F")
    pdf.rect(x + 0.08 * s, y + 0.58 * s, 0.48 * s, 0.42 * s, style="F", round_corners=True,
             corner_radius=0.16 * s)
    pdf.set_line_width(s * 0.06)
    pdf.circle(x + 0.76 * s, y + 0.24 * s, 0.2 * s, style="D")
    pdf.set_font(pdf.font_family, "B", s * 1.0)
    pdf.set_text_shaping(False)
    pdf.set_xy(x + 0.56 * s, y + 0.04 * s)
    pdf.cell(0.4 * s, 0.4 * s, "?", align="C")
