"""Names of the kinds of papers (English source strings; the catalogues give French, Arabic…)."""

KIND_LABELS = {
    "carte_identite": "Identity card",
    "passeport": "Passport",
    "titre_sejour": "Residence permit or receipt (récépissé)",
    "acte_naissance": "Birth certificate",
    "livret_famille": "Family record book",
    "carte_vitale": "Carte Vitale or health insurance certificate",
    "attestation_caf": "CAF or RSA certificate",
    "attestation_domiciliation": "Proof of address (domiciliation)",
    "avis_imposition": "Tax notice",
    "rib": "Bank details (RIB)",
    "bulletin_salaire": "Payslip",
    "permis_conduire": "Driving licence",
    "certificat_medical": "Medical certificate",
    "autre": "Other paper",
}
