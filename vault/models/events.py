"""The hash-chained audit record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.models.base import Base, UTCDateTime


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
