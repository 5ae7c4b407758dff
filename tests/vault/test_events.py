"""Hash-chained events: appended per vault, verifiable, and any edit breaks the chain."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from vault.db import make_engine, make_session_factory, migrate
from vault.events import list_events_for, record_event, verify_chain
from vault.models import Event

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_chain_verifies_and_detects_tampering(session):
    for minute, action in enumerate(["account.created", "signin.succeeded", "document.uploaded"]):
        record_event(session, action=action, now=NOW + timedelta(minutes=minute), actor_id="p1", subject_id="p1")
    record_event(session, action="signin.failed", now=NOW, actor_id=None, subject_id=None)
    session.commit()
    assert verify_chain(session, "p1")
    assert verify_chain(session, "anonymous")
    assert [e.action for e in list_events_for(session, subject_id="p1")] == [
        "document.uploaded", "signin.succeeded", "account.created"]

    session.execute(update(Event).where(Event.action == "signin.succeeded").values(action="session.ended"))
    session.commit()
    assert not verify_chain(session, "p1")


def test_deleting_an_event_breaks_the_chain(session):
    for action in ["account.created", "document.viewed", "document.downloaded"]:
        record_event(session, action=action, now=NOW, actor_id="p2", subject_id="p2")
    session.commit()
    session.delete(session.query(Event).filter_by(action="document.viewed").one())
    session.commit()
    assert not verify_chain(session, "p2")


def test_unknown_actions_are_refused(session):
    with pytest.raises(ValueError):
        record_event(session, action="anything", now=NOW, actor_id=None, subject_id=None)
