"""vault.accounts called directly (no HTTP), on SQLite and PostgreSQL with the local store.

The recovery sheet is a person's way back in when the password is gone, so its seals are tested end to
end: a printed code opens the identity, and that identity decrypts a stored paper; a wrong code, a
code of another account, and a code already burnt open nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crypto import age
from crypto.codes import generate_recovery_code, normalise_recovery_code
from crypto.errors import CryptoError
from tests.factories import (
    KNOWN_PASSWORD,
    attempt_for,
    build_services,
    make_document,
    make_person,
    make_staff,
    photo_file,
    read_all,
    sign_in,
)
from vault import accounts, documents, sessions, two_factor
from vault.errors import InvalidUsername, NotAllowed, SecondFactorFailed, UsernameTaken, WeakPassword
from vault.events import list_events_for
from vault.keys import lookup_hashes_for_code, unseal_identity_with_code
from vault.models import Account, Follow, RecoveryCode


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def open_with_code(services, account_id: str, code: str) -> age.X25519Identity | None:
    """What a recovery does with a printed code: find its unused row, unseal the identity it guards."""
    normalised = normalise_recovery_code(code)
    with services.session_factory() as session:
        row = session.scalar(select(RecoveryCode).where(
            RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None),
            RecoveryCode.lookup_hash.in_(lookup_hashes_for_code(services.keys, normalised))))
        if row is None:
            return None
        return unseal_identity_with_code(services.keys, account_id, row.sealed_identity, normalised)


def stored_blob(services, document_id: str) -> bytes:
    from vault.models import Document

    with services.session_factory() as session:
        name = session.get(Document, document_id).blob_name
    return read_all(services.store.open(name))


def test_a_recovery_code_opens_the_identity_and_decrypts_a_paper(services):
    amina = make_person(services, "amina")
    paper = make_document(services, amina, files=[photo_file((30, 30, 200))])
    with services.transaction() as uow:
        _, reader = documents.open_document_content(uow, current=services.current(uow.session, amina.token),
                                                    document_id=paper.id, now=services.now)
        served = read_all(reader)

    for code in (amina.recovery_codes[0], amina.recovery_codes[9].lower().replace("-", " ")):
        identity = open_with_code(services, amina.id, code)
        assert identity is not None
        assert age.decrypt_bytes(stored_blob(services, paper.id), identities=[identity]) == served


def test_a_wrong_code_or_another_accounts_code_opens_nothing(services):
    amina = make_person(services, "amina")
    karim = make_person(services, "karim")
    assert open_with_code(services, amina.id, generate_recovery_code()) is None
    assert open_with_code(services, amina.id, karim.recovery_codes[0]) is None
    # Even given the right row, a seal opens only with its own code and for its own account (AAD).
    with services.session_factory() as session:
        row = session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == amina.id)).first()
    with pytest.raises(CryptoError):
        unseal_identity_with_code(services.keys, amina.id, row.sealed_identity,
                                  normalise_recovery_code(generate_recovery_code()))
    right = next(code for code in amina.recovery_codes if open_with_code(services, amina.id, code) is not None)
    with pytest.raises(CryptoError):
        unseal_identity_with_code(services.keys, karim.id, row.sealed_identity, normalise_recovery_code(right))


def test_a_code_burnt_by_a_sign_in_cannot_be_used_again(services):
    amina = make_person(services, "amina")
    turn_on_two_step(services, amina)
    code = amina.recovery_codes[2]
    sign_in(services, amina.username, amina.password, recovery_code=code)  # burns it

    assert open_with_code(services, amina.id, code) is None
    with services.session_factory() as session:
        assert accounts.recovery_codes_left(session, session.get(Account, amina.id)) == 9
        assert not accounts.current_codes_match(session, keys=services.keys, account=session.get(Account, amina.id),
                                                codes=[code])
    with pytest.raises(SecondFactorFailed):
        sign_in(services, amina.username, amina.password, recovery_code=code)
    assert open_with_code(services, amina.id, amina.recovery_codes[3]) is not None


def test_renewing_burns_every_old_code_and_the_new_ones_work(services):
    amina = make_person(services, "amina")
    paper = make_document(services, amina)
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        new_codes = accounts.renew_recovery_codes(uow.session, keys=services.keys, attempt=attempt_for(services),
                                                  current=current, password=amina.password, now=services.now)
    assert set(new_codes).isdisjoint(amina.recovery_codes)
    assert all(open_with_code(services, amina.id, code) is None for code in amina.recovery_codes)
    identity = open_with_code(services, amina.id, new_codes[0])
    assert age.decrypt_bytes(stored_blob(services, paper.id), identities=[identity])
    with services.session_factory() as session:
        account = session.get(Account, amina.id)
        assert accounts.current_codes_match(session, keys=services.keys, account=account, codes=new_codes)
        assert not accounts.current_codes_match(session, keys=services.keys, account=account,
                                                codes=amina.recovery_codes)
        assert not accounts.current_codes_match(session, keys=services.keys, account=account,
                                                codes=[new_codes[0], new_codes[0]])
        assert accounts.recovery_codes_left(session, account) == 10
        assert list_events_for(session, subject_id=amina.id)[0].action == "recovery_codes.renewed"


def turn_on_two_step(services, person) -> None:
    import pyotp

    with services.transaction() as uow:
        setup = two_factor.begin_setup(uow.session, keys=services.keys, attempt=attempt_for(services),
                                       current=services.current(uow.session, person.token),
                                       password=person.password, now=services.now)
    services.clock.advance(seconds=30)
    with services.transaction() as uow:
        two_factor.confirm_setup(uow.session, keys=services.keys, attempt=attempt_for(services),
                                 current=services.current(uow.session, person.token),
                                 code=pyotp.TOTP(setup.secret).at(services.now), now=services.now)
    services.clock.advance(seconds=30)


def test_enrolment_normalises_and_refuses_clearly(services):
    amina = make_person(services, "  Amina.B ", signed_in=False)
    assert amina.username == "amina.b" and len(amina.recovery_codes) == 10
    with pytest.raises(UsernameTaken), services.transaction() as uow:
        accounts.enrol_person(uow.session, keys=services.keys, username="AMINA.B", password=KNOWN_PASSWORD,
                              now=services.now)
    with pytest.raises(InvalidUsername), services.transaction() as uow:
        accounts.enrol_person(uow.session, keys=services.keys, username="a/b", password=KNOWN_PASSWORD,
                              now=services.now)
    with pytest.raises(WeakPassword) as weak, services.transaction() as uow:
        accounts.enrol_person(uow.session, keys=services.keys, username="nadia", password="nadia-2026",
                              now=services.now)
    assert weak.value.details["reason"] == "contains_username"
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_only_staff_can_enrol_someone_into_their_organisation(services):
    worker = make_staff(services, "travailleur")
    amina = make_person(services, "amina")
    with pytest.raises(NotAllowed), services.transaction() as uow:  # alone, no organisation can be named
        accounts.enrol_person(uow.session, keys=services.keys, username="karim", password=KNOWN_PASSWORD,
                              now=services.now, follow_organisation=True)
    with pytest.raises(NotAllowed), services.transaction() as uow:  # a person is not staff
        accounts.enrol_person(uow.session, keys=services.keys, username="karim", password=KNOWN_PASSWORD,
                              now=services.now, assisted_by=uow.session.get(Account, amina.id),
                              follow_organisation=True)
    with services.transaction() as uow:
        staff = services.current(uow.session, worker.token).account
        karim = accounts.enrol_person(uow.session, keys=services.keys, username="karim", password=KNOWN_PASSWORD,
                                      now=services.now, assisted_by=staff, follow_organisation=True).account.id
    with services.session_factory() as session:
        assert [follow.person_id for follow in session.scalars(select(Follow))] == [karim]
        assert [event.action for event in list_events_for(session, subject_id=karim)] == [
            "follow.started", "account.created"]
