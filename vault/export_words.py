"""The README of an export, in the person's language (short sentences: it may be read years later,
without Consigne, by someone helping the person).

The ``age`` commands were checked with Debian's age 1.1.1: an identity file encrypted with a passphrase
is accepted by ``-i`` directly (age asks the passphrase), and ``age -d identity.age`` writes it out
in clear for tools that need it.
"""

from __future__ import annotations

from vault.i18n import N_, BoundTranslator

ZIP_README = (
    N_("Your papers from Consigne"),
    N_("This archive holds a copy of everything that was in your Consigne locker on the day you took it out."),
    N_("The folder \"papers\" holds each of your papers, in the format you gave it (PDF or photo). Open them "
       "like any other file."),
    N_("The file consigne.json lists your papers (kind, title, dates), your shares (with whom, why, until "
       "when) and the activity of your locker."),
    N_("Keep this archive in a safe place: anyone who has it can read your papers."),
)
AGE_README = (
    N_("Your papers from Consigne, encrypted"),
    N_("This archive holds your papers exactly as Consigne stored them: encrypted with age "
       "(https://age-encryption.org). Nobody can read them without your key and the passphrase you chose."),
    N_("identity.age is your key, protected by your passphrase. The folder \"papers\" holds your papers. "
       "consigne.json.age lists your papers, your shares and your activity."),
    N_("To open a paper, install age, then type (age asks for your passphrase):"),
    "age -d -i identity.age -o papers/001-carte_identite.pdf papers/001-carte_identite.pdf.age",
    "age -d -i identity.age -o consigne.json consigne.json.age",
    N_("Or write your key in clear once, then use it without the passphrase (delete identity.txt afterwards: "
       "it opens every paper):"),
    "age -d -o identity.txt identity.age",
    "age -d -i identity.txt -o papers/001-carte_identite.pdf papers/001-carte_identite.pdf.age",
    N_("If you forget the passphrase, nobody can open these files: not Consigne, not anyone else."),
)


def readme_text(words: BoundTranslator, export_format: str) -> str:
    """The README for ``export_format`` ("zip" or "age"); commands are never translated."""
    lines = ZIP_README if export_format == "zip" else AGE_README
    translated = [line if line.startswith("age ") else words.gettext(line) for line in lines]
    return "\n\n".join(translated) + "\n"


__all__ = ["AGE_README", "ZIP_README", "readme_text"]
