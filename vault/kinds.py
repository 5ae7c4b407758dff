"""The kinds of papers: domain data shared by the API, the pages and, later, the PDFs.

Each kind has a stable code (stored in clear with each paper: requests and reminders need it), an
English label marked for translation, and a pictogram (a Lucide icon name, see ops/icons.py) for people
who read little. The order is the one a person most likely looks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.i18n import N_


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # English source text; translate where it is shown
    pictogram: str


KINDS = (
    Kind("carte_identite", N_("Identity card"), "id-card"),
    Kind("passeport", N_("Passport"), "book-user"),
    Kind("titre_sejour", N_("Residence permit or receipt (récépissé)"), "stamp"),
    Kind("acte_naissance", N_("Birth certificate"), "baby"),
    Kind("livret_famille", N_("Family record book"), "users"),
    Kind("carte_vitale", N_("Carte Vitale or health insurance certificate"), "heart-pulse"),
    Kind("attestation_caf", N_("CAF or RSA certificate"), "hand-coins"),
    Kind("attestation_domiciliation", N_("Proof of address (domiciliation)"), "mailbox"),
    Kind("avis_imposition", N_("Tax notice"), "receipt"),
    Kind("rib", N_("Bank details (RIB)"), "landmark"),
    Kind("bulletin_salaire", N_("Payslip"), "banknote"),
    Kind("permis_conduire", N_("Driving licence"), "car"),
    Kind("certificat_medical", N_("Medical certificate"), "stethoscope"),
    Kind("autre", N_("Other paper"), "file"),
)
KINDS_BY_CODE = {kind.code: kind for kind in KINDS}
DOCUMENT_KINDS = tuple(kind.code for kind in KINDS)


def kind_for(code: str) -> Kind:
    """The kind with this code; an unknown code (none should be stored) reads as « Other paper »."""
    return KINDS_BY_CODE.get(code, KINDS_BY_CODE["autre"])


def kind_label(words, kind: str | None) -> str | None:
    """The kind's name in the language of ``words`` (a BoundTranslator); None for no or an unknown kind."""
    known = KINDS_BY_CODE.get(kind) if kind else None
    return words.gettext(known.label) if known else None
