"""Translation tooling: extract the messages from the code and templates, update each language.

    .venv/bin/python -m ops.translations extract   # rewrite vault/translations/messages.pot
    .venv/bin/python -m ops.translations update    # … then merge it into fr, en and ar (new ones empty)
    .venv/bin/python -m ops.translations check     # list messages missing in a language (exit 1 if any)
    .venv/bin/python -m ops.translations fill FILE.json   # set translations from {"fr": {"msgid": "…"}}

Translators then fill the empty ``msgstr`` in ``vault/translations/<lang>/LC_MESSAGES/messages.po`` with
their usual tools (Poedit, Weblate…). English is the source language: its catalogue may leave a message
empty, which shows the source text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from babel.messages.pofile import read_po, write_po

from vault.i18n import DOMAIN, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "vault" / "translations"
TEMPLATE = CATALOGUES / f"{DOMAIN}.pot"
KEYWORDS = ["_", "N_", "N_plural:1,2", "gettext", "ngettext:1,2"]
SOURCES = ["vault", "web", "ops"]


def extract(output: Path = TEMPLATE) -> None:
    arguments = ["pybabel", "-q", "extract", "-F", str(ROOT / "ops" / "babel.cfg"), "--no-default-keywords",
                 "--sort-by-file", "--omit-header", "--no-location", "-o", str(output)]
    for keyword in KEYWORDS:
        arguments += ["-k", keyword]
    CommandLineInterface().run(arguments + [str(ROOT / source) for source in SOURCES])


def update() -> None:
    for language in LANGUAGES:
        CommandLineInterface().run(["pybabel", "-q", "update", "-i", str(TEMPLATE), "-d", str(CATALOGUES),
                                    "-D", DOMAIN, "-l", language, "--no-fuzzy-matching", "--ignore-obsolete",
                                    "--omit-header"])


def missing_messages() -> dict[str, list[str]]:
    """For each language but English, the template's messages it does not translate (or only fuzzily)."""
    with TEMPLATE.open("rb") as handle:
        wanted = [message.id for message in read_po(handle) if message.id]
    missing = {}
    for language in LANGUAGES:
        if language == "en":
            continue
        with (CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        gaps = []
        for message_id in wanted:
            message = catalogue.get(message_id)
            strings = message.string if message is not None else None
            strings = strings if isinstance(strings, tuple) else (strings,)
            if message is None or message.fuzzy or not all(strings):
                gaps.append(message_id if isinstance(message_id, str) else message_id[0])
        missing[language] = gaps
    return missing


def fill(translations: dict[str, dict[str, str | list[str]]]) -> None:
    """Write the given translations into the catalogues (a list gives the plural forms)."""
    for language, strings in translations.items():
        path = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        for message in catalogue:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if message.id and key in strings:
                value = strings[key]
                message.string = tuple(value) if isinstance(value, list) else value
                message.flags.discard("fuzzy")
        with path.open("wb") as handle:
            write_po(handle, catalogue, omit_header=True, sort_output=False, ignore_obsolete=True, width=110)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        extract()
    elif command == "update":
        extract()
        update()
    elif command == "fill" and len(argv) == 2:
        fill(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    elif command == "check":
        missing = missing_messages()
        for language, gaps in missing.items():
            for message in gaps:
                print(f"{language}: {message}")
        return 1 if any(missing.values()) else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
