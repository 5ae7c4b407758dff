"""Every rule of vault.policies, as one table: rule × kind of actor → allowed or not.

The rows are plain model objects (never added to a database): the checks are pure functions, so what
they decide depends on nothing but the actor and the rows.
"""

from datetime import datetime, timedelta, timezone

import pytest

from vault import policies
from vault.models import AccessRequest, Account, AssistedRecovery, Document, Duplicate, Follow, Share
from vault.policies import Actor, Role

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
ORGANISATION, OTHER_ORGANISATION = "org-1", "org-2"

OWNER = Actor.person("person-1")
ANOTHER_PERSON = Actor.person("person-2")
GRANTEE = Actor.staff("worker-1", {ORGANISATION: Role.WORKER})
COLLEAGUE = Actor.staff("worker-2", {ORGANISATION: Role.WORKER})
ADMIN = Actor.staff("admin-1", {ORGANISATION: Role.ADMIN})
FOREIGN_WORKER = Actor.staff("worker-3", {OTHER_ORGANISATION: Role.WORKER})
DEACTIVATED_GRANTEE = Actor.staff("worker-1", {})  # the same account once its membership has ended
OPERATOR = Actor.operator()

ACTORS = {"owner": OWNER, "another person": ANOTHER_PERSON, "grantee": GRANTEE, "colleague": COLLEAGUE,
          "admin": ADMIN, "foreign worker": FOREIGN_WORKER, "deactivated grantee": DEACTIVATED_GRANTEE,
          "operator": OPERATOR}


def share(**changes) -> Share:
    values = dict(id="share-1", owner_id="person-1", grantee_id="worker-1", organisation_id=ORGANISATION,
                  purpose_code="caf_rsa", created_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=6),
                  ended_at=None)
    return Share(**(values | changes))


ACTIVE = share()
EXPIRED = share(expires_at=NOW - timedelta(seconds=1))
ENDED = share(ended_at=NOW - timedelta(hours=1))
DOCUMENT = Document(id="doc-1", owner_id="person-1", kind="carte_identite")
FOLLOW = Follow(id="f-1", organisation_id=ORGANISATION, person_id="person-1", consented_at=NOW)
ENDED_FOLLOW = Follow(id="f-2", organisation_id=ORGANISATION, person_id="person-1", consented_at=NOW, ended_at=NOW)
WAITING = AccessRequest(id="r-1", organisation_id=ORGANISATION, requester_id="worker-1", person_id="person-1",
                        kinds=["carte_identite"], purpose_code="caf_rsa", duration_days=7, created_at=NOW,
                        status="waiting")
ANSWERED = AccessRequest(id="r-2", organisation_id=ORGANISATION, requester_id="worker-1", person_id="person-1",
                         kinds=["carte_identite"], purpose_code="caf_rsa", duration_days=7, created_at=NOW,
                         status="declined")
OTHER_DOCUMENT = Document(id="doc-2", owner_id="person-2", kind="carte_identite")


def duplicate(**changes) -> Duplicate:
    values = dict(ref="7K3M-QX2D-9TBW-HN4F", owner_id="person-1", document_id="doc-1", share_id="share-1",
                  issued_to_id="worker-1", organisation_id=ORGANISATION, organisation_name="Accueil",
                  purpose_code="caf_rsa", kind="carte_identite", issued_at=NOW, sha256=b"0" * 32,
                  signing_key_id="k", deletion_requested_at=None, deletion_answer=None)
    return Duplicate(**(values | changes))


WORKER_COPY = duplicate()
OWN_COPY = duplicate(share_id=None, issued_to_id="person-1", organisation_id=None, organisation_name=None)
ASKED_COPY = duplicate(deletion_requested_at=NOW)
ANSWERED_COPY = duplicate(deletion_requested_at=NOW, deletion_answer="deleted")


def recovery(**changes) -> AssistedRecovery:
    values = dict(id="rec-1", organisation_id=ORGANISATION, person_id="person-1", started_by_id="worker-1",
                  confirmed_by_id=None, created_at=NOW, expires_at=NOW + timedelta(minutes=15), confirmed_at=None,
                  completed_at=None)
    return AssistedRecovery(**(values | changes))


STARTED = recovery()
STARTED_BY_ADMIN = recovery(started_by_id="admin-1")
EXPIRED_RECOVERY = recovery(expires_at=NOW)
CONFIRMED = recovery(confirmed_by_id="admin-1", confirmed_at=NOW)
COMPLETED = recovery(confirmed_by_id="admin-1", confirmed_at=NOW, completed_at=NOW)
CONFIRMED_BY_WORKER = recovery(started_by_id="admin-1", confirmed_by_id="worker-2", confirmed_at=NOW)

