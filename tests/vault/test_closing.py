"""Closing a vault through the service, on SQLite and PostgreSQL, with the real blob store.

After closing, no row holds the person's id or username (every table of Base.metadata is read, events
aside: their chain stays, with nothing personal in it), no blob of theirs is left in the store, the
worker who held a share is told the vault was closed, and the copies register still verifies. Misuse:
a wrong password changes nothing, two closings at once leave one winner, an upload or a shared read at
the same moment leaves no half state, and a store that is down leaves orphans the sweep removes.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import LargeBinary, func, select

from ops.orphans import BLOB_PREFIX, sweep_orphans
from storage.s3 import S3BlobStore
from tests.factories import attempt_for, make_document, make_follow, make_person, make_staff, pdf_file, photo_file
from tests.factories import sign_in
from tests.servers.moto_server import running_moto
from tests.vault.test_duplicates_service import look_up, worker_copy
from tests.vault.test_shares_service import CAF, grant, open_as, register
from vault import access_requests, shares
from vault.closing import close_vault, list_closed_shares, purge_closed_shares
from vault.db import UnitOfWork
from vault.events import verify_chain
from vault.errors import (
    AuthenticationFailed,
    DocumentNotFound,
    NotAllowed,
    SessionExpired,
    ShareNotFound,
    VaultClosed,
    WrongPassword,
)
from vault.models import Base, ClosedShare, Document, Event
from vault.policies import actor_for

KEPT_TABLES = {"events", "event_chains"}  # the hash chain stays; checked for personal data separately
# What a wrong password legitimately leaves: the failed attempt, counted and shown to the person.
COUNTED_TABLES = {"throttles", "failed_sign_in_bursts", "events", "event_chains"}


@pytest.fixture
def world(services):
    person = make_person(services, "amina")
    other = make_person(services, "bilal")
    worker = make_staff(services, "marie", organisation="Les Lilas")
    register(services, worker.organisation_id, CAF)
    make_follow(services, person, worker.organisation_id)
    card = make_document(services, person, title="Ma carte", files=[pdf_file("Carte")])
    payslip = make_document(services, person, kind="bulletin_salaire", title="Mars", files=[photo_file()])
    theirs = make_document(services, other, title="Pas à toi")
    share = grant(services, person, "marie", [card.id, payslip.id])
    ended = grant(services, person, "marie", [card.id], days=3)
    with services.transaction() as uow:
        shares.end_share(uow.session, actor=actor_for(uow.session, _account(uow.session, person.id)),
                         share_id=ended.id, now=services.now)
        current = services.current(uow.session, worker.token)
        access_requests.create_request(uow.session, actor=current.actor, person="amina",
                                       kinds=["avis_imposition"], purpose=CAF, duration_days=7, now=services.now)
    copy = worker_copy(services, worker, card.id, share.id)
    return dict(person=person, other=other, worker=worker, card=card, payslip=payslip, theirs=theirs, share=share,
                ended=ended, copy=copy)


def _account(session, account_id):
    from vault.models import Account

    return session.get(Account, account_id)


def close(services, who, password=None):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return close_vault(uow, current=current, keys=services.keys, attempt=attempt_for(services),
                           password=who.password if password is None else password, now=services.now)


def blob_names(services) -> set[str]:
    return set(services.store.list(BLOB_PREFIX))


def blobs_of(services, owner_id) -> set[str]:
    with services.session_factory() as session:
        rows = session.execute(select(Document.blob_name, Document.thumbnail_blob_name)
                               .where(Document.owner_id == owner_id))
        return {name for row in rows for name in row}


def every_row(services, skip=frozenset()) -> dict[str, list[tuple]]:
    with services.session_factory() as session:
        return {table.name: sorted((tuple(str(value) for value in row)
                                    for row in session.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables if table.name not in skip}


def traces_of(services, person) -> list[str]:
    """Every cell of every table (events aside) that holds the person's id or username."""
    found = []
    with services.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in KEPT_TABLES:
                continue
            text_columns = [column for column in table.columns if not isinstance(column.type, LargeBinary)]
            for row in session.execute(select(*text_columns)):
                for column, value in zip(text_columns, row):
                    if value is not None and (person.id in str(value) or str(value) == person.username):
                        found.append(f"{table.name}.{column.name}")
    return found


def test_closing_leaves_no_row_and_no_blob_of_the_person(services, world):
    person, other, worker = world["person"], world["other"], world["worker"]
    mine, theirs = blobs_of(services, person.id), blobs_of(services, other.id)
    assert len(mine) == 4 and mine <= blob_names(services)
    assert traces_of(services, person)  # the walk does see the person before

    assert close(services, person) == 2

    assert traces_of(services, person) == []
    assert blob_names(services) == theirs  # the person's blobs gone, everyone else's untouched
    with services.session_factory() as session:
        events = list(session.scalars(select(Event)))
        assert all("amina" not in str(event.details) for event in events)
        assert all("Ma carte" not in str(event.details) for event in events)
        [closed] = session.scalars(select(Event).where(Event.action == "account.deleted"))
        assert closed.details == {} and closed.subject_id == person.id
        assert verify_chain(session, person.id)  # the person's chain stays whole (consigne audit verify)
        # The worker keeps the news, and nothing about the person.
        closed_shares = list_closed_shares(session, grantee_id=worker.id)
        assert {row.share_id for row in closed_shares} == {world["share"].id, world["ended"].id}
        assert {row.purpose_code for row in closed_shares} == {"caf_rsa"}
    # The copy a worker was given still verifies (the public record), with its share gone.
    assert look_up(services, world["copy"].ref).status == "share_ended"
    # The person cannot come back: the session and the sign-in are gone.
    with services.session_factory() as session, pytest.raises(SessionExpired):
        services.current(session, person.token)
    with pytest.raises(AuthenticationFailed):
        sign_in(services, person.username, person.password)


