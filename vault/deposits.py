"""Deposits: a worker adds a newly issued paper to the vault of a person who follows their organisation.

The paper goes through the same path as a person's own upload (``vault.documents.store_new_document``:
the same checks, cleaning, media gate and quota, the person's quota) and is encrypted to the person's
public key only. Encrypting needs no secret, so the worker's key is never used: once it is stored the
worker cannot read it back, nor its title, unless the person later shares it with them. What the
worker is told afterwards is only what they already knew (the kind) and what the server counted (id,
pages, date): never the title back, which is sealed to the person.

Who may deposit (``vault.policies.may_deposit``): an active staff member of an organisation the person
follows, with the person's consent, right now. Every refusal about the person (no such username, a
person who does not follow this organisation, or who stopped) is the same "not found", so a worker
cannot use this to learn which usernames exist. Someone who is not acting staff at all (a person, a
deactivated worker) is refused before the username is even looked at.

The person's activity then says who added it, named as they were ("Marie L. (Accueil de jour Les
Lilas)"), and the paper's tile says « Ajouté par … ». The person may delete it like any of their papers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from vault.accounts import normalise_username, public_name
from vault.capacity import WorkGate
from vault.db import UnitOfWork
from vault.documents import DEPOSITED, store_new_document
from vault.errors import InvalidUsername, PersonNotFound
from vault.events import record_event
from vault.media import UploadedFile
from vault.models import Account, Follow, Organisation
from vault.policies import AccountKind, AccountStatus, Actor, may_deposit, require
from vault.sessions import CurrentAccount
from vault.settings import Limits


@dataclass(frozen=True)
class DepositReceipt:
    """What the worker sees of a paper they deposited: no title, no content, nothing they did not bring."""

    id: str
    kind: str
    pages: int
    created_at: datetime


def deposit_document(uow: UnitOfWork, *, current: CurrentAccount, username: str, files: list[UploadedFile],
                     kind: str, title: str | None, expires_on: date | None, limits: Limits, now: datetime,
                     gate: WorkGate) -> DepositReceipt:
    """Add a paper to ``username``'s vault on behalf of the current worker; ``files`` is consumed.

    Raises NotAllowed when the current account is not acting staff, PersonNotFound when ``username`` is
    not a person following one of the worker's organisations (whatever the reason).
    """
    worker = current.account
    person, follow = _check(uow, current, username)
    organisation = uow.session.get(Organisation, follow.organisation_id)
    document = store_new_document(uow, owner=person, files=files, kind=kind, title=title, expires_on=expires_on,
                                  limits=limits, now=now, gate=gate, deposited_by_id=worker.id)
    # Checked again now that the person's row is locked (store_new_document): a person who stopped the
    # follow while the paper was being cleaned and stored gets nothing (the rollback deletes the blobs).
    ended = uow.session.execute(select(Follow.ended_at).where(Follow.id == follow.id)
                                .execution_options(populate_existing=True)).scalar_one()
    require(ended is None, hidden_as=PersonNotFound)
    # Names as they are now: the person's activity keeps telling the truth after a rename or a departure.
    record_event(uow.session, action=DEPOSITED, now=now, actor_id=worker.id, subject_id=person.id,
                 document_id=document.id,
                 details={"by_name": public_name(worker), "organisation": organisation.name, "kind": document.kind})
    return DepositReceipt(id=document.id, kind=document.kind, pages=document.pages, created_at=document.created_at)


def deposit_target(uow: UnitOfWork, *, current: CurrentAccount, username: str) -> str:
    """The person's username if the current worker may deposit into their vault now; else the same
    refusals as ``deposit_document`` (for the page that shows the form before anything is sent)."""
    person, _follow = _check(uow, current, username)
    return person.username


def _check(uow: UnitOfWork, current: CurrentAccount, username: str) -> tuple[Account, Follow]:
    actor = current.actor
    # Not staff with an active membership (a person, a deactivated worker): refused before any look-up,
    # so the answer cannot depend on the username.
    require(actor.is_staff and bool(actor.memberships) and current.account.status == AccountStatus.ACTIVE)
    person, follow = _followed_person(uow, actor, username)
    require(may_deposit(actor, follow), hidden_as=PersonNotFound)
    return person, follow


def _followed_person(uow: UnitOfWork, actor: Actor, username: str) -> tuple[Account, Follow]:
    """The person and their oldest active follow of one of the actor's organisations; else PersonNotFound."""
    try:
        username = normalise_username(username)
    except InvalidUsername:
        raise PersonNotFound() from None
    session = uow.session
    row = session.execute(
        select(Account, Follow)
        .join(Follow, Follow.person_id == Account.id)
        .where(Account.username == username, Account.kind == AccountKind.PERSON,
               Follow.ended_at.is_(None), Follow.organisation_id.in_(list(actor.memberships)))
        .order_by(Follow.consented_at, Follow.id)
        .limit(1)).first()
    if row is None:
        raise PersonNotFound()
    return row[0], row[1]


__all__ = ["DepositReceipt", "deposit_document", "deposit_target"]
