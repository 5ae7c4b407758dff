"""The signed statement printed in each duplicate's QR code: compact, versioned, checkable offline.

Format (version 1)::

    CS1.<key id>.<base64url(payload)>.<base64url(signature)>

- ``CS1``: the format and its version (Consigne Statement 1). A later version gets a new prefix.
- ``<key id>``: 16 hex digits naming the Ed25519 key that signed (crypto.signing.compute_key_id of its
  public key), found in the published keys (``GET /api/v1/signing-keys``).
- ``payload``: UTF-8 JSON, keys sorted, no spaces::

      {"v":1,"ref":"ABCD-…","iss":"<instance URL>","org":"<organisation or null>",
       "pur":"<purpose code>","put":"<purpose text or null>","kind":"<kind of paper>",
       "date":"YYYY-MM-DD"}

- ``signature``: Ed25519 (RFC 8032) over the bytes ``CS1.<key id>.<base64url(payload)>`` (everything
  before the last dot), so the version and the key id are signed too. Base64url without padding.

The whole statement is ASCII without spaces (a QR code's byte mode reads it back exactly). It names no
person and holds nothing of the paper: a stranger who scans it learns what the verification page says.
Verifying needs only the published public keys (``verify_statement``); the server is not asked.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from crypto.errors import InvalidSignature, MalformedInput
from crypto.signing import SigningKey, VerifyKey

PREFIX = "CS1"
VERSION = 1
# A QR code of version 15 or so at error correction M holds this comfortably (the statement is ~300 bytes).
MAX_STATEMENT_LENGTH = 1200
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Statement:
    """What a duplicate's QR code says about it (never the person, never the paper)."""

    ref: str
    issuer: str  # the instance's base URL: where /verify/<ref> lives
    organisation: str | None  # None: the person's own copy
    purpose: str
    purpose_text: str | None
    kind: str
    issued_on: date

    def payload(self) -> bytes:
        fields = {"v": VERSION, "ref": self.ref, "iss": self.issuer, "org": self.organisation,
                  "pur": self.purpose, "put": self.purpose_text, "kind": self.kind,
                  "date": self.issued_on.isoformat()}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_statement(statement: Statement, key: SigningKey) -> str:
    """``CS1.<key id>.<payload>.<signature>`` for ``statement``, signed by ``key``."""
    signed_part = f"{PREFIX}.{key.key_id}.{_b64(statement.payload())}"
    return f"{signed_part}.{_b64(key.sign(signed_part.encode()))}"


def verify_statement(text: str, public_keys: Iterable[VerifyKey]) -> Statement:
    """The statement ``text`` carries, if one of ``public_keys`` signed it; InvalidSignature otherwise.

    MalformedInput when ``text`` is not a statement at all.
    """
    if not isinstance(text, str) or len(text) > MAX_STATEMENT_LENGTH:
        raise MalformedInput("not a Consigne statement")
    parts = text.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not _KEY_ID.match(parts[1]) \
            or not all(_B64URL.match(part) for part in parts[2:]):
        raise MalformedInput("not a Consigne statement")
    key = next((candidate for candidate in public_keys if candidate.key_id == parts[1]), None)
    if key is None:
        raise InvalidSignature("signed by a key that is not published")
    key.verify(".".join(parts[:3]).encode(), _unb64(parts[3]))
    return _read_payload(_unb64(parts[2]))


def _read_payload(raw: bytes) -> Statement:
    try:
        fields = json.loads(raw.decode("utf-8"))
        if fields.get("v") != VERSION:
            raise MalformedInput("an unknown statement version")
        return Statement(ref=str(fields["ref"]), issuer=str(fields["iss"]), organisation=fields["org"],
                         purpose=str(fields["pur"]), purpose_text=fields["put"], kind=str(fields["kind"]),
                         issued_on=date.fromisoformat(fields["date"]))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise MalformedInput("not a Consigne statement") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedInput("not a Consigne statement") from None


__all__ = ["MAX_STATEMENT_LENGTH", "PREFIX", "Statement", "sign_statement", "verify_statement"]
