"""Follows: only the person starts and ends them; staff see followers by username only; ending a follow
leaves the shares alone (the person ends those separately)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.factories import join_staff, make_follow, make_organisation, make_person
from vault import follows
from vault.errors import FollowNotFound, NotAllowed, OrganisationNotFound
from vault.models import Account, Event, Follow, Share
from vault.policies import Actor, actor_for


def actor_of(services, someone) -> Actor:
    with services.transaction() as uow:
        return actor_for(uow.session, uow.session.get(Account, someone.id))


def events(services, subject_id):
    with services.transaction() as uow:
        return [(event.action, event.details) for event in
                uow.session.scalars(select(Event).where(Event.subject_id == subject_id).order_by(Event.id))]


@pytest.fixture
def world(services, clock):
    lilas_id, code = make_organisation(services, "Les Lilas")
    worker = join_staff(services, code, "marie.l")
    other_id, other_code = make_organisation(services, "Autre")
    stranger = join_staff(services, other_code, "paul.k")
    person = make_person(services, "amina")
    return lilas_id, other_id, worker, stranger, person


def test_a_person_starts_lists_and_ends_a_follow(services, world):
    lilas_id, other_id, worker, stranger, person = world
    with services.transaction() as uow:
        started = follows.start_follow(uow.session, actor=Actor.person(person.id), organisation_id=lilas_id,
                                       now=services.now)
    with services.transaction() as uow:  # twice: the same follow, no second event
        again = follows.start_follow(uow.session, actor=Actor.person(person.id), organisation_id=lilas_id,
                                     now=services.now)
        assert again.id == started.id
        listed = follows.list_follows(uow.session, actor=Actor.person(person.id))
    assert [(item.organisation, item.id) for item in listed] == [("Les Lilas", started.id)]
    with services.transaction() as uow:
        follows.end_follow(uow.session, actor=Actor.person(person.id), follow_id=started.id, now=services.now)
    with pytest.raises(FollowNotFound), services.transaction() as uow:
        follows.end_follow(uow.session, actor=Actor.person(person.id), follow_id=started.id, now=services.now)
    detail = {"organisation": "Les Lilas", "organisation_id": lilas_id}
    assert [item for item in events(services, person.id) if item[0].startswith("follow.")] == [
        ("follow.started", detail), ("follow.ended", detail)]


def test_nobody_else_starts_or_ends_a_persons_follow(services, world):
    lilas_id, other_id, worker, stranger, person = world
    follow_id = make_follow(services, person, lilas_id)
    other = make_person(services, "yusuf")
    for actor in (actor_of(services, worker), Actor.operator()):
        with pytest.raises(NotAllowed), services.transaction() as uow:
            follows.start_follow(uow.session, actor=actor, organisation_id=lilas_id, now=services.now)
    for actor in (actor_of(services, worker), actor_of(services, stranger), Actor.person(other.id), Actor.operator()):
        with pytest.raises(FollowNotFound), services.transaction() as uow:
            follows.end_follow(uow.session, actor=actor, follow_id=follow_id, now=services.now)
    for bad in ("nope", None, 3):
        with pytest.raises(OrganisationNotFound), services.transaction() as uow:
            follows.start_follow(uow.session, actor=Actor.person(person.id), organisation_id=bad, now=services.now)


def test_staff_see_their_followers_by_username_only(services, world):
    lilas_id, other_id, worker, stranger, person = world
    make_follow(services, person, lilas_id)
    make_follow(services, make_person(services, "yusuf"), other_id)
    with services.transaction() as uow:
        mine = follows.list_followers(uow.session, actor=actor_of(services, worker), organisation_id=None)
        theirs = follows.list_followers(uow.session, actor=actor_of(services, stranger), organisation_id=None)
    assert [vars(item) for item in mine] == [{"username": "amina"}]
    assert [item.username for item in theirs] == ["yusuf"]
    with pytest.raises(NotAllowed), services.transaction() as uow:
        follows.list_followers(uow.session, actor=actor_of(services, stranger), organisation_id=lilas_id)
    with pytest.raises(NotAllowed), services.transaction() as uow:
        follows.list_followers(uow.session, actor=Actor.person(person.id), organisation_id=lilas_id)


def test_ending_a_follow_leaves_the_shares(services, world):
    lilas_id, other_id, worker, stranger, person = world
    follow_id = make_follow(services, person, lilas_id)
    with services.transaction() as uow:
        share = Share(owner_id=person.id, grantee_id=worker.id, organisation_id=lilas_id, purpose_code="housing",
                      created_at=services.now, expires_at=services.now + timedelta(days=7))
        uow.session.add(share)
        uow.session.flush()
        share_id = share.id
    with services.transaction() as uow:
        follows.end_follow(uow.session, actor=Actor.person(person.id), follow_id=follow_id, now=services.now)
    with services.transaction() as uow:
        assert uow.session.get(Share, share_id).ended_at is None


def test_a_double_click_makes_one_follow(services, world):
    lilas_id, other_id, worker, stranger, person = world
    barrier = threading.Barrier(2)

    def start():
        barrier.wait()
        try:
            make_follow(services, person, lilas_id)
        except OperationalError:  # SQLite busy under contention: the other click made it
            pass

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with services.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Follow).where(Follow.person_id == person.id)) == 1


def test_organisations_are_listed_for_signed_in_accounts(services, world):
    lilas_id, other_id, worker, stranger, person = world
    with services.transaction() as uow:
        names = [item.name for item in follows.list_organisations(uow.session, actor=Actor.person(person.id))]
    assert names == ["Autre", "Les Lilas"]
