"""Who has seen my papers: the person's activity in plain words, newest first, a page at a time.

Principle 4 (DESIGN.md): everything seen is shown. The API (``GET /api/v1/activity``) and the page
call this one function, so both say the same thing in the same words.

Each line names who acted (their username, or "you"), what happened and to which paper (its kind in
words), in the person's language, with a pictogram name for the page. Failed sign-ins arrive as one
event per burst (see ``FailedSignInBurst``): one line with the number of attempts and their time span,
so a guesser's thousand tries never bury the real accesses. Older ``signin.failed`` events, recorded
before bursts existed, are shown as one attempt each.

Paper titles: a title is written by the person and encrypted to them. Given the person's identity (it
is in hand in every signed-in request), titles of papers still in the vault are decrypted and returned
beside the sentence, never inside it: a free text in any script inside a translated sentence would
break the right-to-left layout of Arabic and could read as our own words. Without an identity, titles
stay out and the sentences are exactly the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import age
from crypto.errors import CryptoError
from vault.activity_consent import PICTOGRAMS as CONSENT_PICTOGRAMS
from vault.activity_consent import describe_consent
from vault.errors import InvalidCursor
from vault.activity_assisted import PICTOGRAMS as ASSISTED_PICTOGRAMS
from vault.activity_assisted import describe_assisted
from vault.events import ACTIONS, list_events_for
from vault.i18n import N_, BoundTranslator
from vault.keys import KeyConfig
from vault.kinds import kind_label
from vault.models import Account, Document, Event, FailedSignInBurst
from vault.paging import Page, check_limit, decode_cursor, encode_cursor

ACTIVITY_PER_PAGE = 50
MAX_ACTIVITY_PER_PAGE = 200
ACTIVITY_LISTING = "activity"
# Consigne serves people in France: times are shown on the wall clock they live by (winter and summer
# time included). A caller serving elsewhere passes its own time zone.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
FAILED_SIGN_IN = "signin.failed"
DEFAULT_PICTOGRAM = "info"
# The second element of a cursor's position that goes back to newer lines ([id] goes on to older ones).
NEWER = "newer"


@dataclass(frozen=True)
class Wording:
    """How one action is said: by the person ("you"), by someone else, with or without the paper's kind."""

    pictogram: str
    you: str
    other: str  # with %(actor)s
    you_kind: str | None = None  # with %(kind)s
    other_kind: str | None = None  # with %(actor)s and %(kind)s
    nobody: str | None = None  # when no account acted (made by an operator); else "Someone" stands in


