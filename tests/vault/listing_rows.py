"""Rows for listing tests, made directly on a real database (no HTTP, no password hashing).

Accounts get a real X25519 identity (titles are really encrypted to it); documents get random blob
names and no blobs, which listing never opens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from crypto import age
from vault.models import Account, Document, new_id
from vault.sessions import CurrentAccount


@dataclass
class Owner:
    account: Account
    identity: age.X25519Identity

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def current(self) -> CurrentAccount:
        return CurrentAccount(account=self.account, identity=self.identity, session=None)


def add_account(session, username: str, *, now: datetime, kind: str = "person") -> Owner:
    identity = age.X25519Identity.generate()
    account = Account(id=new_id(), kind=kind, username=username, public_key=identity.recipient.to_string(),
                      password_sealed_identity=b"not used here", created_at=now, password_changed_at=now)
    session.add(account)
    session.flush()
    return Owner(account, identity)


def add_document(session, owner: Owner, *, now: datetime, kind: str = "carte_identite",
                 title: str | None = None) -> Document:
    recipient = [owner.identity.recipient]
    document = Document(
        id=new_id(), owner_id=owner.id, kind=kind,
        title_sealed=age.encrypt_bytes(title.encode(), recipient) if title else None,
        file_names_sealed=age.encrypt_bytes(b'["scan.pdf"]', recipient), content_type="application/pdf", pages=1,
        size=1000, stored_size=1200, blob_name="blobs/" + secrets.token_hex(16),
        thumbnail_blob_name="blobs/" + secrets.token_hex(16), created_at=now, updated_at=now)
    session.add(document)
    session.flush()
    return document
