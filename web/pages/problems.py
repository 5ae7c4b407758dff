"""What went wrong on a form, in words that say what to do next, tied to the field at fault.

A page's form is re-rendered with a list of ``Problem``: the error summary at the top links to each
field, and each field shows its own message. Service errors (``VaultError``) arrive through
``call.on_error``; a missing field is found by the form itself. Messages are English source strings
translated here into the page's language, with only harmless values (numbers, a file's own name).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from babel.dates import format_timedelta
from flask import g

from vault.errors import AccountLocked, SignInBusy, TooManyAttempts, VaultError
from vault.i18n import N_


@dataclass(frozen=True)
class Problem:
    field: str | None  # the id of the input the summary links to; None for the form as a whole
    message: str
    # What the field itself says, when not the same as the summary; "" for nothing (the summary only
    # leads to the field: nothing was wrong with it).
    inline: str | None = None


# Files: the reason from vault.media, what it means and what to do.
FILE_REASONS = {
    "unsupported_file_type": N_("%(file)s is not a photo or a PDF. Choose a photo (JPEG, PNG, WebP, HEIC) "
                                "or a PDF."),
    "corrupt_file": N_("%(file)s is damaged or empty. Take the photo again, or choose another file."),
    "encrypted_pdf": N_("%(file)s is protected by a password. Open it, print it to a new PDF without a "
                        "password, then add that one."),
    "too_many_pages": N_("%(file)s has too many pages. Keep only the pages of this paper."),
    "pdf_too_complex": N_("%(file)s cannot be checked. Print it to a new PDF, or take photos of its pages."),
    "image_too_large": N_("%(file)s is a picture too big to keep. Take the photo again with a lower "
                          "resolution."),
    "file_too_large": N_("%(file)s is too large: at most %(maximum)s MB. Take the photo again with a lower "
                         "resolution."),
    "document_too_large": N_("These files together are too large: at most %(maximum)s MB for one paper. Send "
                             "fewer pages."),
    "too_many_files": N_("Too many files for one paper: at most %(maximum)s. Keep only the pages of this "
                         "paper."),
    "no_files": N_("Choose the file of your paper, or take a photo of it."),
}
PASSWORD_REASONS = {
    "too_short": N_("Your password is too short: use at least %(minimum)s characters. A few simple words "
                    "make a good password."),
    "too_long": N_("Your password is too long: use at most %(maximum)s characters."),
    "too_common": N_("This password is too common: anybody could guess it. Choose another one, for example "
                     "a few simple words."),
    "contains_username": N_("Your password must not contain your username. Choose another one."),
    "too_predictable": N_("This password is easy to guess: a sequence, a repetition, a name or a date. Choose "
                          "another one, for example a few simple words."),
}
# Errors of a field, whatever the reason: code → (field, message).
FIELD_ERRORS = {
    "invalid_username": ("username", N_("A username has 3 to 32 characters: lowercase letters, digits, dot, "
                                        "dash or underscore. For example: %(suggestion)s")),
    "username_taken": ("username", N_("This username is already taken. Choose another one, for example: "
                                      "%(suggestion)s")),
    "unknown_document_kind": ("kind", N_("Choose the kind of paper in the list.")),
    "invalid_date": ("expires_on", N_("Enter a real date, with the day, the month and the year, for example "
                                      "27 3 2030.")),
    "quota_exceeded": ("file", N_("Your locker is full. Delete papers you no longer need, then try again.")),
}
MISSING = {
    "username": N_("Enter a username."),
    "password": N_("Type a password."),
    "kind": N_("Choose the kind of paper."),
    "current_password": N_("Type your current password: the one you use to sign in."),
    "new_password": N_("Type your new password."),
    "code": N_("Type the code shown in your app: 6 digits."),
}
TOO_LONG = {
    "title": N_("The name is too long: use at most %(maximum)s characters."),
}
# Files left the page when it was sent: the person must choose them again after any error.
CHOOSE_AGAIN = N_("Choose your files again: for your safety, they are not kept after an error.")


def translate(message: str, **params) -> str:
    from web.app import services

    return services().translator.translate(getattr(g, "language", "fr"), message, **params)


def problems_for(error: VaultError, *, file_names: list[str] | None = None, limits=None,
                 suggestion: str | None = None, field_ids: dict[str, str] | None = None) -> list[Problem]:
    """The problems to show for a service error on a form (``limits``: the settings' upload limits)."""
    details = error.details
    reason = details.get("reason")
    field_ids = field_ids or {}
    if error.code in {"unsupported_file", "file_too_large"} and reason in FILE_REASONS:
        return [Problem(field_ids.get("file", "file"), translate(FILE_REASONS[reason],
                                                                 file=_file_name(file_names, details),
                                                                 maximum=_maximum(reason, limits)))]
    if error.code == "weak_password" and reason in PASSWORD_REASONS:
        return [Problem(field_ids.get("password", "password"),
                        translate(PASSWORD_REASONS[reason], minimum=details.get("minimum", 8),
                                  maximum=details.get("maximum", 256)))]
    if error.code in FIELD_ERRORS:
        field, message = FIELD_ERRORS[error.code]
        return [Problem(field_ids.get(field, field), translate(message, suggestion=suggestion or ""))]
    field = details.get("field")
    if error.code == "invalid_input" and field == "title":
        return [Problem("title", translate(TOO_LONG["title"], maximum=details.get("maximum", 120)))]
    if error.code == "invalid_input" and field == "password":
        return [Problem(field_ids.get("password", "password"), translate(PASSWORD_REASONS["too_common"]))]
    return [Problem(field_ids.get(field) if field else None, translate(type(error).message))]


# --- signing in, and asking the current password again before a change -------------------------------
TRY_AGAIN_IN = N_("You can try again in %(wait)s.")
WRONG_SIGN_IN = N_("Wrong username or password. Check both, then try again: capital letters count.")
TOO_MANY_TRIES = N_("Too many tries. For your safety, please wait a little.")
WRONG_CODE = N_("The code is not right, or was already used. Check it and try again: each recovery code "
                "works only once.")
WRONG_CURRENT_PASSWORD = N_("This is not your current password. Nothing was changed. Type the password you use "
                            "to sign in.")
REAUTHENTICATION_LOCKED = N_("You typed a wrong password too many times. For your safety, nothing can be changed "
                             "for %(wait)s. Then try again.")
BUSY = N_("Many people are signing in right now. Nothing was changed. Try again in %(wait)s.")
BUSY_SIGN_IN = N_("Many people are signing in right now.")


def wait_in_words(seconds: int, language: str) -> str:
    """The wait as a person says it (« 14 secondes », « 3 minutes »), never shorter than the real one."""
    if seconds < 60:
        return format_timedelta(timedelta(seconds=max(1, seconds)), granularity="second", threshold=1000,
                                locale=language)
    return format_timedelta(timedelta(minutes=math.ceil(seconds / 60)), granularity="minute", threshold=1000,
                            locale=language)


def wait_of(error: VaultError) -> str:
    return wait_in_words(int(error.details.get("retry_after_seconds") or 60), getattr(g, "language", "fr"))


def sign_in_problems(error: VaultError, *, code_field: str = "otp") -> list[Problem]:
    """What the sign-in pages say for an error: what happened, then (for a wait) when to try again.

    ``code_field``: the box a refused code was typed in (the app's code or a recovery code)."""
    if isinstance(error, AccountLocked):
        # The way in now (password and a recovery code) is on the page, under the password.
        return [Problem("recovery_code", translate(AccountLocked.message), inline=""),
                Problem(None, translate(TRY_AGAIN_IN, wait=wait_of(error)))]
    if isinstance(error, (TooManyAttempts, SignInBusy)):
        message = BUSY_SIGN_IN if isinstance(error, SignInBusy) else TOO_MANY_TRIES
        return [Problem(None, translate(message)), Problem(None, translate(TRY_AGAIN_IN, wait=wait_of(error)))]
    if error.code == "authentication_failed":
        return [Problem("password", translate(WRONG_SIGN_IN))]
    if error.code == "second_factor_failed":
        return [Problem(code_field, translate(WRONG_CODE))]
    return problems_for(error)


def reauthentication_problems(error: VaultError, *, field: str = "current_password") -> list[Problem] | None:
    """The current password asked again was refused, or cannot be checked now; None for other errors."""
    if error.code == "wrong_password":
        return [Problem(field, translate(WRONG_CURRENT_PASSWORD))]
    if isinstance(error, SignInBusy):
        return [Problem(field, translate(BUSY, wait=wait_of(error)))]
    if isinstance(error, TooManyAttempts):
        return [Problem(field, translate(REAUTHENTICATION_LOCKED, wait=wait_of(error)))]
    return None


def missing(field: str) -> Problem:
    return Problem(field, translate(MISSING[field]))


def form_problems(form, *, order: list[str]) -> list[Problem]:
    """Problems WTForms found (missing or too long), in the order of the fields on the page."""
    found = []
    for name in order:
        field = getattr(form, name, None)
        if field is None or not field.errors:
            continue
        if name in MISSING and not (field.data or "").strip():
            found.append(missing(name))
        elif name in TOO_LONG:
            found.append(Problem(name, translate(TOO_LONG[name], maximum=field.validators[-1].max)))
        else:
            found.append(Problem(name, translate(VaultError.message)))
    return found


def by_field(problems: list[Problem]) -> dict[str, str]:
    shown = {problem.field: problem.message if problem.inline is None else problem.inline for problem in problems
             if problem.field}
    return {field: message for field, message in shown.items() if message}


def choose_files_again() -> Problem:
    return Problem("file", translate(CHOOSE_AGAIN))


def _file_name(file_names: list[str] | None, details: dict) -> str:
    index = details.get("file_index")
    if file_names and isinstance(index, int) and 0 <= index < len(file_names) and file_names[index]:
        return translate(N_("“%(name)s”"), name=file_names[index])
    if isinstance(index, int):
        return translate(N_("File number %(number)s"), number=index + 1)
    return translate(N_("This file"))


def _maximum(reason: str, limits) -> int | str:
    if limits is None:
        return ""
    megabyte = 1024 * 1024
    return {"file_too_large": limits.max_file_bytes // megabyte,
            "document_too_large": limits.max_document_bytes // megabyte,
            "too_many_files": limits.max_files_per_document}.get(reason, "")
