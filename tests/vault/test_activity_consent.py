"""The consent events in the person's activity: the worker and organisation named, in plain words.

The events are recorded here exactly as the catalogue of issue 8 says (actor, subject, document,
details), as the services of the other packages record them. Each wording is checked in English (the
source) and in French (from the catalogue, once the lead has filled it from the package's translations;
until then the French checks are skipped, and tests/ops/test_translations.py fails for the same
messages).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.vault.listing_rows import add_account, add_document
from tests.vault.test_listing_pages import key_config
from vault import activity_consent
from vault.activity import PICTOGRAMS, list_activity
from vault.db import make_engine, make_session_factory, migrate
from vault.events import record_event
from vault.i18n import Translator

NOW = datetime(2026, 3, 12, 13, 5, tzinfo=timezone.utc)  # 14 h 05 in Paris
NB = "\u00a0"
PREFECTURE_FR = "Préfecture (titre de séjour)"  # the preset purpose's words in the French catalogue
MARIE = {"by_name": "Marie L.", "organisation": "Accueil de jour Les Lilas"}


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


@pytest.fixture
def people(session):
    amina = add_account(session, "amina", now=NOW)
    marie = add_account(session, "marie", now=NOW, kind="staff")
    return amina, marie


def sentences(session, owner, translator, keys, language):
    items = list_activity(session, owner=owner.account, words=translator.for_language(language), keys=keys).items
    return [(item.sentence, item.pictogram) for item in reversed(items)]


def require_french(translator):
    catalogue = translator.catalogues["fr"]
    if catalogue.gettext(activity_consent.DEPOSITED) == activity_consent.DEPOSITED:
        pytest.skip("the French catalogue does not hold the consent sentences yet (filled by the lead)")


def record(session, action, actor, subject, *, document_id=None, **details):
    record_event(session, action=action, now=NOW, actor_id=actor.id, subject_id=subject.id,
                 document_id=document_id, details=details)


# --- each event of the catalogue, as recorded ----------------------------------------------------------
CASES = [
    # (action, actor is the person?, details, English, French)
    ("follow.started", True, {"organisation": "Accueil de jour Les Lilas", "organisation_id": "o-1"},
     "Accueil de jour Les Lilas now follows you, with your consent.",
     "Accueil de jour Les Lilas vous accompagne désormais, avec votre accord.", "users"),
    ("follow.ended", True, {"organisation": "Accueil de jour Les Lilas", "organisation_id": "o-1"},
     "Accueil de jour Les Lilas no longer follows you. It can no longer find you.",
     "Accueil de jour Les Lilas ne vous accompagne plus. Cette structure ne peut plus vous trouver.", "user-minus"),
    ("share.granted", True, {"share_id": "s-1", "grantee_name": "Marie L.", "organisation": "Accueil de jour Les Lilas",
                             "purpose": "caf_rsa", "purpose_text": None,
                             "kinds": ["carte_identite", "attestation_caf"], "documents": 2,
                             "expires_at": "2026-03-19T13:05:00+00:00"},
     "You shared 2 papers (Identity card and CAF or RSA certificate) with Marie L. (Accueil de jour Les Lilas) "
     "until March 19, 2026 — purpose: CAF or RSA file.",
     None, "user-check"),
    ("share.granted", True, {"share_id": "s-1", "grantee_name": "Marie L.", "organisation": "Accueil de jour Les Lilas",
                             "purpose": "other", "purpose_text": "Dossier logement social",
                             "kinds": ["passeport"], "documents": 1, "expires_at": "2026-03-13T13:05:00+00:00",
                             "request_id": "r-1"},
     "You shared 1 paper (Passport) with Marie L. (Accueil de jour Les Lilas) until March 13, 2026 — "
     "purpose: Dossier logement social.", None, "user-check"),
    ("share.ended", True, {"share_id": "s-1", "reason": "owner", **{"grantee_name": "Marie L.",
                                                                     "organisation": "Accueil de jour Les Lilas"}},
     "You ended the share with Marie L. (Accueil de jour Les Lilas). They can no longer open your papers.",
     "Vous avez arrêté le partage avec Marie L. (Accueil de jour Les Lilas). Cette personne ne peut plus ouvrir "
     "vos papiers.", "lock"),
    ("share.ended", False, {"share_id": "s-1", "reason": "grantee", "grantee_name": "Marie L.",
                            "organisation": "Accueil de jour Les Lilas"},
     "Marie L. (Accueil de jour Les Lilas) gave back your share. They can no longer open your papers.",
     "Marie L. (Accueil de jour Les Lilas) a rendu votre partage. Cette personne ne peut plus ouvrir vos papiers.",
     "lock"),
    ("share.ended", False, {"share_id": "s-1", "reason": "deactivated", "grantee_name": "Marie L.",
                            "organisation": "Accueil de jour Les Lilas"},
     "The share with Marie L. (Accueil de jour Les Lilas) ended: they no longer work for their organisation.",
     f"Le partage avec Marie L. (Accueil de jour Les Lilas) est terminé{NB}: cette personne ne travaille plus "
     "pour sa structure.", "lock"),
    ("share.ended", None, {"share_id": "s-1", "reason": "expired", "grantee_name": "Marie L.",
                           "organisation": "Accueil de jour Les Lilas"},
     "The share with Marie L. (Accueil de jour Les Lilas) ended on its end date. They can no longer open your "
     "papers.",
     "Le partage avec Marie L. (Accueil de jour Les Lilas) est arrivé à sa date de fin. Cette personne ne peut "
     "plus ouvrir vos papiers.", "lock"),
    ("request.created", False, {"request_id": "r-1", **MARIE, "kinds": ["carte_identite"], "purpose": "caf_rsa",
                                "purpose_text": None, "duration_days": 7},
     "Marie L. (Accueil de jour Les Lilas) asks to see your papers (Identity card) for 7 days — "
     "purpose: CAF or RSA file.", None, "inbox"),
    ("request.approved", True, {"request_id": "r-1", **MARIE, "side_by_side": False, "share_id": "s-1"},
     "You accepted the request of Marie L. (Accueil de jour Les Lilas).",
     "Vous avez accepté la demande de Marie L. (Accueil de jour Les Lilas).", "circle-check"),
    ("request.approved", True, {"request_id": "r-1", **MARIE, "side_by_side": True, "share_id": "s-1"},
     "You accepted the request of Marie L. (Accueil de jour Les Lilas), with your password on their screen.",
     "Vous avez accepté la demande de Marie L. (Accueil de jour Les Lilas), avec votre mot de passe sur son écran.",
     "circle-check"),
    ("request.declined", True, {"request_id": "r-1", **MARIE, "side_by_side": False},
     "You declined the request of Marie L. (Accueil de jour Les Lilas).",
     "Vous avez refusé la demande de Marie L. (Accueil de jour Les Lilas).", "circle-x"),
    ("document.deposited", False, {**MARIE, "kind": "attestation_domiciliation"},
     "Marie L. (Accueil de jour Les Lilas) added a paper to your locker: Proof of address (domiciliation). "
     "Only you can open it.", None, "file-plus"),
    ("duplicate.issued", False, {"ref": "K7Q2-9XPA", **MARIE, "purpose": "caf_rsa", "purpose_text": None,
                                 "kind": "carte_identite", "share_id": "s-1", "disposition": "download"},
     "Marie L. (Accueil de jour Les Lilas) downloaded a copy of your paper: Identity card — purpose: CAF or RSA "
     "file.", None, "download"),
    ("duplicate.issued", False, {"ref": "K7Q2-9XPA", **MARIE, "purpose": "caf_rsa", "purpose_text": None,
                                 "kind": "carte_identite", "share_id": "s-1", "disposition": "view"},
     "Marie L. (Accueil de jour Les Lilas) looked at a copy of your paper: Identity card — purpose: CAF or RSA "
     "file.", None, "eye"),
    ("duplicate.issued", True, {"ref": "K7Q2-9XPA", "by_name": None, "organisation": None, "purpose": "housing",
                                "purpose_text": None, "kind": "carte_identite", "disposition": "download"},
     "You made a copy of your paper: Identity card — purpose: Housing.",
     f"Vous avez fait une copie de votre papier{NB}: Carte d'identité — motif{NB}: Logement.", "copy"),
    ("duplicate.deletion_requested", True, {"ref": "K7Q2-9XPA", **MARIE},
     "You asked Marie L. (Accueil de jour Les Lilas) to delete their copy (ref. K7Q2-9XPA).",
     "Vous avez demandé à Marie L. (Accueil de jour Les Lilas) de supprimer sa copie (réf. K7Q2-9XPA).", "mail-x"),
    ("duplicate.deletion_answered", False, {"ref": "K7Q2-9XPA", "answer": "deleted", **MARIE},
     "Marie L. (Accueil de jour Les Lilas) deleted their copy, as you asked (ref. K7Q2-9XPA).",
     "Marie L. (Accueil de jour Les Lilas) a supprimé sa copie, comme vous l'avez demandé (réf. K7Q2-9XPA).",
     "trash-2"),
    ("duplicate.deletion_answered", False, {"ref": "K7Q2-9XPA", "answer": "kept", **MARIE},
     "Marie L. (Accueil de jour Les Lilas) kept their copy (ref. K7Q2-9XPA). You can end the share, or ask for "
     "help.",
     "Marie L. (Accueil de jour Les Lilas) a gardé sa copie (réf. K7Q2-9XPA). Vous pouvez arrêter le partage, ou "
     "demander de l'aide.", "triangle-alert"),
]
def case_id(case):
    details = case[2]
    return "-".join(str(part) for part in (case[0], details.get("reason") or details.get("disposition")
                                            or details.get("answer") or details.get("side_by_side", "")) if part != "")


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_each_consent_event_names_the_worker_and_organisation_in_english(session, translator, keys, people, case):
    action, by_person, details, english, _, pictogram = case
    amina, marie = people
    actor = amina if by_person else (marie if by_person is False else None)
    card = add_document(session, amina, now=NOW, kind=details.get("kind") or "carte_identite", title="Ma carte")
    record_event(session, action=action, now=NOW, actor_id=actor.id if actor else None, subject_id=amina.id,
                 document_id=card.id if action.startswith(("document.", "duplicate.issued")) else None,
                 details=details)
    [item] = list_activity(session, owner=amina.account, words=translator.for_language("en"), keys=keys).items
    assert (item.sentence, item.pictogram) == (english, pictogram)
    assert item.pictogram in PICTOGRAMS
    if actor is marie:  # the worker as the event named them, never their username
        assert item.actor == "Marie L."
    assert "marie" not in item.sentence


@pytest.mark.parametrize("case", [case for case in CASES if case[4]], ids=[case_id(case) for case in CASES if case[4]])
def test_each_consent_event_in_french(session, translator, keys, people, case):
    require_french(translator)
    action, by_person, details, _, french, pictogram = case
    amina, marie = people
    actor = amina if by_person else (marie if by_person is False else None)
    record_event(session, action=action, now=NOW, actor_id=actor.id if actor else None, subject_id=amina.id,
                 details=details)
    [item] = list_activity(session, owner=amina.account, words=translator.for_language("fr"), keys=keys).items
    assert (item.sentence, item.pictogram) == (french, pictogram)


def test_french_sentences_with_kinds_purposes_and_dates(session, translator, keys, people):
    require_french(translator)
    amina, marie = people
    record(session, "share.granted", amina, amina, share_id="s-1", grantee_name="Marie L.",
           organisation="Accueil de jour Les Lilas", purpose="caf_rsa", purpose_text=None,
           kinds=["carte_identite", "passeport"], documents=2, expires_at="2026-03-19T13:05:00+00:00")
    record(session, "request.created", marie, amina, request_id="r-1", **MARIE, kinds=["passeport"],
           purpose="caf_rsa", purpose_text=None, duration_days=1)
    record(session, "duplicate.issued", marie, amina, ref="K7Q2-9XPA", **MARIE, purpose="caf_rsa", purpose_text=None,
           kind="carte_identite", share_id="s-1", disposition="download")
    record(session, "document.deposited", marie, amina, **MARIE, kind="passeport")
    record(session, "duplicate.issued", marie, amina, ref="K7Q2-9XPA", **MARIE, purpose="prefecture",
           purpose_text=None, kind="passeport", share_id="s-1", disposition="view")
    assert [sentence for sentence, _ in sentences(session, amina, translator, keys, "fr")] == [
        f"Vous avez partagé 2 papiers (Carte d'identité et Passeport) avec Marie L. (Accueil de jour Les Lilas) "
        f"jusqu'au 19 mars 2026 — motif{NB}: Dossier CAF ou RSA.",
        f"Marie L. (Accueil de jour Les Lilas) demande à voir vos papiers (Passeport) pendant 1 jour — "
        f"motif{NB}: Dossier CAF ou RSA.",
        f"Marie L. (Accueil de jour Les Lilas) a téléchargé une copie de votre papier{NB}: Carte d'identité — "
        f"motif{NB}: Dossier CAF ou RSA.",
        f"Marie L. (Accueil de jour Les Lilas) a ajouté un papier dans votre consigne{NB}: Passeport. Vous seul "
        "pouvez l'ouvrir.",
        f"Marie L. (Accueil de jour Les Lilas) a regardé une copie de votre papier{NB}: Passeport — "
        f"motif{NB}: {PREFECTURE_FR}.",
    ]


# --- what the sentences never do ------------------------------------------------------------------------
def test_names_are_those_of_the_moment_not_of_today(session, translator, keys, people):
    amina, marie = people
    record(session, "document.deposited", marie, amina, **MARIE, kind="passeport")
    marie.account.username, marie.account.display_name = "marie-renamed", "Marie Laurent"
    session.flush()
    [(sentence, _)] = sentences(session, amina, translator, keys, "en")
    assert sentence.startswith("Marie L. (Accueil de jour Les Lilas) added a paper")


def test_missing_or_malformed_details_never_break_a_line(session, translator, keys, people):
    amina, marie = people
    record(session, "duplicate.issued", marie, amina, ref=None, by_name="Marie L.", organisation=None,
           purpose=12, kind=["x"], disposition="download")
    record(session, "share.granted", amina, amina, documents="two", kinds="carte_identite", expires_at="soon")
    record(session, "request.created", marie, amina, by_name="", organisation="", duration_days=-3)
    record(session, "share.ended", marie, amina, reason="something new", grantee_name="Marie L.")
    assert [sentence for sentence, _ in sentences(session, amina, translator, keys, "en")] == [
        "Marie L. downloaded a copy of your paper: a paper — purpose: —.",
        "You shared 0 papers (a paper) with Someone until — — purpose: —.",
        "Someone asks to see your papers (a paper) for 1 day — purpose: —.",
        "The share with Marie L. ended. They can no longer open your papers.",
    ]


def test_in_arabic_names_keep_their_own_direction(session, translator, keys, people):
    amina, marie = people
    record(session, "document.deposited", marie, amina, **MARIE, kind="passeport")
    [(sentence, _)] = sentences(session, amina, translator, keys, "ar")
    assert "\u2068Marie L.\u2069" in sentence and "\u2068Accueil de jour Les Lilas\u2069" in sentence
    [(english, _)] = sentences(session, amina, translator, keys, "en")
    assert "\u2068" not in english


def test_the_time_is_the_lines_own_not_in_the_sentence(session, translator, keys, people):
    amina, marie = people
    later = NOW + timedelta(hours=2)
    record_event(session, action="duplicate.issued", now=later, actor_id=marie.id, subject_id=amina.id,
                 details={"ref": "R", **MARIE, "purpose": "caf_rsa", "purpose_text": None, "kind": "passeport",
                          "disposition": "view"})
    [item] = list_activity(session, owner=amina.account, words=translator.for_language("en"), keys=keys).items
    assert item.at == later and "16" not in item.sentence
