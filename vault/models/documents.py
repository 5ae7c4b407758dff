"""The person's papers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime, new_id


class Document(Base):
    """One paper: one or several pages in one age-encrypted blob, plus an encrypted thumbnail."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_owner_created", "owner_id", "created_at"),
        # `consigne reminders` reads the papers whose date falls within the next 90 days, every day.
        Index("ix_documents_expires_on", "expires_on"),
    )

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
    # The worker who deposited it; kept as None when that staff account is deleted (the paper stays).
    deposited_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True,
                                                        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
