"""The domain's one error family.

Each error has a stable ``code`` (used to pick the translated message and as the problem type) and a
``category`` that ``web/`` maps to an HTTP status once, in one place. Messages are plain English defaults
for logs and tests; what a person reads comes from the translation catalogues keyed by ``code``.
Nothing here ever carries a password, a code, a token or a key.
"""

from __future__ import annotations

from typing import Any

from vault.i18n import N_


class VaultError(Exception):
    code = "error"
    category = "invalid"
    message = N_("The request could not be carried out.")
    # True when what the service recorded before failing (a failed sign-in, a throttle counter, an
    # expired session's deletion) must be committed although the request fails.
    keeps_changes = False

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.message)
        self.details = details


# --- bad input -------------------------------------------------------------------------------------
class InvalidInput(VaultError):
    code = "invalid_input"
    message = N_("Some fields are missing or not valid.")


class InvalidUsername(InvalidInput):
    code = "invalid_username"
    message = N_("A username has 3 to 32 characters: lowercase letters, digits, dot, dash or underscore.")


class UsernameTaken(VaultError):
    code = "username_taken"
    category = "conflict"
    message = N_("This username is already taken.")


class WeakPassword(InvalidInput):
    """A password refused at enrolment or change; ``reason`` says why, ``suggested_passphrase`` offers one.

    One subclass per reason, so that the answer (problem JSON or page) explains the refusal in plain words;
    the code stays ``weak_password`` for every reason.
    """

    code = "weak_password"
    reason = "too_weak"
    message = N_("This password is too short or too common.")

    def __init__(self, *, suggested_passphrase: str | None = None, **details: Any) -> None:
        super().__init__(reason=self.reason, suggested_passphrase=suggested_passphrase, **details)


class PasswordTooShort(WeakPassword):
    reason = "too_short"
    message = N_("This password is too short: use at least 8 characters, or the suggested words.")


class PasswordTooLong(WeakPassword):
    reason = "too_long"
    message = N_("This password is too long: use at most 256 characters.")


class PasswordTooCommon(WeakPassword):
    reason = "too_common"
    message = N_("Many people use this password, so it is easy to guess. Choose another one, or the suggested words.")


class PasswordContainsUsername(WeakPassword):
    reason = "contains_username"
    message = N_("This password contains your username, so it is easy to guess. Choose another one.")


class PasswordTooPredictable(WeakPassword):
    reason = "too_predictable"
    message = N_("This password is easy to guess (a sequence, a repetition, a name or a date). "
                 "Choose another one, or the suggested words.")


class UnknownDocumentKind(InvalidInput):
    code = "unknown_document_kind"
    message = N_("This kind of paper is not in the list.")


class InvalidDate(InvalidInput):
    code = "invalid_date"
    message = N_("This date is not valid.")


class InvalidCursor(InvalidInput):
    """A page cursor that this server did not make for this list and this account (or made long ago)."""

    code = "invalid_cursor"
    message = N_("This link to a next page is not valid. Start again from the first page.")


class InvalidOtpCode(InvalidInput):
    # Kept: the attempt it spent on the session's budget (vault.two_factor.confirm_setup) must count.
    keeps_changes = True
    code = "invalid_otp_code"
    message = N_("This code is not right. Check the code shown in your app and try again.")


class UnsupportedFile(InvalidInput):
    """A file that is not a paper we can keep (wrong type, broken, encrypted PDF, too many pages)."""

    code = "unsupported_file"
    category = "unsupported_media"
    message = N_("This file cannot be kept.")


class PictureTooLarge(UnsupportedFile):
    """A picture that would take more memory to decode than one upload may (a JPEG is reduced first)."""

    message = N_("This picture has too many pixels to be read here. Send it as a JPEG, or take the photo "
                 "again at a lower resolution.")


class ShareEndNotValid(InvalidInput):
    code = "invalid_share_end"
    message = N_("A share must end in the future, at most 90 days from now.")


class DocumentsNotRequested(InvalidInput):
    """An approval that gives papers of kinds the request did not ask for."""

    code = "documents_not_requested"
    message = N_("Choose only papers of the kinds that were asked for.")


class FileTooLarge(VaultError):
    code = "file_too_large"
    category = "too_large"
    message = N_("This file is too large.")


class QuotaExceeded(VaultError):
    code = "quota_exceeded"
    category = "too_large"
    message = N_("Your locker is full. Delete papers you no longer need to make room.")


