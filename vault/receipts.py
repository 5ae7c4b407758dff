"""The consent receipt: one printed A4 page for every share, in the person's language.

It says who can see which papers, why, from and until when, how to end it (in the words of the
buttons: « Mes partages » → « Arrêter ») and the share's reference. Built in memory only, like the
recovery sheet (``vault.sheets``, whose fonts, Arabic shaping and neutral metadata it reuses). The
papers' titles are sealed to the owner: they are printed only when the owner asks, decrypted with the
owner's identity; the grantee's copy names the kinds only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crypto import age
from vault.i18n import N_, Translator
from vault.kinds import kind_for
from vault.policies import Actor
from vault.sheets import (
    CORE_FONTS,
    FONT_FILES,
    LANGUAGES,
    NEUTRAL_PRODUCER,
    RIGHT_TO_LEFT,
    _font_folder,
    _has_right_to_left,
    _SheetPdf,
    _with_french_spacing,
    available_sheet_languages,
)
from vault.shares import ShareView, get_share

DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
RECEIPT_TEXTS = {
    "title": N_("Consigne — receipt of a share"),
    "reference": N_("Reference: %(ref)s"),
    "printed": N_("Printed on %(date)s"),
    "who_title": N_("Who can see your papers"),
    "what_title": N_("Which papers"),
    "why_title": N_("Why"),
    "when_title": N_("From and until when"),
    "from": N_("From %(date)s"),
    "until": N_("Until %(date)s, then it stops by itself."),
    "ended": N_("This share ended on %(date)s."),
    "can_do": N_("This person can see your papers and download a marked copy of them, only for this reason "
                 "and only until this date."),
    "end_title": N_("To stop it before"),
    "end_body": N_("Sign in to Consigne, open « My shares », then press « Stop » next to this share. It stops "
                   "at once."),
    "keep": N_("Keep this receipt: it shows what you agreed to."),
    "no_title": N_("(titles are printed on the owner's receipt only)"),
}
MY_SHARES_BUTTON = N_("My shares")
STOP_BUTTON = N_("Stop")
DATE_FORMAT = "%d/%m/%Y %H:%M"

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 210.0, 297.0, 15.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
TITLE_PT, HEADING_PT, BODY_PT = 20, 14, 12
ARABIC_SCALE = 1.1
MAX_LISTED_PAPERS = 20  # more would not fit one page; the count says the rest


def share_receipt(session: Session, *, actor: Actor, identity: age.X25519Identity | None, share_id: str,
                  now: datetime, language: str, translator: Translator) -> tuple[ShareView, bytes]:
    """The receipt of a share its owner or grantee may see (ShareNotFound otherwise), as PDF bytes."""
    view = get_share(session, actor=actor, identity=identity, share_id=share_id, now=now)
    with_titles = actor.is_person and actor.account_id == view.owner_id
    return view, render_receipt(view, language=language, translator=translator, printed_at=now,
                                with_titles=with_titles)


def receipt_texts(translator: Translator, language: str) -> dict:
    texts = {key: translator.translate(language, message) for key, message in RECEIPT_TEXTS.items()}
    texts["buttons"] = [translator.translate(language, MY_SHARES_BUTTON), translator.translate(language, STOP_BUTTON)]
    return texts


def render_receipt(view: ShareView, *, language: str, translator: Translator, printed_at: datetime,
                   with_titles: bool) -> bytes:
    if language not in LANGUAGES or language not in available_sheet_languages():
        language = "fr"
    texts = receipt_texts(translator, language)
    page = _Receipt(language, texts)
    page.paragraph(texts["title"], TITLE_PT, "B")
    page.latin(texts["reference"] % {"ref": view.id})
    page.paragraph(texts["printed"] % {"date": _when(printed_at)}, BODY_PT)
    page.rule()
    who = view.grantee_name + (f" ({view.organisation_name})" if view.organisation_name else "")
    page.section(texts["who_title"], [who, texts["can_do"]])
    papers = []
    for paper in view.documents[:MAX_LISTED_PAPERS]:
        label = translator.translate(language, kind_for(paper.kind).label)
        papers.append(f"• {label}" + (f" — {paper.title}" if with_titles and paper.title else ""))
    if len(view.documents) > MAX_LISTED_PAPERS:
        papers.append(f"… (+{len(view.documents) - MAX_LISTED_PAPERS})")
    if not with_titles:
        papers.append(texts["no_title"])
    page.section(texts["what_title"], papers)
    page.section(texts["why_title"], [view.purpose.label(lambda message: translator.translate(language, message))])
    when = [texts["from"] % {"date": _when(view.created_at)}, texts["until"] % {"date": _when(view.expires_at)}]
    if view.ended_at is not None:
        when.append(texts["ended"] % {"date": _when(view.ended_at)})
    page.section(texts["when_title"], when)
    page.section(texts["end_title"], [texts["end_body"]], buttons=texts["buttons"])
    page.paragraph(texts["keep"], BODY_PT, "B")
    if page.y > PAGE_HEIGHT - MARGIN:
        raise RuntimeError(f"the {language} receipt does not fit on one page")
    return page.to_bytes(printed_at)


def _when(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_TIMEZONE).strftime(DATE_FORMAT)


class _Receipt:
    def __init__(self, language: str, texts: dict) -> None:
        self.language = language
        self.texts = texts
        self.rtl = language in RIGHT_TO_LEFT
        self.scale = ARABIC_SCALE if self.rtl else 1.0
        self.pdf = _SheetPdf(orientation="P", unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_lang(language)
        self.pdf.add_page()
        folder = _font_folder()
        self.unicode = folder is not None
        if folder is not None:
            for (family, style), name in FONT_FILES.items():
                self.pdf.add_font(family, style, str(folder / name))
        else:
            self.pdf.core_fonts_encoding = "windows-1252"
        self.y = MARGIN

    def _font(self, family: str, style: str, size: float, text: str = "") -> None:
        self.pdf.set_font(family if self.unicode else CORE_FONTS[family], style, size)
        if self.unicode and _has_right_to_left(text):
            self.pdf.set_text_shaping(True, direction="rtl", script="arab", language="ara")
        else:
            self.pdf.set_text_shaping(False)

    def _printable(self, text: str) -> str:
        return text if self.unicode else text.encode("cp1252", "replace").decode("cp1252")

    def paragraph(self, text: str, size: float, style: str = "", x: float = MARGIN,
                  width: float = CONTENT_WIDTH) -> None:
        if self.language == "fr":
            text = _with_french_spacing(text)
        size *= self.scale
        self._font("sans", style, size, text)
        self.pdf.set_xy(PAGE_WIDTH - x - width if self.rtl else x, self.y)
        self.pdf.multi_cell(width, size * 0.3528 * 1.4, self._printable(text), align="R" if self.rtl else "L",
                            new_x="LEFT", new_y="NEXT")
        self.y = self.pdf.get_y() + 1

    def latin(self, text: str) -> None:
        """The reference: left to right in any language, monospace, so it can be read out and typed."""
        self._font("mono", "B", BODY_PT)
        self.pdf.set_xy(MARGIN, self.y)
        self.pdf.multi_cell(CONTENT_WIDTH, BODY_PT * 0.3528 * 1.4, self._printable(text),
                            align="R" if self.rtl else "L", new_x="LEFT", new_y="NEXT")
        self.y = self.pdf.get_y() + 1

    def rule(self) -> None:
        self.pdf.set_line_width(0.6)
        self.pdf.line(MARGIN, self.y + 1, PAGE_WIDTH - MARGIN, self.y + 1)
        self.y += 5

    def section(self, title: str, lines: list[str], buttons: list[str] = ()) -> None:
        self.paragraph(title, HEADING_PT, "B")
        for line in lines:
            self.paragraph(line, BODY_PT, x=MARGIN + 4, width=CONTENT_WIDTH - 4)
        if buttons:
            self._buttons(buttons)
        self.y += 4

    def _buttons(self, labels: list[str]) -> None:
        """The two buttons to press, drawn as on screen, with an arrow between them."""
        x, height = MARGIN + 4, 9.0
        for index, label in enumerate(labels):
            if index:
                self._font("sans", "B", BODY_PT)
                arrow = "←" if self.rtl else "→"
                self.pdf.set_xy(PAGE_WIDTH - x - 10 if self.rtl else x, self.y)
                self.pdf.cell(10, height, arrow if self.unicode else "->", align="C")
                x += 10
            self._font("sans", "B", BODY_PT * self.scale, label)
            width = self.pdf.get_string_width(self._printable(label)) + 10
            left = PAGE_WIDTH - x - width if self.rtl else x
            self.pdf.set_line_width(0.6)
            self.pdf.rect(left, self.y, width, height, round_corners=True, corner_radius=2.5)
            self.pdf.set_xy(left, self.y)
            self.pdf.cell(width, height, self._printable(label), align="C")
            x += width
        self.y += height + 2

    def to_bytes(self, printed_at: datetime) -> bytes:
        # Neutral metadata: no title or subject (they would carry names), the day rather than the moment.
        self.pdf.set_creator(NEUTRAL_PRODUCER)
        self.pdf.set_producer(NEUTRAL_PRODUCER)
        day = printed_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.pdf.set_creation_date(day)
        return bytes(self.pdf.output())


__all__ = ["MY_SHARES_BUTTON", "RECEIPT_TEXTS", "STOP_BUTTON", "render_receipt", "share_receipt"]
