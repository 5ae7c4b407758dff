"""Links in uploaded PDFs: checked on the bytes as stored, kept exactly as they were, or dropped."""

from __future__ import annotations

import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from vault.media import MediaLimits, UploadedFile, normalise_document
from vault.media.links import is_safe_uri


def pdf_with_link(uri: object, **action) -> bytes:
    """One page with one link annotation whose action is a URI action holding ``uri`` as it is."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    link = Dictionary(S=Name.URI, **action) if uri is None else Dictionary(S=Name.URI, URI=uri, **action)
    page.obj.Annots = Array([pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, A=link,
                                                          Rect=[72, 700, 300, 720]))])
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def kept_links(data: bytes) -> list:
    result = normalise_document([UploadedFile(data)], limits=MediaLimits())
    with pikepdf.open(io.BytesIO(result.content)) as pdf:
        return [annotation.A.get("/URI") for annotation in pdf.pages[0].obj.get("/Annots", [])]


def utf16(text: str) -> bytes:
    return b"\xfe\xff" + text.encode("utf-16-be")


HOSTILE = {
    "space first, newline, file": b" https://www.service-public.fr/\nfile:///C:/Windows/System32/calc.exe",
    "file": b"file:///etc/passwd",
    "file upper case": b"FILE:///etc/passwd",
    "leading space": b" https://www.service-public.fr/",
    "trailing space": b"https://www.service-public.fr/ ",
    "leading tab": b"\thttps://www.service-public.fr/",
    "newline inside": b"https://www.service-public.fr/\n",
    "carriage return inside": b"https://www.service-\r\npublic.fr/",
    "NUL then script": b"https://www.service-public.fr/\x00javascript:app.alert(1)",
    "NUL first": b"\x00javascript:app.alert(1)",
    "mixed-case javascript": b"JaVaScRiPt:app.alert(1)",
    "javascript after spaces": b"   javascript:app.alert(1)",
    "percent-encoded scheme": b"%6A%61vascript:app.alert(1)",
    "percent-encoded colon": b"javascript%3Aapp.alert(1)",
    "percent-encoded web colon": b"https%3A//evil.example/",
    "vbscript": b"vbscript:msgbox(1)",
    "data": b"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "smb share": b"smb://evil.example/share",
    "UNC path": b"\\\\evil.example\\share",
    "backslashes for slashes": b"https:\\\\evil.example\\",
    "user part hides the host": b"https://www.caf.fr@evil.example/",
    "no slashes": b"https:evil.example",
    "no host": b"https://",
    "broken IPv6 host": b"https://[::1/",
    "port out of range": b"https://evil.example:99999/",
    "UTF-16 with BOM": utf16("https://www.service-public.fr/"),
    "UTF-16 javascript": utf16("javascript:app.alert(1)"),
    "Latin-1 letters": "https://www.sécurité-sociale.fr/".encode("latin-1"),
    "empty": b"",
    "mailto without address": b"mailto:",
    "tel with a host": b"tel://evil.example/",
    "too long": b"https://www.service-public.fr/?" + b"a" * 3000,
}
NOT_STRINGS = {
    "a name": Name("/https://www.service-public.fr/"),
    "an array": Array([String("https://www.service-public.fr/")]),
    "a dictionary": Dictionary(URI=String("https://www.service-public.fr/")),
    "a number": 42,
    "missing": None,
}
ALLOWED = [
    b"https://www.service-public.fr/particuliers/vosdroits/F1341",
    b"HTTPS://WWW.Service-Public.FR/",
    b"Http://example.org",
    b"https://example.org:8443/a%20b?x=%0A#fragment",
    b"mailto:accueil@ccas.example",
    b"MAILTO:accueil@ccas.example?subject=Attestation",
    b"tel:+33123456789",
]


@pytest.mark.parametrize("uri", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_uris_drop_the_link(uri):
    assert not is_safe_uri(String(uri))
    assert kept_links(pdf_with_link(String(uri))) == []


@pytest.mark.parametrize("uri", NOT_STRINGS.values(), ids=NOT_STRINGS.keys())
def test_a_uri_that_is_not_a_string_drops_the_link(uri):
    assert not is_safe_uri(uri)
    assert kept_links(pdf_with_link(uri)) == []


@pytest.mark.parametrize("uri", ALLOWED)
def test_allowed_links_are_kept_as_exactly_the_same_bytes(uri):
    assert is_safe_uri(String(uri))
    [kept] = kept_links(pdf_with_link(String(uri)))
    assert isinstance(kept, pikepdf.String) and bytes(kept) == uri


def test_an_indirect_uri_string_is_checked_like_a_direct_one():
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    hostile = pdf.make_indirect(String(b" https://ok.example/\nfile:///etc/passwd"))
    page.obj.Annots = Array([Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 10, 10],
                                        A=Dictionary(S=Name.URI, URI=hostile))])
    output = io.BytesIO()
    pdf.save(output)
    assert kept_links(output.getvalue()) == []


def test_a_chained_hostile_link_drops_the_first_one_too():
    data = pdf_with_link(String(b"https://ok.example/"),
                         Next=Dictionary(S=Name.URI, URI=String(b"https://ok.example/\nfile:///etc/passwd")))
    assert kept_links(data) == []


@pytest.mark.parametrize("name, kept", [("/NextPage", True), ("/LastPage", True), ("/Print", False),
                                        ("/SaveAs", False), ("/Quit", False)])
def test_only_page_moves_are_kept_among_named_actions(name, kept):
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    page.obj.Annots = Array([Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 10, 10],
                                        A=Dictionary(S=Name.Named, N=Name(name)))])
    output = io.BytesIO()
    pdf.save(output)
    result = normalise_document([UploadedFile(output.getvalue())], limits=MediaLimits())
    with pikepdf.open(io.BytesIO(result.content)) as cleaned:
        assert ("/Annots" in cleaned.pages[0].obj) == kept
