"""Organisations, their staff (memberships) and the people who chose to be followed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime, new_id


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # For assisted recovery: the organisation's X25519 recipient (age encoding). Its secret half exists only
    # sealed to each admin (``OrganisationKeySeal``). None until an admin's session first sets it up.
    recovery_public_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Membership(Base):
    """A staff account in an organisation, with a role ("worker" or "admin")."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # vault.policies.Role
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when an admin deactivates the staff member: from then on they act for the organisation no more.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Follow(Base):
    """A person followed by an organisation, with the person's consent; ``ended_at`` when withdrawn."""

    __tablename__ = "follows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Invitation(Base):
    """A one-time code that lets its holder create a staff account in an organisation, with a role.

    Only an HMAC of the code is kept (like recovery codes), so the table alone lets no one in.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)


class Purpose(Base):
    """A purpose an organisation may ask papers for: a preset code (vault.purposes), or "other" with a text.

    Shares, requests and duplicates copy the code and text when they are made, so what a person
    consented to stays exactly what they read, whatever the organisation registers later.
    """

    __tablename__ = "purposes"
    __table_args__ = (UniqueConstraint("organisation_id", "code", "text"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(String(200), nullable=True)  # for "other" only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
