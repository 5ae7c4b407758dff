"""The purposes papers may be asked for: a preset list in plain words, registered per organisation.

A share, an access request and a duplicate each carry one purpose: a preset code (its words are
translated where they are shown) or "other" with the organisation's own text. An organisation may ask
only for purposes it registered; a request for another is refused (as the EU identity wallet warns when a
request asks for more than was registered).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vault.errors import InvalidInput, PurposeNotRegistered
from vault.i18n import N_
from vault.models import Purpose as PurposeRow


@dataclass(frozen=True)
class PresetPurpose:
    code: str
    label: str  # English source text; translate where it is shown
    pictogram: str  # a Lucide icon name (ops/icons.py)


PRESETS = (
    PresetPurpose("caf_rsa", N_("CAF or RSA file"), "hand-coins"),
    PresetPurpose("domiciliation", N_("Proof of address (domiciliation)"), "mailbox"),
    PresetPurpose("prefecture", N_("Préfecture (residence permit)"), "stamp"),
    PresetPurpose("france_travail", N_("France Travail (work and job seeking)"), "briefcase"),
    PresetPurpose("health", N_("Health or hospital"), "heart-pulse"),
    PresetPurpose("housing", N_("Housing"), "house"),
    PresetPurpose("other", N_("Other"), "file"),
)
PRESETS_BY_CODE = {preset.code: preset for preset in PRESETS}
OTHER = "other"
MAX_OTHER_TEXT = 200


@dataclass(frozen=True)
class PurposeChoice:
    """One purpose: a preset code, plus the organisation's words when the code is "other"."""

    code: str
    text: str | None = None

    def label(self, gettext) -> str:
        """The purpose in the reader's language (``gettext`` from vault.i18n): the text for "other"."""
        if self.code == OTHER and self.text:
            return self.text
        return gettext(PRESETS_BY_CODE[self.code].label) if self.code in PRESETS_BY_CODE else self.code


def check_purpose_choice(code: object, text: object = None) -> PurposeChoice:
    """A well-formed purpose, or InvalidInput(field="purpose")."""
    if not isinstance(code, str) or code not in PRESETS_BY_CODE:
        raise InvalidInput(field="purpose", choices=[preset.code for preset in PRESETS])
    if code != OTHER:
        return PurposeChoice(code)
    if not isinstance(text, str) or not " ".join(text.split()):
        raise InvalidInput(field="purpose_text")
    text = " ".join(text.split())
    if len(text) > MAX_OTHER_TEXT:
        raise InvalidInput(field="purpose_text", maximum=MAX_OTHER_TEXT)
    return PurposeChoice(OTHER, text)


def registered_purposes(session: Session, organisation_id: str) -> list[PurposeChoice]:
    """The organisation's purposes, in the preset order, its own "other" texts last."""
    rows = session.execute(select(PurposeRow.code, PurposeRow.text)
                           .where(PurposeRow.organisation_id == organisation_id))
    order = {preset.code: index for index, preset in enumerate(PRESETS)}
    choices = [PurposeChoice(code, text) for code, text in rows]
    return sorted(choices, key=lambda choice: (order.get(choice.code, len(order)), choice.text or ""))


def replace_purposes(session: Session, *, organisation_id: str, choices: list[PurposeChoice],
                     now: datetime) -> list[PurposeChoice]:
    """Register exactly ``choices`` (the caller has checked the actor may manage the organisation).

    Shares and requests already made keep the purpose they were made with (they copy it).
    """
    unique = list(dict.fromkeys(choices))
    session.execute(delete(PurposeRow).where(PurposeRow.organisation_id == organisation_id)
                    .execution_options(synchronize_session=False))
    for choice in unique:
        session.add(PurposeRow(organisation_id=organisation_id, code=choice.code, text=choice.text, created_at=now))
    session.flush()
    return registered_purposes(session, organisation_id)


def require_registered(session: Session, organisation_id: str, choice: PurposeChoice) -> PurposeChoice:
    """``choice`` if the organisation registered it; PurposeNotRegistered otherwise."""
    if choice not in registered_purposes(session, organisation_id):
        raise PurposeNotRegistered()
    return choice


__all__ = ["MAX_OTHER_TEXT", "OTHER", "PRESETS", "PRESETS_BY_CODE", "PresetPurpose", "PurposeChoice",
           "check_purpose_choice", "registered_purposes", "replace_purposes", "require_registered"]
