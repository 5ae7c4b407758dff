"""vault.events under parallel requests, on SQLite and PostgreSQL.

Threat: two requests for the same person (a phone and a shelter computer, or two workers) append to the
person's event chain at the same moment. If both read the same head, the chain forks: two events with
the same sequence, one of them pointing at a hash nobody follows, and ``verify_chain`` can no longer
prove that nothing was removed. The head row is locked from reading it to the commit, so it never forks.
Bounded: two threads, a few dozen events, each thread waiting at most the database's busy timeout.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.factories import build_services, make_document, make_person
from vault import documents
from vault.events import record_event, verify_chain
from vault.models import Event

THREADS = 2
EVENTS_PER_THREAD = 15


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def run_together(work, count: int = THREADS) -> None:
    """Run ``work(index)`` on ``count`` threads released at once; re-raise the first failure."""
    start = threading.Barrier(count, timeout=30)
    failures: list[BaseException] = []

    def body(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as error:  # collected and re-raised in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    if failures:
        raise failures[0]


def sequences(services, chain: str) -> list[int]:
    with services.session_factory() as session:
        return list(session.scalars(select(Event.sequence).where(Event.chain == chain).order_by(Event.sequence)))


def test_two_threads_appending_to_one_chain_never_fork_it(services):
    amina = make_person(services, "amina", signed_in=False)
    already = len(sequences(services, amina.id))

    def append(index: int) -> None:
        for number in range(EVENTS_PER_THREAD):
            with services.transaction() as uow:  # one transaction per event, as one request each
                record_event(uow.session, action="document.viewed", now=services.now, actor_id=amina.id,
                             subject_id=amina.id, details={"thread": index, "number": number})

    run_together(append)
    assert sequences(services, amina.id) == list(range(1, already + THREADS * EVENTS_PER_THREAD + 1))
    with services.session_factory() as session:
        assert verify_chain(session, amina.id)


def test_parallel_requests_through_the_services_keep_the_chain_whole(services):
    # The same person on two devices: one reads a paper again and again while the other renames it.
    amina = make_person(services, "amina")
    paper = make_document(services, amina)

    def work(index: int) -> None:
        for number in range(8):
            with services.transaction() as uow:
                current = services.current(uow.session, amina.token)
                if index == 0:
                    _, reader = documents.open_document_content(uow, current=current, document_id=paper.id,
                                                                now=services.now, inline=True)
                    reader.close()
                else:
                    documents.update_document(uow.session, current=current, document_id=paper.id,
                                              changes={"title": f"Titre {number}"}, now=services.now)

    run_together(work)
    found = sequences(services, amina.id)
    assert found == list(range(1, len(found) + 1)) and len(found) >= 16
    with services.session_factory() as session:
        assert verify_chain(session, amina.id)
