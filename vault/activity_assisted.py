"""The person's activity, assisted recovery lines: who of which organisation did what, named as they were then.

Staff are named by the event's snapshot (``by_name``, ``confirmed_by_name``, ``organisation``), never by a
username looked up now, like the consent lines (``vault.activity_consent``). ``password.reset`` is worded
here only for ``method: "assisted"`` (the recovery package words the other methods).
"""

from __future__ import annotations

from typing import Any

from vault.activity_consent import AN_ORGANISATION, FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE, SOMEONE
from vault.i18n import N_, RIGHT_TO_LEFT, BoundTranslator

ENABLED = N_("You chose to be helped back in by %(organisation)s, if you lose both your password and your sheet.")
DISABLED = N_("%(organisation)s can no longer help you get back in. Its copy of your key is destroyed.")
KEY_LOST = N_("%(organisation)s lost its recovery key: it can no longer help you get back in. You can choose it "
              "again later.")
STARTED = N_("%(worker)s of %(organisation)s started to help you get back in, in person.")
CONFIRMED = N_("%(worker)s of %(organisation)s confirmed they checked your identity in person.")
COMPLETED = N_("%(worker)s and %(other)s of %(organisation)s let you back in, in person. Your old password, "
               "your old sheet and every old sign-in stopped working.")
RESET_ASSISTED = N_("You chose a new password, with the help of two staff members.")
PICTOGRAMS = {
    "assisted_recovery.enabled": "life-buoy",
    "assisted_recovery.disabled": "shield-off",
    "assisted_recovery.started": "users",
    "assisted_recovery.confirmed": "user-check",
    "assisted_recovery.completed": "life-buoy",
    "password.reset": "lock-keyhole",
}


def describe_assisted(action: str, details: Any, words: BoundTranslator) -> tuple[str, str, str | None] | None:
    """(sentence, pictogram, the acting staff member's name then) for an assisted recovery line; None otherwise."""
    if action not in PICTOGRAMS:
        return None
    details = details if isinstance(details, dict) else {}
    if action == "password.reset" and details.get("method") != "assisted":
        return None

    def text(field: str) -> str | None:
        value = details.get(field)
        if not isinstance(value, str) or not value:
            return None
        return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}" if words.language in RIGHT_TO_LEFT else value

    organisation = text("organisation") or words.gettext(AN_ORGANISATION)
    worker = text("by_name") or words.gettext(SOMEONE)
    if action == "assisted_recovery.enabled":
        sentence = words.gettext(ENABLED, organisation=organisation)
    elif action == "assisted_recovery.disabled":
        message = KEY_LOST if details.get("reason") == "key_lost" else DISABLED
        sentence = words.gettext(message, organisation=organisation)
    elif action == "assisted_recovery.started":
        sentence = words.gettext(STARTED, worker=worker, organisation=organisation)
    elif action == "assisted_recovery.confirmed":
        sentence = words.gettext(CONFIRMED, worker=worker, organisation=organisation)
    elif action == "assisted_recovery.completed":
        sentence = words.gettext(COMPLETED, worker=worker, other=text("confirmed_by_name") or words.gettext(SOMEONE),
                                 organisation=organisation)
    else:
        sentence = words.gettext(RESET_ASSISTED)
    staff_name = details.get("by_name") if isinstance(details.get("by_name"), str) else None
    return sentence, PICTOGRAMS[action], staff_name


__all__ = ["PICTOGRAMS", "describe_assisted"]