# rule → the actors it allows (every other actor of ACTORS is refused).
TABLE = {
    "keep papers": (lambda a: policies.may_keep_papers(a), {"owner", "another person"}),
    "manage own document": (lambda a: policies.may_manage_own_document(a, DOCUMENT), {"owner"}),
    "read shared, active": (lambda a: policies.may_read_shared_document(a, ACTIVE, NOW), {"grantee"}),
    "read shared, expired": (lambda a: policies.may_read_shared_document(a, EXPIRED, NOW), set()),
    "read shared, ended": (lambda a: policies.may_read_shared_document(a, ENDED, NOW), set()),
    "see share": (lambda a: policies.may_see_share(a, ACTIVE), {"owner", "grantee", "deactivated grantee"}),
    "end share": (lambda a: policies.may_end_share(a, ACTIVE), {"owner", "grantee", "deactivated grantee"}),
    "end an ended share": (lambda a: policies.may_end_share(a, ENDED), set()),
    "act for the organisation": (lambda a: policies.may_act_for(a, ORGANISATION), {"grantee", "colleague", "admin"}),
    "manage the organisation": (lambda a: policies.may_manage_organisation(a, ORGANISATION), {"admin"}),
    "create an organisation": (lambda a: policies.may_create_organisation(a), {"operator"}),
    "administer staff": (lambda a: policies.may_administer_staff(a, ORGANISATION), {"admin", "operator"}),
    "enrol for the organisation": (lambda a: policies.may_enrol_for(a, ORGANISATION),
                                   {"grantee", "colleague", "admin"}),
    "close a vault": (policies.may_close_vault, {"owner", "another person"}),
    "start a follow": (lambda a: policies.may_start_follow(a, "person-1"), {"owner"}),
    "end a follow": (lambda a: policies.may_end_follow(a, FOLLOW), {"owner"}),
    "end an ended follow": (lambda a: policies.may_end_follow(a, ENDED_FOLLOW), set()),
    "see a follower": (lambda a: policies.may_see_follower(a, FOLLOW), {"grantee", "colleague", "admin"}),
    "see a former follower": (lambda a: policies.may_see_follower(a, ENDED_FOLLOW), set()),
    "request access": (lambda a: policies.may_request_access(a, FOLLOW), {"grantee", "colleague", "admin"}),
    "deposit": (lambda a: policies.may_deposit(a, FOLLOW), {"grantee", "colleague", "admin"}),
    "deposit without a follow": (lambda a: policies.may_deposit(a, None), set()),
    "see a request": (lambda a: policies.may_see_request(a, WAITING), {"owner", "grantee", "colleague", "admin"}),
    "answer a request": (lambda a: policies.may_answer_request(a, WAITING), {"owner"}),
    "answer an answered request": (lambda a: policies.may_answer_request(a, ANSWERED), set()),
    "copy own paper": (lambda a: policies.may_copy_document(a, DOCUMENT, None, NOW), {"owner"}),
    "copy through an active share": (lambda a: policies.may_copy_document(a, DOCUMENT, ACTIVE, NOW), {"grantee"}),
    "copy through an expired share": (lambda a: policies.may_copy_document(a, DOCUMENT, EXPIRED, NOW), set()),
    "copy through an ended share": (lambda a: policies.may_copy_document(a, DOCUMENT, ENDED, NOW), set()),
    "copy another person's paper through a share": (
        lambda a: policies.may_copy_document(a, OTHER_DOCUMENT, ACTIVE, NOW), set()),
    "see a worker's copy": (lambda a: policies.may_see_duplicate(a, WORKER_COPY),
                            {"owner", "grantee", "deactivated grantee"}),
    "see an own copy": (lambda a: policies.may_see_duplicate(a, OWN_COPY), {"owner"}),
    "ask to delete a copy": (lambda a: policies.may_ask_deletion(a, WORKER_COPY), {"owner"}),
    "ask to delete an own copy": (lambda a: policies.may_ask_deletion(a, OWN_COPY), set()),
    "ask twice to delete a copy": (lambda a: policies.may_ask_deletion(a, ASKED_COPY), set()),
    "answer a deletion request": (lambda a: policies.may_answer_deletion(a, ASKED_COPY),
                                  {"grantee", "deactivated grantee"}),
    "answer before any request": (lambda a: policies.may_answer_deletion(a, WORKER_COPY), set()),
    "answer a deletion request twice": (lambda a: policies.may_answer_deletion(a, ANSWERED_COPY), set()),
    "choose assisted recovery": (lambda a: policies.may_choose_assisted_recovery(a, FOLLOW), {"owner"}),
    "choose assisted recovery, ended follow": (
        lambda a: policies.may_choose_assisted_recovery(a, ENDED_FOLLOW), set()),
    "choose assisted recovery, no follow": (lambda a: policies.may_choose_assisted_recovery(a, None), set()),
    "start a recovery": (lambda a: policies.may_start_recovery(a, ORGANISATION), {"grantee", "colleague", "admin"}),
    "see a recovery": (lambda a: policies.may_see_recovery(a, STARTED, NOW), {"grantee", "colleague", "admin"}),
    "see an expired recovery": (lambda a: policies.may_see_recovery(a, EXPIRED_RECOVERY, NOW), set()),
    "see a finished recovery": (lambda a: policies.may_see_recovery(a, COMPLETED, NOW), set()),
    # Started by a worker: only an admin (never the same worker) confirms.
    "confirm a worker's recovery": (lambda a: policies.may_confirm_recovery(a, STARTED, GRANTEE, NOW), {"admin"}),
    # Started by an admin: any other staff member of the organisation confirms.
    "confirm an admin's recovery": (lambda a: policies.may_confirm_recovery(a, STARTED_BY_ADMIN, ADMIN, NOW),
                                    {"grantee", "colleague"}),
    "confirm when the starter left": (
        lambda a: policies.may_confirm_recovery(a, STARTED, DEACTIVATED_GRANTEE, NOW), set()),
    "confirm twice": (lambda a: policies.may_confirm_recovery(a, CONFIRMED, GRANTEE, NOW), set()),
    "complete a confirmed recovery": (
        lambda a: policies.may_complete_recovery(a, CONFIRMED, GRANTEE, ADMIN, NOW), {"admin"}),
    "complete when the admin confirmed a worker's start, worker-2 confirming": (
        lambda a: policies.may_complete_recovery(a, CONFIRMED_BY_WORKER, ADMIN, COLLEAGUE, NOW), {"admin"}),
    "complete an unconfirmed recovery": (
        lambda a: policies.may_complete_recovery(a, STARTED, GRANTEE, ADMIN, NOW), set()),
    "complete a finished recovery": (
        lambda a: policies.may_complete_recovery(a, COMPLETED, GRANTEE, ADMIN, NOW), set()),
    "complete when the worker left": (
        lambda a: policies.may_complete_recovery(a, CONFIRMED, DEACTIVATED_GRANTEE, ADMIN, NOW), set()),
}


