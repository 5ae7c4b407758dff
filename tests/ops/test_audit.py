"""``consigne audit verify``: every hash chain checked, a tampered row found and named."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from ops import cli
from vault.audit import check_all_chains
from vault.db import make_engine, make_session_factory
from vault.events import record_event, verify_chain
from vault.models import Event

NOW = datetime(2026, 3, 12, 13, 5, tzinfo=timezone.utc)
AMINA, KARIM = "a" * 8 + "-0000-0000-0000-" + "0" * 12, "b" * 8 + "-0000-0000-0000-" + "0" * 12


@pytest.fixture
def session_factory(environment):
    engine = make_engine(environment.database_url)
    factory = make_session_factory(engine)
    with factory() as session:  # two people's chains of three events, and the anonymous chain
        for subject in (AMINA, KARIM):
            for minute, action in enumerate(("account.created", "signin.succeeded", "document.deposited")):
                record_event(session, action=action, now=NOW + timedelta(minutes=minute), actor_id=subject,
                             subject_id=subject, details={"kind": "passeport"} if minute == 2 else None)
        record_event(session, action="signin.failed", now=NOW, actor_id=None, subject_id=None)
        session.commit()
    yield factory
    engine.dispose()


def audit(capsys) -> tuple[int, dict]:
    status = cli.main(["audit", "verify"])
    return status, json.loads(capsys.readouterr().out)


def change(session_factory, statement) -> None:
    with session_factory() as session:
        session.execute(statement)
        session.commit()


def test_intact_chains_pass(session_factory, capsys):
    status, report = audit(capsys)
    assert status == 0
    assert report["summary"] == {"chains": 3, "events": 7, "broken": 0, "broken_chains": [], "intact": True}
    assert {(chain["chain"], chain["events"], chain["intact"]) for chain in report["chains"]} == {
        (AMINA, 3, True), (KARIM, 3, True), ("anonymous", 1, True)}


def test_an_edited_row_is_found_and_named(session_factory, capsys):
    # Someone with database access rewrites what was deposited, hoping nobody notices
    change(session_factory, update(Event).where(Event.chain == AMINA, Event.sequence == 3)
           .values(details={"kind": "carte_identite"}))
    status, report = audit(capsys)
    assert status == 1
    assert report["summary"]["broken_chains"] == [AMINA] and report["summary"]["intact"] is False
    [broken] = [chain for chain in report["chains"] if not chain["intact"]]
    assert broken == {"chain": AMINA, "events": 3, "intact": False, "broken_at": 3, "reason": "hash"}
    with session_factory() as session:  # the same verdict as vault.events.verify_chain
        assert verify_chain(session, AMINA) is False and verify_chain(session, KARIM) is True


def test_an_edited_actor_is_found(session_factory, capsys):
    change(session_factory, update(Event).where(Event.chain == KARIM, Event.sequence == 2).values(actor_id=None))
    status, report = audit(capsys)
    assert status == 1 and report["summary"]["broken_chains"] == [KARIM]
    assert [(c["broken_at"], c["reason"]) for c in report["chains"] if c["chain"] == KARIM] == [(2, "hash")]


def test_a_deleted_row_in_the_middle_or_at_the_end_is_found(session_factory, capsys):
    change(session_factory, delete(Event).where(Event.chain == AMINA, Event.sequence == 2))
    change(session_factory, delete(Event).where(Event.chain == KARIM, Event.sequence == 3))
    status, report = audit(capsys)
    assert status == 1
    reasons = {c["chain"]: (c["broken_at"], c["reason"]) for c in report["chains"] if not c["intact"]}
    assert reasons == {AMINA: (3, "sequence"), KARIM: (3, "head")}
    with session_factory() as session:
        assert [check.intact for check in check_all_chains(session)] == [
            verify_chain(session, name) for name in sorted({AMINA, KARIM, "anonymous"})]


def test_a_row_rewritten_with_a_fresh_hash_still_breaks_the_next_link(session_factory, capsys):
    # Recomputing the edited row's own hash is not enough: the next event links to the old one
    from vault.events import hash_event

    with session_factory() as session:
        event = session.scalars(select(Event).where(Event.chain == AMINA, Event.sequence == 2)).one()
        event.details = {"forged": True}
        event.hash = hash_event(event)
        session.commit()
    status, report = audit(capsys)
    assert status == 1
    assert [(c["broken_at"], c["reason"]) for c in report["chains"] if c["chain"] == AMINA] == [(3, "link")]