# organisations and follows (issue 8)
class InvalidInvitation(InvalidInput):
    """One answer for an invitation code that is mistyped, unknown, already used or expired: the
    answer never tells which, so trying codes teaches nothing."""

    # Kept: the attempt it spent on the address's budget must count (vault.organisations.redeem_invitation).
    keeps_changes = True
    code = "invalid_invitation"
    message = N_("This invitation code does not work: it may be mistyped, already used or expired. "
                 "Ask your organisation for a new one.")


class InvalidDisplayName(InvalidInput):
    code = "invalid_display_name"
    message = N_("The name shown to people has 1 to 80 characters, for example « Marie L. ».")


class OrganisationRequired(InvalidInput):
    """A staff member of several organisations must say which one they act for."""

    code = "organisation_required"
    message = N_("You work for several organisations: choose the one you act for.")


class LastAdmin(VaultError):
    code = "last_admin"
    category = "conflict"
    message = N_("An organisation keeps at least one admin. Invite another admin first.")


# --- who you are -----------------------------------------------------------------------------------
class AuthenticationFailed(VaultError):
    """Unknown username or wrong password: deliberately one error for both."""

    keeps_changes = True
    code = "authentication_failed"
    category = "unauthenticated"
    message = N_("Wrong username or password.")


class SecondFactorRequired(VaultError):
    keeps_changes = True
    code = "second_factor_required"
    category = "unauthenticated"
    message = N_("Enter the code from your app, or a recovery code.")


class SecondFactorFailed(VaultError):
    keeps_changes = True
    code = "second_factor_failed"
    category = "unauthenticated"
    message = N_("The code is not right, or was already used.")


class SessionExpired(VaultError):
    keeps_changes = True
    code = "session_expired"
    category = "unauthenticated"
    message = N_("You are signed out. Please sign in again.")


class TooManyAttempts(VaultError):
    """A budget of the throttle is spent (``reason``: which one); ``retry_after_seconds`` is the real wait."""

    code = "too_many_attempts"
    category = "rate_limited"
    message = N_("Too many tries. Wait a few minutes and try again.")

    def __init__(self, retry_after_seconds: int, reason: str | None = None,
                 blocked: dict[str, int] | None = None) -> None:
        super().__init__(retry_after_seconds=retry_after_seconds, reason=reason)
        self.retry_after_seconds = retry_after_seconds
        self.reason = reason
        # Every budget that is spent, with its own wait (``reason`` names the one to tell first).
        self.blocked = blocked or ({reason: retry_after_seconds} if reason else {})


class AccountLocked(TooManyAttempts):
    """Too many wrong passwords for this username: the owner still gets in with a recovery code.

    Said the same way for a username that does not exist, so the answer reveals nothing.
    """

    message = N_("Too many wrong tries for this account, so it is protected for a while. "
                 "To get in now, type your password and one of your recovery codes.")

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds, reason="account")


class TooManyEnrolments(TooManyAttempts):
    code = "too_many_enrolments"
    message = N_("Many accounts were made from here in a short time. Wait a little, then try again.")


class TooManyLookups(TooManyAttempts):
    """Too many duplicate references checked from one address (someone trying references at random)."""

    code = "too_many_lookups"
    message = N_("Many copies were checked from here in a short time. Wait a little, then try again.")


class WrongPassword(VaultError):
    """The current password, asked again before a change that could lock the owner out, is not right."""

    keeps_changes = True  # the failed try is counted and shown in the activity
    code = "wrong_password"
    category = "forbidden"
    message = N_("This is not your current password. Nothing was changed.")


