"""Languages and translations, one registry for the pages, the API and the PDFs (French first).

Catalogues are ordinary gettext files (``vault/translations/<lang>/LC_MESSAGES/messages.po``, English
source strings) so translators use their usual tools; ``ops/translations.py`` extracts the messages from
the code and templates and updates them. They are compiled in memory at start-up with Babel instead of
shipping ``.mo`` files: no build step can be forgotten on a fresh clone.

Messages with values use named placeholders, ``%(days)s``, the form Jinja's ``gettext`` and Babel's
checks understand. Strings defined away from where they are shown (error classes, kinds of papers) are
marked with ``N_`` (``N_plural`` for a message with plural forms) so extraction finds them; they are
translated where they are shown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "en", "ar")
DEFAULT_LANGUAGE = "fr"
RIGHT_TO_LEFT = frozenset({"ar"})
# Each language named in itself, for the language switch.
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 - the usual gettext name for "mark, translate later"
    """Mark a message for extraction without translating it here."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - as N_
    """Mark a message with plural forms for extraction; translated later with ``ngettext`` and a count."""
    return singular, plural


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def pick_language(*candidates: str | None) -> str:
    """The first supported language among ``candidates`` (explicit choice first), else French."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


@dataclass
class Translator:
    catalogues: dict[str, NullTranslations]

    @classmethod
    def load(cls) -> Translator:
        catalogues: dict[str, NullTranslations] = {}
        folder = resources.files("vault").joinpath("translations")
        for language in LANGUAGES:
            source = folder.joinpath(language, "LC_MESSAGES", f"{DOMAIN}.po")
            if not source.is_file():
                catalogues[language] = NullTranslations()
                continue
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            catalogues[language] = Translations(compiled)
        return cls(catalogues)

    def translate(self, language: str, message: str, **params) -> str:
        translated = self._catalogue(language).gettext(message)
        return translated % params if params else translated

    def translate_plural(self, language: str, singular: str, plural: str, count: int, **params) -> str:
        translated = self._catalogue(language).ngettext(singular, plural, count)
        return translated % {"num": count, **params}

    def for_language(self, language: str) -> BoundTranslator:
        return BoundTranslator(self, pick_language(language))

    def _catalogue(self, language: str) -> NullTranslations:
        return self.catalogues.get(language) or NullTranslations()


@dataclass(frozen=True)
class BoundTranslator:
    """A translator for one language: what a service that writes words for a person is given."""

    translator: Translator
    language: str

    def gettext(self, message: str, **params) -> str:
        return self.translator.translate(self.language, message, **params)

    def ngettext(self, singular: str, plural: str, count: int, **params) -> str:
        return self.translator.translate_plural(self.language, singular, plural, count, **params)

    @property
    def direction(self) -> str:
        return text_direction(self.language)