# Pictogram names are Lucide's (https://lucide.dev), the set the pages draw (web/static/icons, fetched by
# ops/icons.py); the API returns the same names, so a partner can draw the same icons.
WORDINGS = {
    "account.created": Wording("user-plus", N_("You opened your locker."),
                               N_("%(actor)s opened your locker with you."), nobody=N_("Your account was opened.")),
    "signin.succeeded": Wording("log-in", N_("You signed in."), N_("%(actor)s signed in to your locker.")),
    "recovery_code.used": Wording("key-round", N_("You used a recovery code."),
                                  N_("%(actor)s used one of your recovery codes.")),
    "recovery_codes.renewed": Wording("key-round",
                                      N_("You made new recovery codes. The old sheet no longer works."),
                                      N_("%(actor)s made new recovery codes for you.")),
    "otp.enabled": Wording("shield-check", N_("You turned on two-step sign-in."),
                           N_("%(actor)s turned on two-step sign-in for you.")),
    "otp.disabled": Wording("shield-off", N_("You turned off two-step sign-in."),
                            N_("%(actor)s turned off two-step sign-in for you.")),
    "password.changed": Wording("lock-keyhole",
                                N_("You changed your password. Every other session was ended."),
                                N_("%(actor)s changed your password.")),
    # A reset without the old password (a recovery code, or help in person): said so that a person whose
    # sheet was stolen learns it; every session ended and two-step sign-in was turned off with it.
    "password.reset": Wording("key-round",
                              N_("You set a new password without the old one. Every session was ended and "
                                 "two-step sign-in was turned off."),
                              N_("%(actor)s set a new password for your locker.")),
    "session.ended": Wording("log-out", N_("You signed out."), N_("%(actor)s signed out.")),
    "sessions.ended_all": Wording("log-out", N_("You signed out everywhere."),
                                  N_("%(actor)s signed you out everywhere.")),
    "document.uploaded": Wording("file-up", N_("You added a paper."), N_("%(actor)s added a paper to your locker."),
                                 N_("You added a paper: %(kind)s."),
                                 N_("%(actor)s added a paper to your locker: %(kind)s.")),
    "document.viewed": Wording("eye", N_("You looked at a paper."), N_("%(actor)s looked at one of your papers."),
                               N_("You looked at a paper: %(kind)s."),
                               N_("%(actor)s looked at your paper: %(kind)s.")),
    "document.downloaded": Wording("download", N_("You downloaded a paper."),
                                   N_("%(actor)s downloaded one of your papers."),
                                   N_("You downloaded a paper: %(kind)s."),
                                   N_("%(actor)s downloaded your paper: %(kind)s.")),
    "document.updated": Wording("pencil", N_("You changed the details of a paper."),
                                N_("%(actor)s changed the details of one of your papers."),
                                N_("You changed the details of a paper: %(kind)s."),
                                N_("%(actor)s changed the details of your paper: %(kind)s.")),
    "document.deleted": Wording("trash-2", N_("You deleted a paper."), N_("%(actor)s deleted one of your papers."),
                                N_("You deleted a paper: %(kind)s."),
                                N_("%(actor)s deleted your paper: %(kind)s.")),
    "export.made": Wording("download", N_("You took out a copy of everything in your locker."),
                           N_("%(actor)s took out a copy of everything in your locker.")),
    "account.deleted": Wording("trash-2", N_("You closed your locker."), N_("%(actor)s closed your locker."),
                               nobody=N_("Your locker was closed.")),
    # Sent by ``consigne reminders`` through the operator's notifier (vault/reminders.py): nobody acted.
    "reminders.sent": Wording("clock", N_("You were reminded that some of your papers expire soon or have expired."),
                              N_("%(actor)s reminded you that some of your papers expire soon or have expired."),
                              nobody=N_("You were reminded that some of your papers expire soon or have expired.")),
}
FAILED_SIGN_IN_PICTOGRAM = "shield-alert"
SOMEONE = N_("Someone")
# Every pictogram a line can carry: ops/icons.py fetches each one (checked by tests/web/test_icons.py).
PICTOGRAMS = frozenset({wording.pictogram for wording in WORDINGS.values()} | set(CONSENT_PICTOGRAMS.values())
                       | set(ASSISTED_PICTOGRAMS.values())
                       | {FAILED_SIGN_IN_PICTOGRAM, DEFAULT_PICTOGRAM})
# The fields of a consent event's details that name the worker who acted, as they were named then.
ACTOR_NAME_FIELDS = ("by_name", "grantee_name")


@dataclass(frozen=True)
class ActivityItem:
    """One line of the activity."""

    event_id: int
    at: datetime  # when it happened; for a burst of failed sign-ins, the first attempt
    until: datetime | None  # for a burst: the last attempt
    action: str
    # Who acted: their username, or for a worker in a consent event their name as it was then ("Marie L.");
    # None when nobody is known (a failed sign-in).
    actor: str | None
    by_owner: bool  # the person acted themself: the sentence says "you"
    document_id: str | None
    document_kind: str | None
    document_title: str | None  # only with the owner's identity, and only while the paper exists
    count: int  # 1, or the number of attempts in a burst of failed sign-ins
    summary: str  # the action's short name, in the person's language
    sentence: str  # the whole line, in the person's language
    pictogram: str


ActivityPage = Page[ActivityItem]