class Busy(VaultError):
    """Every slot of a work gate (vault/capacity.py) stayed busy for the whole wait: try again shortly."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class SignInBusy(Busy):
    """Every Argon2id slot of this process stayed busy."""

    code = "sign_in_busy"
    category = "rate_limited"
    message = N_("Many people are signing in right now. Try again in a few seconds.")


class UploadsBusy(Busy):
    """Every decoding slot of this process stayed busy."""

    code = "uploads_busy"
    category = "unavailable"
    message = N_("Many papers are being added right now. Nothing was changed; try again in a minute.")


class NotAllowed(VaultError):
    code = "not_allowed"
    category = "forbidden"
    message = N_("You are not allowed to do this.")


class DeletionAlreadyAsked(NotAllowed):
    """The person already asked the holder of this copy to delete it (or it is their own copy)."""

    code = "deletion_already_asked"
    category = "conflict"
    message = N_("You have already asked for this copy to be deleted.")


class DeletionNotAsked(NotAllowed):
    code = "deletion_not_asked"
    category = "conflict"
    message = N_("Nobody has asked you to delete this copy, or you have already answered.")


class PurposeNotRegistered(NotAllowed):
    """An organisation asked for papers for a purpose it has not registered (asking for more than declared)."""

    code = "purpose_not_registered"
    message = N_("This organisation has not registered this purpose, so it cannot ask for papers for it.")


class RequestAlreadyAnswered(VaultError):
    """A request answered a moment ago (by another tab, or side by side): it is answered only once."""

    code = "request_already_answered"
    category = "conflict"
    message = N_("This request was already answered.")


class RecoveryFailed(VaultError):
    """A forgotten password's reset refused: unknown username, or a code wrong or already used. One
    error for all, so the answer never tells whether the username exists (vault.recovery)."""

    keeps_changes = True  # the failed try is shown in the owner's activity
    code = "recovery_failed"
    category = "unauthenticated"
    message = N_("This username and this recovery code do not go together, or the code was already used. "
                 "Nothing was changed.")


# --- what you asked for ----------------------------------------------------------------------------
class NotFound(VaultError):
    """Also the answer for someone else's document: existence is not revealed."""

    code = "not_found"
    category = "not_found"
    message = N_("Not found.")


class DocumentNotFound(NotFound):
    code = "document_not_found"
    message = N_("This paper does not exist or is not yours.")


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"
    message = N_("This organisation does not exist.")


class FollowNotFound(NotFound):
    code = "follow_not_found"
    message = N_("This organisation does not follow you, or no longer does.")


class StaffNotFound(NotFound):
    code = "staff_not_found"
    message = N_("This person is not an active member of your organisation's staff.")


class StorageFailed(VaultError):
    code = "storage_failed"
    category = "unavailable"
    message = N_("The papers store is not answering. Nothing was changed; try again later.")


class ShareNotFound(NotFound):
    code = "share_not_found"
    message = N_("This share does not exist or is not yours.")


class GranteeNotFound(NotFound):
    """No active staff member by that name: a person's username gets the same answer."""

    code = "grantee_not_found"
    message = N_("No social worker has this username. Check it with them.")


class RequestNotFound(NotFound):
    code = "request_not_found"
    message = N_("This request does not exist or is not for you.")


class PersonNotFound(NotFound):
    """Not a person who follows the worker's organisation: whether the username exists is not revealed."""

    code = "person_not_found"
    message = N_("No person with this username follows your organisation.")


class VaultClosed(VaultError):
    """The person closed (deleted) this vault: a worker who held one of its shares is told so, once the
    share's papers and keys are gone (vault.closing); a second closing at the same time gets it too."""

    code = "vault_closed"
    category = "gone"
    message = N_("The person closed their locker: their papers no longer exist, here or anywhere in Consigne.")


class DuplicateNotFound(NotFound):
    """A reference nobody issued, or a copy that is not yours to see: the same answer for both."""

    code = "duplicate_not_found"
    message = N_("No copy has this reference. Check the letters and numbers.")


# assisted recovery (issue 9)
class RecoveryKeyMissing(VaultError):
    """A person tried to opt in before any admin of the organisation made its recovery key."""

    code = "recovery_key_missing"
    category = "conflict"
    message = N_("This organisation cannot help you get back in yet: one of its managers must first open "
                 "the organisation page. Ask them, then try again.")


class RecoveryKeyNotHeld(VaultError):
    """The admin in front of the screen holds no seal of the organisation's recovery key yet."""

    code = "recovery_key_not_held"
    category = "conflict"
    message = N_("Your organisation's recovery key has not reached you yet. Ask another manager to open the "
                 "organisation page with their sign-in, then try again.")


class RecoveryPersonNotFound(NotFound):
    """The same answer for an unknown username, a person who does not follow the organisation and a person
    who did not choose assisted recovery with it: staff learn nothing by trying names."""

    code = "recovery_person_not_found"
    message = N_("No person with this username has chosen to be helped back in by your organisation.")


class RecoveryNotFound(NotFound):
    code = "recovery_not_found"
    message = N_("This recovery does not exist, has expired or is already finished. Start again if needed.")


class RecoveryNeedsAnotherStaff(NotAllowed):
    code = "recovery_needs_another_staff"
    message = N_("A second staff member must confirm, with their own sign-in: not the one who started.")


class RecoveryNeedsAdmin(NotAllowed):
    code = "recovery_needs_admin"
    message = N_("One of the two staff members must be a manager of the organisation, and the manager "
                 "finishes the recovery with their own sign-in.")
