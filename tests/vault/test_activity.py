"""The activity in plain words: who did what to which paper, failed sign-ins one line per burst.

Sentences are checked in English (the source language); other languages are checked on what does not
depend on a translator: times written the language's way, plural forms chosen by count.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from tests.vault.listing_rows import add_account, add_document
from tests.vault.test_listing_pages import key_config
from vault.activity import list_activity
from vault.db import make_engine, make_session_factory, migrate
from vault.events import record_event
from vault.i18n import Translator
from vault.models import Event, FailedSignInBurst, new_id

# 13:02 UTC is 14:02 in Paris in November (winter time). English times from Babel (CLDR) put a narrow
# no-break space before AM/PM.
NOW = datetime(2026, 11, 23, 13, 2, tzinfo=timezone.utc)


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def translator():
    return Translator.load()


@pytest.fixture
def keys():
    return key_config((1, b"k" * 32))


def activity(session, owner, translator, keys, language="en", **options):
    return list_activity(session, owner=owner.account, words=translator.for_language(language), keys=keys,
                         **options).items


def add_burst(session, owner, *, start: datetime, last: datetime, count: int) -> FailedSignInBurst:
    """What the sign-in service records: one event naming the burst, the count kept on the burst row."""
    burst = FailedSignInBurst(id=new_id(), account_id=owner.id, started_at=start, last_at=last, count=count)
    session.add(burst)
    session.flush()
    record_event(session, action="signin.failed", now=start, actor_id=None, subject_id=owner.id,
                 details={"burst": burst.id})
    return burst


def test_the_persons_own_actions_say_you_and_name_the_kind(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    card = add_document(session, amina, now=NOW, kind="carte_identite", title="Ma carte")
    record_event(session, action="account.created", now=NOW, actor_id=amina.id, subject_id=amina.id)
    record_event(session, action="document.uploaded", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=card.id, details={"kind": "carte_identite"})
    record_event(session, action="document.viewed", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=card.id)
    record_event(session, action="sessions.ended_all", now=NOW, actor_id=amina.id, subject_id=amina.id)
    items = activity(session, amina, translator, keys)
    assert [item.sentence for item in items] == [
        "You signed out everywhere.",
        "You looked at a paper: Identity card.",
        "You added a paper: Identity card.",
        "You opened your locker.",
    ]
    assert [item.pictogram for item in items] == ["log-out", "eye", "file-up", "user-plus"]
    assert all(item.by_owner and item.actor == "amina" and item.count == 1 for item in items)
    assert items[1].document_id == card.id and items[1].document_kind == "carte_identite"
    assert items[1].summary == "Paper viewed"


def test_titles_are_given_beside_the_sentence_only_with_the_identity(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    card = add_document(session, amina, now=NOW, kind="rib", title="RIB La Banque Postale")
    record_event(session, action="document.downloaded", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=card.id)
    with_title, = activity(session, amina, translator, keys, identity=amina.identity)
    without_title, = activity(session, amina, translator, keys)
    assert with_title.document_title == "RIB La Banque Postale" and without_title.document_title is None
    assert with_title.sentence == without_title.sentence == "You downloaded a paper: Bank details (RIB)."
    # Another person's identity opens nothing (and breaks nothing)
    other = add_account(session, "other", now=NOW)
    assert activity(session, amina, translator, keys, identity=other.identity)[0].document_title is None


def test_someone_else_is_named_by_username(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    sami = add_account(session, "sami.travailleur", now=NOW, kind="staff")
    card = add_document(session, amina, now=NOW, kind="titre_sejour")
    record_event(session, action="account.created", now=NOW, actor_id=sami.id, subject_id=amina.id)
    record_event(session, action="document.viewed", now=NOW, actor_id=sami.id, subject_id=amina.id,
                 document_id=card.id)
    record_event(session, action="document.downloaded", now=NOW, actor_id=new_id(), subject_id=amina.id,
                 document_id=card.id)  # an account since deleted
    items = activity(session, amina, translator, keys)
    assert [(item.sentence, item.actor, item.by_owner) for item in items] == [
        ("Someone downloaded your paper: Residence permit or receipt (récépissé).", None, False),
        ("sami.travailleur looked at your paper: Residence permit or receipt (récépissé).", "sami.travailleur",
         False),
        ("sami.travailleur opened your locker with you.", "sami.travailleur", False),
    ]


def test_a_deleted_paper_keeps_its_kind_when_the_event_recorded_it(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    gone = new_id()
    record_event(session, action="document.viewed", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=gone)
    record_event(session, action="document.deleted", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=gone, details={"kind": "passeport"})
    deleted, viewed = activity(session, amina, translator, keys)
    assert deleted.sentence == "You deleted a paper: Passport." and deleted.document_kind == "passeport"
    assert viewed.sentence == "You looked at a paper." and viewed.document_kind is None


def test_a_burst_of_failed_sign_ins_is_one_line_with_its_count_and_time_span(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    record_event(session, action="signin.succeeded", now=NOW - timedelta(hours=1), actor_id=amina.id,
                 subject_id=amina.id)
    add_burst(session, amina, start=NOW, last=NOW + timedelta(minutes=7), count=5)
    record_event(session, action="signin.succeeded", now=NOW + timedelta(minutes=8), actor_id=amina.id,
                 subject_id=amina.id)
    items = activity(session, amina, translator, keys)
    assert [item.action for item in items] == ["signin.succeeded", "signin.failed", "signin.succeeded"]
    burst = items[1]
    assert burst.sentence == "5 refused sign-in attempts between 2:02\u202fPM and 2:09\u202fPM."
    assert (burst.count, burst.at, burst.until) == (5, NOW, NOW + timedelta(minutes=7))
    assert (burst.pictogram, burst.actor, burst.by_owner) == ("shield-alert", None, False)
    # In French the times are written the French way (the sentence itself comes from the catalogue)
    french = activity(session, amina, translator, keys, language="fr")[1].sentence
    assert "14:02" in french and "14:09" in french and "PM" not in french


def test_bursts_in_the_same_minute_over_several_days_and_old_single_failures(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    # An old failure recorded before bursts existed: one attempt
    record_event(session, action="signin.failed", now=NOW - timedelta(days=30), actor_id=None, subject_id=amina.id,
                 details={"reason": "password"})
    add_burst(session, amina, start=NOW, last=NOW + timedelta(seconds=20), count=3)  # same minute
    add_burst(session, amina, start=NOW + timedelta(hours=6), last=NOW + timedelta(days=1, hours=1), count=40)
    add_burst(session, amina, start=NOW + timedelta(days=3), last=NOW + timedelta(days=3), count=1)
    items = activity(session, amina, translator, keys)
    assert [item.sentence for item in items] == [
        "A refused sign-in attempt at 2:02\u202fPM.",
        "40 refused sign-in attempts between 11/23/26, 8:02\u202fPM and 11/24/26, 3:02\u202fPM.",
        "3 refused sign-in attempts at 2:02\u202fPM.",
        "A refused sign-in attempt at 3:02\u202fPM.",  # 24 October: Paris was still on summer time
    ]
    assert [item.count for item in items] == [1, 40, 3, 1]


def test_a_burst_of_another_account_or_a_missing_one_counts_as_one_attempt(session, translator, keys):
    amina, bilal = add_account(session, "amina", now=NOW), add_account(session, "bilal", now=NOW)
    foreign = FailedSignInBurst(id=new_id(), account_id=bilal.id, started_at=NOW, last_at=NOW, count=999)
    session.add(foreign)
    session.flush()
    record_event(session, action="signin.failed", now=NOW, actor_id=None, subject_id=amina.id,
                 details={"burst": foreign.id})
    record_event(session, action="signin.failed", now=NOW, actor_id=None, subject_id=amina.id,
                 details={"burst": new_id()})
    record_event(session, action="signin.failed", now=NOW, actor_id=None, subject_id=amina.id,
                 details={"burst": ["not", "an", "id"]})
    items = activity(session, amina, translator, keys)
    assert [item.count for item in items] == [1, 1, 1]


def test_plural_forms_follow_the_count(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    add_burst(session, amina, start=NOW, last=NOW + timedelta(minutes=1), count=2)
    assert activity(session, amina, translator, keys)[0].sentence.startswith("2 refused sign-in attempts between")
    words = translator.for_language("en")
    assert words.ngettext("%(num)d refused sign-in attempt at %(time)s.",
                          "%(num)d refused sign-in attempts at %(time)s.", 1, time="x") == \
        "1 refused sign-in attempt at x."


def test_an_action_newer_than_the_wording_table_still_shows(session, translator, keys):
    amina = add_account(session, "amina", now=NOW)
    session.execute(insert(Event).values(chain="written-by-a-newer-version", sequence=1, at=NOW,
                                         action="locker.moved_to_the_moon",
                                         actor_id=amina.id, subject_id=amina.id, details={},
                                         previous_hash=b"\0" * 32, hash=b"\0" * 32))
    record_event(session, action="follow.started", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 details={"organisation": "Accueil de nuit"})
    follow, newer = activity(session, amina, translator, keys)
    assert follow.sentence == "Accueil de nuit now follows you, with your consent."
    assert (newer.sentence, newer.pictogram) == ("locker.moved_to_the_moon", "info")


def test_another_persons_events_never_appear(session, translator, keys):
    amina, bilal = add_account(session, "amina", now=NOW), add_account(session, "bilal", now=NOW)
    bilal_card = add_document(session, bilal, now=NOW, title="Carte de Bilal")
    record_event(session, action="document.viewed", now=NOW, actor_id=bilal.id, subject_id=bilal.id,
                 document_id=bilal_card.id)
    # Even an event wrongly naming Bilal's paper in Amina's chain does not reveal the paper
    record_event(session, action="document.viewed", now=NOW, actor_id=amina.id, subject_id=amina.id,
                 document_id=bilal_card.id)
    item, = activity(session, amina, translator, keys, identity=amina.identity)
    assert item.document_kind is None and item.document_title is None
    assert item.sentence == "You looked at a paper."
