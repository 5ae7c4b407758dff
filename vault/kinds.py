"""Names of the kinds of papers (English source strings; the catalogues give French, Arabic…).

In ``vault`` so that the API, the pages and the activity sentences name a kind with the same words.
"""

from vault.i18n import N_

KIND_LABELS = {
    "carte_identite": N_("Identity card"),
    "passeport": N_("Passport"),
    "titre_sejour": N_("Residence permit or receipt (récépissé)"),
    "acte_naissance": N_("Birth certificate"),
    "livret_famille": N_("Family record book"),
    "carte_vitale": N_("Carte Vitale or health insurance certificate"),
    "attestation_caf": N_("CAF or RSA certificate"),
    "attestation_domiciliation": N_("Proof of address (domiciliation)"),
    "avis_imposition": N_("Tax notice"),
    "rib": N_("Bank details (RIB)"),
    "bulletin_salaire": N_("Payslip"),
    "permis_conduire": N_("Driving licence"),
    "certificat_medical": N_("Medical certificate"),
    "autre": N_("Other paper"),
}


def kind_label(words, kind: str | None) -> str | None:
    """The kind's name in the language of ``words`` (a BoundTranslator); None for no or an unknown kind."""
    message = KIND_LABELS.get(kind) if kind else None
    return words.gettext(message) if message else None