def list_activity(session: Session, *, owner: Account, words: BoundTranslator, keys: KeyConfig,
                  limit: int | None = None, cursor: str | None = None,
                  identity: age.X25519Identity | None = None, timezone: tzinfo = DISPLAY_TIMEZONE) -> ActivityPage:
    """The activity of ``owner`` (the signed-in account: nobody reads another's activity), newest first.

    ``cursor`` comes from a page's ``next_cursor`` (older lines) or ``previous_cursor`` (newer lines, back
    towards the first page); ``identity`` (the owner's) adds paper titles. Reads one range of the events
    index plus, for the page's lines only, three look-ups by primary key: who acted, which papers, which
    bursts. Cost does not depend on how old the page is.
    """
    limit = check_limit(limit, default=ACTIVITY_PER_PAGE, maximum=MAX_ACTIVITY_PER_PAGE)
    before_id = after_id = None
    if cursor is not None:
        before_id, after_id = _event_position(decode_cursor(keys, cursor, listing=ACTIVITY_LISTING,
                                                            owner_id=owner.id))
    events = None
    if after_id is not None:
        newer = list_events_for(session, subject_id=owner.id, limit=limit + 1, after_id=after_id)
        if len(newer) > limit:  # still newer lines beyond these: a page in the middle
            events = newer[:limit][::-1]
            has_older = has_newer = True
        # else: back at the top. The first page as it is now, so that its lines never shift by a few.
    if events is None:
        events = list_events_for(session, subject_id=owner.id, limit=limit + 1, before_id=before_id)
        has_older, has_newer = len(events) > limit, before_id is not None
        events = events[:limit]

    def cursor_to(position: list) -> str:
        return encode_cursor(keys, listing=ACTIVITY_LISTING, owner_id=owner.id, position=position)

    next_cursor = cursor_to([events[-1].id]) if has_older and events else None
    previous_cursor = None
    if has_newer:
        # Past the last line (a page left empty), newer means from the cursor's own line on.
        previous_cursor = cursor_to([events[0].id if events else before_id - 1, NEWER])
    context = _Context.load(session, owner=owner, events=events, words=words, identity=identity, timezone=timezone)
    return Page(items=[context.describe(event) for event in events], next_cursor=next_cursor,
                previous_cursor=previous_cursor)


def _event_position(position: list) -> tuple[int | None, int | None]:
    """(before_id, None) for older lines, (None, after_id) for newer ones; InvalidCursor otherwise."""
    if len(position) == 2 and position[1] == NEWER and _is_event_id(position[0], minimum=0):
        return None, position[0]
    if len(position) == 1 and _is_event_id(position[0], minimum=1):
        return position[0], None
    raise InvalidCursor()


