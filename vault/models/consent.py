"""Consent: shares of papers with one staff member, and the requests that ask for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime, new_id


class Share(Base):
    """A person lets one staff member (the grantee) see chosen papers, for a purpose, until a date.

    Active while ``ended_at`` is empty and ``expires_at`` is ahead. Ending it (the person, the grantee
    giving it back, a deactivation, ``consigne purge`` after expiry) deletes the wrapped file keys.
    """

    __tablename__ = "shares"
    __table_args__ = (
        Index("ix_shares_owner_created", "owner_id", "created_at"),
        Index("ix_shares_grantee_expires", "grantee_id", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    grantee_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The organisation the grantee acts for in this share (copied: it names the share in receipts).
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        nullable=True, index=True)
    purpose_code: Mapped[str] = mapped_column(String(40))
    purpose_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    access_request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # "owner" | "grantee" | "deactivated" | "expired"
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SharedDocument(Base):
    """One paper of a share, with its age file key wrapped to the grantee (an X25519 stanza).

    ``wrapped_file_key`` is emptied when the share ends: the server then holds nothing that opens the
    paper for the grantee.
    """

    __tablename__ = "shared_documents"

    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    wrapped_file_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class AccessRequest(Base):
    """A worker asks a person who follows their organisation for kinds of papers, for a purpose."""

    __tablename__ = "access_requests"
    __table_args__ = (
        Index("ix_access_requests_person_status", "person_id", "status"),
        Index("ix_access_requests_organisation_created", "organisation_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    requester_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kinds: Mapped[list] = mapped_column(JSON)
    purpose_code: Mapped[str] = mapped_column(String(40))
    purpose_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    duration_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | approved | declined | withdrawn
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    share_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ClosedShare(Base):
    """What a worker still learns of a share whose vault the person closed (deleted): that it is closed.

    The share row went with the vault; this keeps only the share's random id, the worker, the
    organisation, the purpose code and two dates, so ``GET /shares/{id}`` can answer "the vault was
    closed" instead of an unexplained "not found". Nothing here names or describes the person.
    ``consigne purge`` removes it once the share would have ended anyway.
    """

    __tablename__ = "closed_shares"

    share_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    grantee_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        nullable=True)
    purpose_code: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
