"""Accounts and what signing in keeps: recovery codes, sessions, throttles, failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vault.models.base import Base, UTCDateTime, new_id


class Account(Base):
    """A person (owner of a vault) or a staff member of an organisation."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # vault.policies.AccountKind: "person" | "staff"
    username: Mapped[str] = mapped_column(String(32), unique=True)  # stored lowercase
    # Staff only: the name people read in their activity ("Marie L."), chosen by the staff member.
    # People have none: their username is all anyone sees of them.
    display_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    public_key: Mapped[str] = mapped_column(String(100))  # age1… X25519 recipient
    # The X25519 secret key sealed under the password (crypto.sealing): useless without the password,
    # the pepper from the environment and one Argon2id computation.
    password_sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    otp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    otp_enabled: Mapped[bool] = mapped_column(default=False)
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # vault.policies.AccountStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last full sign-in (not every request: no write per page). ``consigne retention`` lists vaults
    # unused for years from it; None until the first sign-in after enrolment.
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the way in was changed without the password (a recovery code, or assisted recovery): the
    # next sign-in shows it prominently, so a person whose sheet was stolen learns it; cleared once seen.
    recovery_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

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
