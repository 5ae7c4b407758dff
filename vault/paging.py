"""Lists served a page at a time, with an opaque cursor to the next page.

Why keyset paging and not OFFSET: a page is "the next ``limit`` rows after the last one seen", read as
one range of an index (``WHERE key < :last ORDER BY key DESC LIMIT n``). Its cost does not grow with the
depth of the page, where OFFSET reads and throws away every earlier row: at 5 million events an old
page of a busy person's activity took more than a second. It is also stable: papers added or events
recorded while a person pages never shift the next page.

A cursor is the sort key of the last item of a page, plus an HMAC (application key, one subkey for
cursors) bound to the list and to the account it was made for. Why authenticate it, when every query
filters on the signed-in owner anyway (so a cursor can never reach someone else's rows): a cursor that
was altered, made up, or made for another account or another list is refused with a clear error (422)
instead of being interpreted, and the format stays ours to change. Cursors made before a key rotation
still open while the old key is in the ring; afterwards the person starts again from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vault.errors import InvalidCursor, InvalidInput
from vault.keys import KeyConfig

T = TypeVar("T")

CURSOR_KEY_USE = "list-cursor"
MAC_BYTES = 16  # 128-bit tag: forging one is out of reach, and the cursor stays short for a URL
MAX_CURSOR_LENGTH = 512
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, and the cursor of the next page (None on the last page).

    ``previous_cursor``: for a list that can also be paged back (the activity's newer pages), the cursor
    of the page before this one; None on the first page, and for lists that only go forward.
    """

    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None = None


def check_limit(limit: int | None, *, default: int, maximum: int) -> int:
    """The number of items asked for, or the default; InvalidInput outside 1..maximum."""
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidInput(field="limit", minimum=1, maximum=maximum)
    return limit


def encode_cursor(keys: KeyConfig, *, listing: str, owner_id: str, position: list[Any]) -> str:
    """An opaque cursor for ``position`` (JSON values) in ``listing`` of ``owner_id``."""
    payload = _b64encode(json.dumps([FORMAT_VERSION, position], separators=(",", ":")).encode())
    key = keys.ring(CURSOR_KEY_USE).current
    return f"{payload}.{_b64encode(_mac(key.secret, listing, owner_id, payload))}"


def decode_cursor(keys: KeyConfig, cursor: str, *, listing: str, owner_id: str) -> list[Any]:
    """The position a cursor holds, or InvalidCursor (malformed, altered, another list or account)."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise InvalidCursor()
    payload, tag = cursor.split(".")
    try:
        given = _b64decode(tag)
    except ValueError:
        raise InvalidCursor() from None
    # Every key of the ring: a cursor made just before a rotation still works. compare_digest: the time
    # taken must not tell how much of a forged tag was right.
    if not any(hmac.compare_digest(given, _mac(key.secret, listing, owner_id, payload))
               for key in keys.ring(CURSOR_KEY_USE).keys):
        raise InvalidCursor()
    try:
        version, position = json.loads(_b64decode(payload))
    except (ValueError, TypeError):
        raise InvalidCursor() from None
    if version != FORMAT_VERSION or not isinstance(position, list):
        raise InvalidCursor()
    return position


def _mac(secret: bytes, listing: str, owner_id: str, payload: str) -> bytes:
    message = json.dumps(["consigne:cursor", listing, owner_id, payload], separators=(",", ":")).encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict URL-safe base64 without padding; ValueError on anything else."""
    if not text or not text.isascii() or any(c not in _ALPHABET for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None
    if _b64encode(data) != text:  # one encoding per value: no trailing bits smuggled in
        raise ValueError("not canonical base64url")
    return data


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
