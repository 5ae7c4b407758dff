"""Closing a vault for good: the person deletes their account, their papers and every way back to them.

The order is the point. Everything happens in the request's one transaction, then the blobs go:

1. Shares end. For each share not yet past its end, a ``closed_shares`` row keeps only what the worker
   needs to be told "the vault was closed" (random share id, worker, organisation, purpose code, dates).
   The wrapped file keys are emptied first, then the shares' rows go.
2. Every key that opens the identity is destroyed: the password seal (the account row), the recovery
   codes' seals, the assisted-recovery seals, the sessions (the identity under a session key). Once this
   commits, the person's age files are ciphertext that nobody can open, wherever a copy of them lies
   (a backup of the bucket, an orphan a failed deletion left behind).
3. The rows of the person go (follows, requests, recoveries, failed sign-ins, throttle counters,
   papers), the copies register keeps its public statement without the person (see below), and
   ``account.deleted`` is recorded with no details.
4. After the commit, the blobs are deleted (UnitOfWork.doomed_blobs). Not before: a blob deleted before
   a commit that then fails would leave a live vault with papers gone. A blob whose deletion fails (store
   down) is an orphan, unreadable since step 2, which ``consigne sweep-orphans`` removes later: no row
   names it any more.

The copies register (``duplicates``) keeps, for each copy a worker was given, its reference, date,
organisation, purpose, kind and digest, so that a printed copy's QR code can still be checked; its
links to the person, the paper and the share are emptied. That public record says that some paper of a
kind was copied for a purpose: nothing in it names, describes or points to the person.

The events of the person's chain stay (deleting them would break the hash chain that proves nothing was
hidden); they hold the person's random id, kinds and the names of the *workers* who acted, never the
person's username, a title or a file name.

Only a person closes a vault this way. A staff member's account holds the organisation's keys, its
assisted-recovery seals and the copies they were given: an admin deactivates them (vault.organisations).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from vault.db import UnitOfWork, lock_row
from vault.errors import VaultClosed
from vault.events import record_event
from vault.keys import KeyConfig
from vault.models import (
    AccessRequest,
    Account,
    AssistedRecovery,
    AssistedRecoverySeal,
    ClosedShare,
    Document,
    Duplicate,
    FailedSignInBurst,
    Follow,
    RecoveryCode,
    Session as SessionRow,
    Share,
    SharedDocument,
    Throttle,
)
from vault.policies import may_close_vault, require
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount
from vault.throttle import Attempt, account_key, throttle_key


def close_vault(uow: UnitOfWork, *, current: CurrentAccount, keys: KeyConfig, attempt: Attempt, password: str,
                now: datetime) -> int:
    """After the current password, delete the person's vault (see the module's docstring for the order).

    Returns the number of papers deleted. Two closings at once: the account's row lock orders them; the
    second finds the account gone and gets VaultClosed, having changed nothing.
    """
    require(may_close_vault(current.actor))
    session = uow.session
    person_id = current.account.id
    username = current.account.username
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    # The lock also waits for an upload that is inserting a paper (it locks this row for its quota check):
    # the paper is then deleted with the others, or the upload finds the account gone.
    lock_row(session, Account, Account.id == person_id)
    if session.scalar(select(Account.id).where(Account.id == person_id)
                      .execution_options(populate_existing=True)) is None:
        raise VaultClosed()
    _end_shares(session, person_id, now)
    _destroy_seals(session, person_id)
    papers = _delete_papers(uow, person_id)
    _delete_the_rest(session, keys, person_id, username)
    record_event(session, action="account.deleted", now=now, actor_id=person_id, subject_id=person_id, details={})
    session.flush()
    return papers


def closed_share_for(session: Session, *, grantee_id: str, share_id: str) -> ClosedShare | None:
    """The closed-vault record of ``share_id`` if ``grantee_id`` was its worker (no one else learns it)."""
    closed = session.get(ClosedShare, share_id) if isinstance(share_id, str) and len(share_id) == 36 else None
    return closed if closed is not None and closed.grantee_id == grantee_id else None


def list_closed_shares(session: Session, *, grantee_id: str) -> list[ClosedShare]:
    """The shares a worker held in vaults since closed, most recently closed first."""
    return list(session.scalars(select(ClosedShare).where(ClosedShare.grantee_id == grantee_id)
                                .order_by(ClosedShare.closed_at.desc(), ClosedShare.share_id)))


def purge_closed_shares(session: Session, *, now: datetime) -> int:
    """Forget closed shares once they would have ended anyway (``consigne purge``)."""
    result = session.execute(delete(ClosedShare).where(ClosedShare.expires_at <= now)
                             .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount


# --- the steps -------------------------------------------------------------------------------------
def _end_shares(session: Session, person_id: str, now: datetime) -> None:
    shares = list(session.scalars(select(Share).where(Share.owner_id == person_id)))
    share_ids = [share.id for share in shares]
    for share in shares:
        if share.expires_at > now:
            session.add(ClosedShare(share_id=share.id, grantee_id=share.grantee_id,
                                    organisation_id=share.organisation_id, purpose_code=share.purpose_code,
                                    granted_at=share.created_at, expires_at=share.expires_at, closed_at=now))
    if share_ids:
        # Keys first: from here on, nothing in the database opens a paper for a worker.
        session.execute(update(SharedDocument).where(SharedDocument.share_id.in_(share_ids))
                        .values(wrapped_file_key=None).execution_options(synchronize_session=False))
        session.execute(delete(SharedDocument).where(SharedDocument.share_id.in_(share_ids))
                        .execution_options(synchronize_session=False))
        session.execute(update(Duplicate).where(Duplicate.share_id.in_(share_ids)).values(share_id=None)
                        .execution_options(synchronize_session=False))
        session.execute(delete(Share).where(Share.id.in_(share_ids)).execution_options(synchronize_session=False))
    session.flush()


def _destroy_seals(session: Session, person_id: str) -> None:
    """Every sealed copy of the identity: codes, opt-ins to assisted recovery, sessions, then the password's."""
    for model, column in ((RecoveryCode, RecoveryCode.account_id), (AssistedRecoverySeal, AssistedRecoverySeal.person_id),
                          (SessionRow, SessionRow.account_id)):
        session.execute(delete(model).where(column == person_id).execution_options(synchronize_session=False))
    # The row itself goes last (step 3); its password seal is emptied now, in the same transaction.
    session.execute(update(Account).where(Account.id == person_id)
                    .values(password_sealed_identity=b"", otp_secret_sealed=None)
                    .execution_options(synchronize_session=False))
    session.flush()


