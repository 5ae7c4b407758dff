"""The consent events in plain words: follows, shares, requests, deposits, copies and their deletion.

Each sentence names the worker and their organisation as the event recorded them at that moment
(``by_name``, ``grantee_name``, ``organisation`` in the event's details, see the catalogue in
vault/events.py): "Marie L. (Accueil de jour Les Lilas) downloaded a copy of your paper: Identity card
— purpose: CAF or RSA file." Only what the event's details hold is shown, never anything looked up
afterwards, so a rename, a deactivation or a deleted paper does not rewrite what the person was told.
The time is not in the sentence: the page writes the day as a heading and the time beside each line,
and the API returns ``at``.

Names and organisation names are written by people, in any script: in a right-to-left language they
are wrapped in Unicode isolates (FSI … PDI) so that a Latin name inside an Arabic sentence keeps its
own direction and does not drag the punctuation around it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from babel.dates import format_date
from babel.lists import format_list

from vault.i18n import N_, RIGHT_TO_LEFT, BoundTranslator, N_plural
from vault.kinds import kind_label
from vault.purposes import PurposeChoice

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
SOMEONE = N_("Someone")
AN_ORGANISATION = N_("An organisation")
A_PAPER = N_("a paper")
WORKER_AT = N_("%(name)s (%(organisation)s)")

# One pictogram per line (Lucide names, fetched by ops/icons.py; the API returns the same names).
PICTOGRAMS = {
    "follow.started": "users",
    "follow.ended": "user-minus",
    "share.granted": "user-check",
    "share.ended": "lock",
    "request.created": "inbox",
    "request.approved": "circle-check",
    "request.declined": "circle-x",
    "document.deposited": "file-plus",
    "duplicate.issued.view": "eye",
    "duplicate.issued.download": "download",
    "duplicate.issued.own": "copy",
    "duplicate.deletion_requested": "mail-x",
    "duplicate.deletion_answered.deleted": "trash-2",
    "duplicate.deletion_answered.kept": "triangle-alert",
}
CONSENT_ACTIONS = frozenset(name.split(".")[0] + "." + name.split(".")[1] for name in PICTOGRAMS)

FOLLOW_STARTED = N_("%(organisation)s now follows you, with your consent.")
FOLLOW_ENDED = N_("%(organisation)s no longer follows you. It can no longer find you.")
SHARE_GRANTED = N_plural(
    "You shared %(num)d paper (%(kinds)s) with %(worker)s until %(date)s — purpose: %(purpose)s.",
    "You shared %(num)d papers (%(kinds)s) with %(worker)s until %(date)s — purpose: %(purpose)s.")
SHARE_ENDED = {
    "owner": N_("You ended the share with %(worker)s. They can no longer open your papers."),
    "grantee": N_("%(worker)s gave back your share. They can no longer open your papers."),
    "deactivated": N_("The share with %(worker)s ended: they no longer work for their organisation."),
    "expired": N_("The share with %(worker)s ended on its end date. They can no longer open your papers."),
}
SHARE_ENDED_OTHER = N_("The share with %(worker)s ended. They can no longer open your papers.")
REQUEST_CREATED = N_plural(
    "%(worker)s asks to see your papers (%(kinds)s) for %(num)d day — purpose: %(purpose)s.",
    "%(worker)s asks to see your papers (%(kinds)s) for %(num)d days — purpose: %(purpose)s.")
REQUEST_APPROVED = N_("You accepted the request of %(worker)s.")
REQUEST_APPROVED_SIDE_BY_SIDE = N_("You accepted the request of %(worker)s, with your password on their screen.")
REQUEST_DECLINED = N_("You declined the request of %(worker)s.")
DEPOSITED = N_("%(worker)s added a paper to your locker: %(kind)s. Only you can open it.")
COPY_VIEWED = N_("%(worker)s looked at a copy of your paper: %(kind)s — purpose: %(purpose)s.")
COPY_DOWNLOADED = N_("%(worker)s downloaded a copy of your paper: %(kind)s — purpose: %(purpose)s.")
OWN_COPY = N_("You made a copy of your paper: %(kind)s — purpose: %(purpose)s.")
DELETION_REQUESTED = N_("You asked %(worker)s to delete their copy (ref. %(ref)s).")
DELETION_ANSWERED = {
    "deleted": N_("%(worker)s deleted their copy, as you asked (ref. %(ref)s)."),
    "kept": N_("%(worker)s kept their copy (ref. %(ref)s). You can end the share, or ask for help."),
}


def describe_consent(action: str, details: Any, words: BoundTranslator, *, document_kind: str | None,
                     timezone: tzinfo) -> tuple[str, str] | None:
    """(sentence, pictogram) for a consent event; None for an action this module does not word."""
    if action not in CONSENT_ACTIONS:
        return None
    return _Wording(details if isinstance(details, dict) else {}, words, document_kind, timezone).say(action)


class _Wording:
    def __init__(self, details: dict, words: BoundTranslator, document_kind: str | None, timezone: tzinfo):
        self.details = details
        self.words = words
        self.document_kind = document_kind
        self.timezone = timezone

    def say(self, action: str) -> tuple[str, str]:
        key, sentence = getattr(self, "_" + action.replace(".", "_"))()
        return sentence, PICTOGRAMS[key]

    # --- follows ------------------------------------------------------------------------------------------
    def _follow_started(self):
        return "follow.started", self._say(FOLLOW_STARTED, organisation=self._organisation())

    def _follow_ended(self):
        return "follow.ended", self._say(FOLLOW_ENDED, organisation=self._organisation())

    # --- shares -------------------------------------------------------------------------------------------
    def _share_granted(self):
        count = self._count(self.details.get("documents"), default=len(self._kinds_list()))
        singular, plural = SHARE_GRANTED
        return "share.granted", self.words.ngettext(
            singular, plural, count, kinds=self._kinds(), worker=self._worker("grantee_name"),
            date=self._date(self.details.get("expires_at")), purpose=self._purpose())

    def _share_ended(self):
        reason = self.details.get("reason")
        message = SHARE_ENDED.get(reason, SHARE_ENDED_OTHER) if isinstance(reason, str) else SHARE_ENDED_OTHER
        return "share.ended", self._say(message, worker=self._worker("grantee_name"))

    # --- requests -----------------------------------------------------------------------------------------
    def _request_created(self):
        singular, plural = REQUEST_CREATED
        days = self._count(self.details.get("duration_days"), default=1)
        return "request.created", self.words.ngettext(singular, plural, days, worker=self._worker(),
                                                      kinds=self._kinds(), purpose=self._purpose())

    def _request_approved(self):
        message = REQUEST_APPROVED_SIDE_BY_SIDE if self.details.get("side_by_side") is True else REQUEST_APPROVED
        return "request.approved", self._say(message, worker=self._worker())

    def _request_declined(self):
        return "request.declined", self._say(REQUEST_DECLINED, worker=self._worker())

    # --- a paper added by a worker --------------------------------------------------------------------------
    def _document_deposited(self):
        return "document.deposited", self._say(DEPOSITED, worker=self._worker(), kind=self._kind())

    # --- copies ---------------------------------------------------------------------------------------------
    def _duplicate_issued(self):
        if self.details.get("by_name") is None:  # the person's own copy (for a landlord, an employer)
            return "duplicate.issued.own", self._say(OWN_COPY, kind=self._kind(), purpose=self._purpose())
        if self.details.get("disposition") == "view":
            return "duplicate.issued.view", self._say(COPY_VIEWED, worker=self._worker(), kind=self._kind(),
                                                      purpose=self._purpose())
        return "duplicate.issued.download", self._say(COPY_DOWNLOADED, worker=self._worker(), kind=self._kind(),
                                                      purpose=self._purpose())

    def _duplicate_deletion_requested(self):
        return "duplicate.deletion_requested", self._say(DELETION_REQUESTED, worker=self._worker(),
                                                         ref=self._ref())

    def _duplicate_deletion_answered(self):
        answer = "deleted" if self.details.get("answer") == "deleted" else "kept"
        return (f"duplicate.deletion_answered.{answer}",
                self._say(DELETION_ANSWERED[answer], worker=self._worker(), ref=self._ref()))

    # --- the pieces of a sentence ---------------------------------------------------------------------------
    def _say(self, message: str, **values) -> str:
        return self.words.gettext(message, **values)

    def _isolated(self, text: str) -> str:
        if self.words.language in RIGHT_TO_LEFT:
            return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
        return text

    def _text(self, name: str) -> str | None:
        value = self.details.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def _worker(self, name_field: str = "by_name") -> str:
        """"Marie L. (Accueil de jour Les Lilas)", as named when it happened; "Someone" if nothing was."""
        name, organisation = self._text(name_field), self._text("organisation")
        if name is None:
            return self._isolated(organisation) if organisation else self.words.gettext(SOMEONE)
        if organisation is None:
            return self._isolated(name)
        return self.words.gettext(WORKER_AT, name=self._isolated(name), organisation=self._isolated(organisation))

    def _organisation(self) -> str:
        organisation = self._text("organisation")
        return self._isolated(organisation) if organisation else self.words.gettext(AN_ORGANISATION)

    def _kind(self) -> str:
        kind = self._text("kind") or self.document_kind
        return kind_label(self.words, kind) or self.words.gettext(A_PAPER)

    def _kinds_list(self) -> list[str]:
        kinds = self.details.get("kinds")
        return [kind for kind in kinds if isinstance(kind, str)] if isinstance(kinds, list) else []

    def _kinds(self) -> str:
        labels = [kind_label(self.words, kind) for kind in dict.fromkeys(self._kinds_list())]
        labels = [label for label in labels if label]
        if not labels:
            return self.words.gettext(A_PAPER)
        return format_list(labels, locale=self.words.language)

    def _purpose(self) -> str:
        code = self._text("purpose")
        if code is None:
            return "—"
        label = PurposeChoice(code, self._text("purpose_text")).label(self.words.gettext)
        return self._isolated(label) if label == self._text("purpose_text") else label

    def _ref(self) -> str:
        return self._isolated(self._text("ref") or "—")

    def _date(self, value) -> str:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            return "—"
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.timezone)
        return format_date(moment.date(), format="long", locale=self.words.language)

    @staticmethod
    def _count(value, *, default: int) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
