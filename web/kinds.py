"""Names of the kinds of papers (English source strings; the catalogues give French, Arabic…)."""

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
