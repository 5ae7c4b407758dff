"""Which actions of an uploaded PDF's links may stay: web, mail and phone links, checked byte for byte.

A reader follows a link's URI as it is stored, and readers differ in what they do with what surrounds
it: some strip spaces and line breaks, some stop at a NUL byte, some decode UTF-16, browsers read a
backslash as a slash. A check made on a cleaned-up copy (stripped, lowered, decoded) therefore passes
links that a reader opens differently: `` https://ok.example/\\nfile:///C:/`` was kept that way. So the
check is made on the stored bytes, and a link that passes is kept exactly as it was stored, never
rewritten: printable ASCII only (no space, no control character), an allowed scheme at the very start,
and the same answer again from ``urllib.parse``. Anything else makes the caller drop the annotation;
the page itself, with whatever it prints, stays.
"""

from __future__ import annotations

import re
import urllib.parse

import pikepdf

WEB_SCHEMES = frozenset({"http", "https"})
ALLOWED_SCHEMES = WEB_SCHEMES | {"mailto", "tel"}
MAX_URI_BYTES = 2048  # far beyond any real link; a longer one is a payload, not an address
PRINTABLE_ASCII = re.compile(rb"[\x21-\x7e]+")
# The standard named actions (ISO 32000-1, 12.6.4.11): page moves. Readers also accept their own menu
# commands by name (print, save as, attach…), which a paper has no reason to trigger.
SAFE_NAMED_ACTIONS = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})


def is_safe_uri(value: object) -> bool:
    """True when ``value`` (a URI action's /URI) is a PDF string holding a plain web, mail or phone link."""
    if not isinstance(value, pikepdf.String):
        return False  # a name, number, array or dictionary is not a URI, whatever a reader makes of it
    raw = bytes(value)  # the bytes as stored: no UTF-16 decoding, no stripping
    if len(raw) > MAX_URI_BYTES or PRINTABLE_ASCII.fullmatch(raw) is None:
        return False
    if b"\\" in raw:
        return False  # browsers take "https:\\evil.example" to a host the check below never saw
    text = raw.decode("ascii")
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in ALLOWED_SCHEMES:
        return False
    try:
        parts = urllib.parse.urlsplit(text)
        port_is_valid = parts.port is None or 0 < parts.port
    except ValueError:
        return False  # "https://[::1", a port out of range…
    if parts.scheme != scheme.lower() or not port_is_valid:
        return False
    if parts.scheme in WEB_SCHEMES:
        # A host is required, and no user part: "https://www.caf.fr@evil.example/" shows one site and
        # opens another.
        return rest.startswith("//") and bool(parts.hostname) and "@" not in parts.netloc
    return not parts.netloc and bool(parts.path)  # mailto:someone@example.org, tel:+33123456789


def is_safe_named_action(value: object) -> bool:
    return isinstance(value, pikepdf.Name) and str(value) in SAFE_NAMED_ACTIONS
