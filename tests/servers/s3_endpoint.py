"""Where a test S3 server listens and how to sign in to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 server on 127.0.0.1: ``endpoint`` is a URL such as ``http://127.0.0.1:PORT``."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def __repr__(self) -> str:
        # Test credentials only, but the habit matters: reprs end up in logs and pytest output.
        return f"S3Endpoint({self.endpoint!r}, access_key={self.access_key!r})"
