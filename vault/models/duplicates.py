"""Duplicates: every watermarked copy issued, by reference, with the digest of its exact bytes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime


class Duplicate(Base):
    """A copy issued to a worker (through a share) or to the person themselves.

    Verification (public) reads only the reference, dates, organisation name, purpose, kind and whether
    the share is still active: never the paper, never the person. The organisation's name is copied, so
    a reference stays verifiable after the organisation or the person is gone.
    """

    __tablename__ = "duplicates"
    __table_args__ = (
        Index("ix_duplicates_owner_issued", "owner_id", "issued_at"),
        Index("ix_duplicates_issuer_issued", "issued_to_id", "issued_at"),
    )

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), nullable=True)
    share_id: Mapped[str | None] = mapped_column(ForeignKey("shares.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)
    # Who received the copy: the grantee of the share, or the owner for their own copy.
    issued_to_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        nullable=True)
    organisation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    purpose_code: Mapped[str] = mapped_column(String(40))
    purpose_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    signing_key_id: Mapped[str] = mapped_column(String(40))
    # The person asked the holder to delete the copy; the holder's answer ("deleted" | "kept").
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deletion_answer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deletion_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