def test_the_worker_is_told_the_vault_was_closed(services, world):
    person, worker, share = world["person"], world["worker"], world["share"]
    close(services, person)
    with services.transaction() as uow:
        current = services.current(uow.session, worker.token)
        with pytest.raises(VaultClosed):
            shares.get_share(uow.session, actor=current.actor, identity=current.identity, share_id=share.id,
                             now=services.now)
    with pytest.raises(VaultClosed):
        open_as(services, worker, share.id, world["card"].id)
    # Anyone else still gets the same "not found" as for a share that never existed.
    colleague = make_staff(services, "paul", organisation_id=worker.organisation_id)
    with services.transaction() as uow:
        current = services.current(uow.session, colleague.token)
        with pytest.raises(ShareNotFound):
            shares.get_share(uow.session, actor=current.actor, identity=None, share_id=share.id, now=services.now)


def test_purge_forgets_closed_shares_once_they_would_have_ended(services, world):
    close(services, world["person"])
    with services.transaction() as uow:
        assert purge_closed_shares(uow.session, now=services.now) == 0
        assert purge_closed_shares(uow.session, now=services.now + timedelta(days=3, seconds=1)) == 1
        assert purge_closed_shares(uow.session, now=services.now + timedelta(days=8)) == 1
        assert uow.session.scalar(select(func.count()).select_from(ClosedShare)) == 0


def test_a_wrong_password_changes_nothing(services, world):
    before = every_row(services, skip=COUNTED_TABLES)
    blobs = blob_names(services)
    with pytest.raises(WrongPassword):
        close(services, world["person"], password="pas-le-bon-mot-de-passe")
    assert every_row(services, skip=COUNTED_TABLES) == before
    assert blob_names(services) == blobs


def test_staff_cannot_close_this_way(services, world):
    with pytest.raises(NotAllowed):
        close(services, world["worker"])


def run_together(*jobs) -> list:
    """Run ``jobs`` on threads released at once; each result or exception, in order (bounded: joined)."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            results[index] = job(barrier)
        except Exception as error:  # noqa: BLE001 - the test looks at what each thread got
            results[index] = error

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    return results


def closing_job(services, person):
    def job(barrier):
        with services.transaction() as uow:
            current = services.current(uow.session, person.token)
            uow.session.commit()  # end the read so each thread starts from the same point
            barrier.wait()
            return close_vault(uow, current=current, keys=services.keys, attempt=attempt_for(services),
                               password=person.password, now=services.now)
    return job


def test_two_closings_at_once_one_wins(services, world):
    person = world["person"]
    results = run_together(closing_job(services, person), closing_job(services, person))
    assert sorted(type(result).__name__ for result in results) == ["VaultClosed", "int"]
    assert traces_of(services, person) == []
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "account.deleted")) == 1


def test_an_upload_during_the_closing_leaves_no_half_state(services, world):
    from vault import documents

    person, other = world["person"], world["other"]

    def upload(barrier):
        with services.transaction() as uow:
            current = services.current(uow.session, person.token)
            uow.session.commit()
            barrier.wait()
            return documents.add_document(uow, current=current, files=[photo_file((1, 2, 3))], kind="carte_identite",
                                          title=None, expires_on=None, limits=services.settings.limits,
                                          now=services.now, gate=services.gates.media)

    theirs = blobs_of(services, other.id)
    closing, uploaded = run_together(closing_job(services, person), upload)
    # The paper went in first (then deleted with the rest), or the upload found the vault closed.
    assert (closing, type(uploaded).__name__) in {(3, "DocumentView"), (2, "VaultClosed")}
    assert traces_of(services, person) == []
    assert blob_names(services) == theirs


def test_a_shared_read_during_the_closing_gets_the_paper_or_nothing(services, world):
    person, worker, share, card = world["person"], world["worker"], world["share"], world["card"]

    def read(barrier):
        barrier.wait()
        return open_as(services, worker, share.id, card.id)

    closing, read_result = run_together(closing_job(services, person), read)
    assert closing == 2
    assert isinstance(read_result, (tuple, DocumentNotFound, VaultClosed))
    assert traces_of(services, person) == []
    assert blob_names(services) == blobs_of(services, world["other"].id)


def test_a_store_down_leaves_orphans_that_the_sweep_removes(services, world, settings):
    """The closing commits (the account is unusable at once); the blobs it could not delete are found by
    ``consigne sweep-orphans`` later, since no row names them."""
    person = world["person"]
    mine = blobs_of(services, person.id)
    with running_moto() as endpoint:
        down = S3BlobStore(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, "gone",
                           region=endpoint.region, connect_timeout=1.0, read_timeout=2.0, retries=0)
    # The server is stopped: every delete fails. The database is the real one.
    uow = UnitOfWork(services.session_factory(), down)
    try:
        current = services.current(uow.session, person.token)
        close_vault(uow, current=current, keys=services.keys, attempt=attempt_for(services), password=person.password,
                    now=services.now)
        uow.commit()
    finally:
        uow.close()
    assert traces_of(services, person) == []
    assert mine <= blob_names(services)  # still there: the store never heard the deletes
    removed = sweep_orphans(settings, older_than=datetime.now(services.now.tzinfo) + timedelta(minutes=1))
    assert set(removed) == mine
    assert not mine & blob_names(services)
