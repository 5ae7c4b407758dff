"""Translations: French first, then English and Arabic.

Catalogues are ordinary gettext ``.po`` files (``web/translations/<lang>.po``, English source strings) so
translators use their usual tools. They are compiled in memory at start-up with Babel instead of
shipping ``.mo`` files: no build step can be forgotten on a fresh clone.
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
RIGHT_TO_LEFT = {"ar"}


@dataclass
class Translator:
    catalogues: dict[str, NullTranslations]

    @classmethod
    def load(cls) -> Translator:
        catalogues: dict[str, NullTranslations] = {}
        folder = resources.files("web").joinpath("translations")
        for language in LANGUAGES:
            source = folder.joinpath(f"{language}.po")
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

    def gettext(self, language: str, message: str, **params) -> str:
        translated = self.catalogues.get(language, NullTranslations()).gettext(message)
        return translated.format(**params) if params else translated


def negotiate_language(accept_languages, explicit: str | None = None) -> str:
    """The explicit choice if supported, else the best of Accept-Language, else French."""
    if explicit in LANGUAGES:
        return explicit
    return accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
