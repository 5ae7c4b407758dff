"""Files the vault ships with its code: the recovery sheet's texts, one entry per language."""