def _is_event_id(value, *, minimum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= minimum


@dataclass
class _Context:
    """What the lines of one page need, read once for the whole page."""

    owner: Account
    words: BoundTranslator
    timezone: tzinfo
    usernames: dict[str, str]
    documents: dict[str, tuple[str, str | None]]  # id -> (kind, title)
    bursts: dict[str, FailedSignInBurst]

    @classmethod
    def load(cls, session: Session, *, owner: Account, events: list[Event], words: BoundTranslator,
             identity: age.X25519Identity | None, timezone: tzinfo) -> _Context:
        actor_ids = {event.actor_id for event in events if event.actor_id and event.actor_id != owner.id}
        usernames = {owner.id: owner.username}
        if actor_ids:
            usernames |= dict(session.execute(select(Account.id, Account.username)
                                              .where(Account.id.in_(actor_ids))).all())
        document_ids = {event.document_id for event in events if event.document_id}
        documents = {}
        if document_ids:
            # Filtered on the owner too: an event can only ever describe the owner's own papers.
            rows = session.execute(select(Document.id, Document.kind, Document.title_sealed)
                                   .where(Document.owner_id == owner.id, Document.id.in_(document_ids)))
            documents = {row.id: (row.kind, _open_title(row.title_sealed, identity)) for row in rows}
        burst_ids = {burst_id for event in events if event.action == FAILED_SIGN_IN
                     and (burst_id := _burst_id(event)) is not None}
        bursts = {}
        if burst_ids:
            bursts = {burst.id: burst for burst in session.scalars(
                select(FailedSignInBurst).where(FailedSignInBurst.account_id == owner.id,
                                                FailedSignInBurst.id.in_(burst_ids)))}
        return cls(owner, words, timezone, usernames, documents, bursts)

    def describe(self, event: Event) -> ActivityItem:
        by_owner = event.actor_id == self.owner.id
        actor = self.usernames.get(event.actor_id) if event.actor_id else None
        kind, title = self.documents.get(event.document_id, (None, None)) if event.document_id else (None, None)
        if kind is None and isinstance(event.details, dict) and isinstance(event.details.get("kind"), str):
            kind = event.details["kind"]  # a deleted paper: its kind was recorded with the event
        summary_source = ACTIONS.get(event.action)
        summary = self.words.gettext(summary_source) if summary_source else event.action
        item = dict(event_id=event.id, at=event.at, until=None, action=event.action, actor=actor, by_owner=by_owner,
                    document_id=event.document_id, document_kind=kind, document_title=title, count=1,
                    summary=summary)
        if event.action == FAILED_SIGN_IN:
            burst = self.bursts.get(_burst_id(event))
            if burst is not None:
                item.update(until=burst.last_at, count=burst.count)
            return ActivityItem(**item, sentence=self._failed_sign_ins(event.at, item["until"] or event.at,
                                                                       item["count"]),
                                pictogram=FAILED_SIGN_IN_PICTOGRAM)
        assisted = describe_assisted(event.action, event.details, self.words)  # assisted recovery (issue 9)
        if assisted is not None:
            if not by_owner and assisted[2]:
                item["actor"] = assisted[2]  # a staff member, named as they were then
            return ActivityItem(**item, sentence=assisted[0], pictogram=assisted[1])
        consent = describe_consent(event.action, event.details, self.words, document_kind=kind,
                                   timezone=self.timezone)
        if consent is not None:
            if not by_owner:  # a worker: named by the event's snapshot, never by a username looked up now
                item["actor"] = _snapshot_name(event.details)
            return ActivityItem(**item, sentence=consent[0], pictogram=consent[1])
        wording = WORDINGS.get(event.action)
        if wording is None:  # an action newer than this table: its short name still says what happened
            sentence = summary if by_owner or actor is None else f"{actor}: {summary}"
            return ActivityItem(**item, sentence=sentence, pictogram=DEFAULT_PICTOGRAM)
        sentence = self._sentence(wording, by_owner=by_owner, acted=event.actor_id is not None, actor=actor,
                                  kind=kind)
        return ActivityItem(**item, sentence=sentence, pictogram=wording.pictogram)

    def _sentence(self, wording: Wording, *, by_owner: bool, acted: bool, actor: str | None,
                  kind: str | None) -> str:
        label = kind_label(self.words, kind)
        if by_owner:
            if label and wording.you_kind:
                return self.words.gettext(wording.you_kind, kind=label)
            return self.words.gettext(wording.you)
        if not acted and wording.nobody:
            return self.words.gettext(wording.nobody)
        # An account since deleted, or no account at all: "Someone", never a blank.
        name = actor or self.words.gettext(SOMEONE)
        if label and wording.other_kind:
            return self.words.gettext(wording.other_kind, actor=name, kind=label)
        return self.words.gettext(wording.other, actor=name)

    def _failed_sign_ins(self, first: datetime, last: datetime, count: int) -> str:
        start, end = self._time(first), self._time(last)
        if self._local_date(first) != self._local_date(last):
            start, end = self._date_time(first), self._date_time(last)
        if count == 1:
            return self.words.gettext("A refused sign-in attempt at %(time)s.", time=start)
        if start == end:
            return self.words.ngettext("%(num)d refused sign-in attempt at %(time)s.",
                                       "%(num)d refused sign-in attempts at %(time)s.", count, time=start)
        return self.words.ngettext("%(num)d refused sign-in attempt between %(start)s and %(end)s.",
                                   "%(num)d refused sign-in attempts between %(start)s and %(end)s.", count,
                                   start=start, end=end)

    def _time(self, moment: datetime) -> str:
        return format_time(moment, format="short", tzinfo=self.timezone, locale=self.words.language)

    def _date_time(self, moment: datetime) -> str:
        return format_datetime(moment, format="short", tzinfo=self.timezone, locale=self.words.language)

    def _local_date(self, moment: datetime):
        return moment.astimezone(self.timezone).date()


def _snapshot_name(details) -> str | None:
    details = details if isinstance(details, dict) else {}
    for field in ACTOR_NAME_FIELDS:
        if isinstance(details.get(field), str) and details[field]:
            return details[field]
    return None


def _burst_id(event: Event) -> str | None:
    details = event.details if isinstance(event.details, dict) else {}
    burst_id = details.get("burst")
    return burst_id if isinstance(burst_id, str) and len(burst_id) == 36 else None


def _open_title(sealed: bytes | None, identity: age.X25519Identity | None) -> str | None:
    if sealed is None or identity is None:
        return None
    try:
        return age.decrypt_bytes(sealed, identities=[identity]).decode()
    except (CryptoError, UnicodeDecodeError):
        return None  # a title that does not open is left out; the line still says what happened