@pytest.mark.parametrize("rule", sorted(TABLE))
@pytest.mark.parametrize("actor_name", sorted(ACTORS))
def test_each_rule_allows_exactly_its_actors(rule, actor_name):
    check, allowed = TABLE[rule]
    assert check(ACTORS[actor_name]) is (actor_name in allowed)


def test_sharing_needs_an_active_staff_member_with_an_organisation():
    staff = Account(id="worker-1", kind="staff", status="active")
    assert policies.may_share_with(OWNER, staff, GRANTEE)
    assert not policies.may_share_with(GRANTEE, staff, GRANTEE)  # staff share nothing of their own
    assert not policies.may_share_with(OWNER, staff, DEACTIVATED_GRANTEE)
    assert not policies.may_share_with(OWNER, Account(id="w", kind="staff", status="deactivated"), GRANTEE)
    assert not policies.may_share_with(OWNER, Account(id="person-2", kind="person", status="active"),
                                       ANOTHER_PERSON)


def test_a_refusal_can_hide_existence():
    from vault.errors import DocumentNotFound, NotAllowed

    with pytest.raises(NotAllowed):
        policies.require(False)
    with pytest.raises(DocumentNotFound):
        policies.require(False, hidden_as=DocumentNotFound)
    policies.require(True)


def test_actor_for_keeps_only_active_memberships(services):
    from tests.factories import make_staff
    from vault.models import Membership

    staff = make_staff(services, "marie.l", signed_in=False)
    with services.transaction() as uow:
        account = uow.session.get(Account, staff.id)
        actor = policies.actor_for(uow.session, account)
        assert actor.is_staff and list(actor.memberships.values()) == [Role.WORKER]
        membership = uow.session.query(Membership).filter_by(account_id=staff.id).one()
        membership.ended_at = services.now
        uow.session.flush()
        assert dict(policies.actor_for(uow.session, account).memberships) == {}
