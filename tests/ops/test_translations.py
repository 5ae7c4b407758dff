"""The catalogues: every message of the template exists in French and Arabic, and the template is up to
date with the code (a message added to a page but never extracted would silently stay in English)."""

from __future__ import annotations

from babel.messages.pofile import read_po

from ops import translations
from vault.i18n import LANGUAGES, Translator


def message_ids(path) -> set:
    with path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_every_message_exists_in_every_language():
    missing = translations.missing_messages()
    assert set(missing) == set(LANGUAGES) - {"en"}
    assert missing == {language: [] for language in missing}


def test_the_template_is_up_to_date_with_the_code(tmp_path):
    fresh = tmp_path / "messages.pot"
    translations.extract(fresh)
    assert message_ids(fresh) == message_ids(translations.TEMPLATE)


def test_plural_forms_follow_each_language():
    translator = Translator.load()
    one, many = "Expires in %(num)s day: renew it", "Expires in %(num)s days: renew it"
    assert translator.translate_plural("fr", one, many, 1) == "Expire dans 1 jour : à renouveler"
    assert translator.translate_plural("fr", one, many, 20) == "Expire dans 20 jours : à renouveler"
    assert translator.translate_plural("ar", one, many, 2) == "تنتهي بعد يومين: جدِّدها"