def _delete_papers(uow: UnitOfWork, person_id: str) -> int:
    session = uow.session
    papers = list(session.execute(select(Document.id, Document.blob_name, Document.thumbnail_blob_name)
                                  .where(Document.owner_id == person_id)))
    paper_ids = [paper.id for paper in papers]
    session.execute(update(Duplicate).where(or_(Duplicate.owner_id == person_id, Duplicate.document_id.in_(paper_ids)))
                    .values(owner_id=None, document_id=None).execution_options(synchronize_session=False))
    session.execute(update(Duplicate).where(Duplicate.issued_to_id == person_id).values(issued_to_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(SharedDocument).where(SharedDocument.document_id.in_(paper_ids))
                    .execution_options(synchronize_session=False))
    session.execute(delete(Document).where(Document.owner_id == person_id).execution_options(synchronize_session=False))
    for paper in papers:  # deleted once the transaction has committed; an orphan if the store fails
        uow.doomed_blobs.extend([paper.blob_name, paper.thumbnail_blob_name])
    session.flush()
    return len(papers)


def _delete_the_rest(session: Session, keys: KeyConfig, person_id: str, username: str) -> None:
    for model, column in ((Follow, Follow.person_id), (AccessRequest, AccessRequest.person_id),
                          (AssistedRecovery, AssistedRecovery.person_id),
                          (FailedSignInBurst, FailedSignInBurst.account_id)):
        session.execute(delete(model).where(column == person_id).execution_options(synchronize_session=False))
    # The counters keyed by this username and account: a newcomer who takes the freed username later
    # must not inherit them (they are HMACs: they never held the name itself).
    counters = [account_key(keys, username), throttle_key(keys, "second-factor", person_id)]
    session.execute(delete(Throttle).where(Throttle.key.in_(counters)).execution_options(synchronize_session=False))
    session.execute(delete(Account).where(Account.id == person_id).execution_options(synchronize_session=False))
    session.expunge_all()  # the objects of this request (the account, its session) no longer exist
    session.flush()


__all__ = ["close_vault", "closed_share_for", "list_closed_shares", "purge_closed_shares"]
