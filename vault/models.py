"""Database models.

What is stored in clear is only what the server needs to work: usernames, public keys, document kinds,
sizes and dates (quotas, reminders, requests). Everything a person writes (titles, file names) and every
secret key is ciphertext here. The schema is built by Alembic migrations (``vault/migrations``); a test
checks that these models and the migrations never drift apart.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone; we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass aware UTC times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A person (owner of a vault) or a staff member of an organisation."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # "person" | "staff"
    username: Mapped[str] = mapped_column(String(32), unique=True)  # stored lowercase
    public_key: Mapped[str] = mapped_column(String(100))  # age1… X25519 recipient
    # The X25519 secret key sealed under the password (crypto.sealing): useless without the password,
    # the pepper from the environment and one Argon2id computation.
    password_sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    otp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    otp_enabled: Mapped[bool] = mapped_column(default=False)
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(back_populates="account", cascade="all")


class RecoveryCode(Base):
    """One of the ten codes of the printed sheet; the code itself is never stored.

    ``lookup_hash`` is an HMAC of the code under the application key, so the row can be found without
    keeping the code; ``sealed_identity`` is the account's secret key sealed under the code, so a code
    can also open the vault when the password is forgotten.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    lookup_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Version of the application key the lookup hash was made with (the key ring keeps old versions
    # until no unused code needs them).
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    account: Mapped[Account] = relationship(back_populates="recovery_codes")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # For assisted recovery (a later issue): the organisation's X25519 recipient, its secret sealed to
    # each admin. Nullable until the organisation sets it up.
    recovery_public_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Membership(Base):
    """A staff account in an organisation, with a role ("worker" or "admin")."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follow(Base):
    """A person followed by an organisation, with the person's consent; ``ended_at`` when withdrawn."""

    __tablename__ = "follows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Document(Base):
    """One paper: one or several pages in one age-encrypted blob, plus an encrypted thumbnail."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner_created", "owner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # age-encrypted to the owner's public key; None when the person gave no title.
    title_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    file_names_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(60))
    pages: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)  # plaintext bytes, shown to the person
    stored_size: Mapped[int] = mapped_column(BigInteger)  # ciphertext bytes, counted in the quota
    blob_name: Mapped[str] = mapped_column(String(200), unique=True)
    thumbnail_blob_name: Mapped[str] = mapped_column(String(200), unique=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    deposited_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Session(Base):
    """The server half of a session: the unlocked secret key, sealed under a key only the client holds.

    The session key lives in the token (cookie or bearer) and nowhere on the server, so this row alone
    opens nothing. Signing out, idle time-out and absolute time-out delete the row. ``idle_until`` moves
    forward with activity; both deadlines are columns so that sweeping is one indexed DELETE.

    A session whose password was right but whose second step (TOTP or recovery code) is still to come
    is ``pending_second_factor``: it opens nothing but that second step, and lives a few minutes.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idle_seconds: Mapped[int] = mapped_column(Integer)
    idle_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    pending_second_factor: Mapped[bool] = mapped_column(default=False)


class Throttle(Base):
    """Attempts counted per key (a hashed account, device, address…), with a capped back-off."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FailedSignInBurst(Base):
    """Failed sign-ins on one account close together in time: one line in the person's activity.

    One event is recorded when a burst starts (it names the burst); the count and the time of the last
    try live here, so a thousand wrong guesses never bury the real accesses in the activity.
    """

    __tablename__ = "failed_sign_in_bursts"
    __table_args__ = (Index("ix_failed_sign_in_bursts_account_last", "account_id", "last_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)


class EventChain(Base):
    """Head of one hash chain of events; locked while appending so chains never fork."""

    __tablename__ = "event_chains"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    head_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Event(Base):
    """An audit record: who did what to which paper, when. Never a secret, never free text about people."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("chain", "sequence"),
        # The person's activity is read newest first by id, a page at a time.
        Index("ix_events_subject_id", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # whose vault
    document_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    previous_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
