"""Assisted recovery: the organisation's recovery key, the people who opted in, and each recovery in person.

The organisation's X25519 recovery identity exists only sealed to each of its admins (``OrganisationKeySeal``:
an age file to the admin's own public key, opened with the admin's identity from their session). A person
who opts in for that organisation has their identity sealed to the organisation's public key
(``AssistedRecoverySeal``); opting out deletes that row. An ``AssistedRecovery`` is one procedure: a
staff member starts it, a second one confirms, one of the two being an admin, and the person then types
a new password on the spot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime, new_id


class OrganisationKeySeal(Base):
    """The organisation's recovery identity, age-encrypted to one admin's public key."""

    __tablename__ = "organisation_key_seals"
    __table_args__ = (UniqueConstraint("organisation_id", "admin_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    admin_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # The public key this seal opens to (organisations.recovery_public_key when it was made): after a
    # rotation, a seal of the old key is recognisable and removed.
    public_key: Mapped[str] = mapped_column(String(100))
    sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssistedRecoverySeal(Base):
    """A person's identity, age-encrypted to an organisation's recovery key: the person's opt-in."""

    __tablename__ = "assisted_recovery_seals"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(String(100))  # the organisation key it was sealed to
    sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssistedRecovery(Base):
    """One recovery in person: started by a staff member, confirmed by a second, completed once."""

    __tablename__ = "assisted_recoveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    started_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    confirmed_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"),
                                                        nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # a recovery in person lasts minutes
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
