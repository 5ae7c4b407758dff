"""The pages of copies: « Faire une copie », « Mes copies », and the public verification, without JavaScript."""

from __future__ import annotations

import io
import re

import pytest

from tests.vault.duplicate_papers import text_pdf
from tests.web.test_pages import Browser, summary

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def person(client):
    browser = Browser(client)
    browser.enrol()
    assert browser.add([(text_pdf(1), "avis.pdf")], kind="avis_imposition").status_code == 303
    return browser


def test_make_a_copy_see_it_in_my_copies_and_check_it_publicly(person, app):
    (paper,) = person.paper_ids()
    assert f"/papers/{paper}/copy" in person.get(f"/papers/{paper}").get_data(as_text=True)
    refused = person.post_form(f"/papers/{paper}/copy", {})
    assert refused.status_code == 422 and summary(refused.get_data(as_text=True)) == ["Choose why you need this copy."]
    refused = person.post_form(f"/papers/{paper}/copy", {"purpose": "other"})
    assert summary(refused.get_data(as_text=True)) == ["Write in a few words who the copy is for."]
    made = person.post_form(f"/papers/{paper}/copy", {"purpose": "other", "purpose_text": "Pour mon propriétaire"})
    assert made.status_code == 200 and made.mimetype == "application/pdf"
    assert made.headers["Content-Disposition"].startswith("attachment;")
    ref = made.headers["Consigne-Duplicate"]
    register = person.get("/copies").get_data(as_text=True)
    assert ref in register and "Pour mon propriétaire" in register and "You made it yourself" in register
    assert "Ask them to delete" not in register  # nobody to ask for one's own copy

    stranger = Browser(app.test_client())
    page = stranger.get(f"/verify/{ref}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "This copy was made with Consigne" in html and "amina" not in html
    assert "Pour mon propriétaire" in html
    typed = stranger.get("/verify?ref=" + ref.lower().replace("-", " "))
    assert typed.status_code == 303 and typed.headers["Location"].endswith(f"/verify/{ref}")
    same = stranger.post_form(f"/verify/{ref}", {"file": (io.BytesIO(made.data), "copie.pdf")},
                              content_type="multipart/form-data")
    assert "Yes: this file is exactly the copy" in same.get_data(as_text=True)
    changed = bytearray(made.data)
    changed[len(changed) // 3] ^= 1
    other = stranger.post_form(f"/verify/{ref}", {"file": (io.BytesIO(bytes(changed)), "copie.pdf")},
                               content_type="multipart/form-data")
    assert "No: this file is not the copy" in other.get_data(as_text=True)
    nothing = stranger.post_form(f"/verify/{ref}", {}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and summary(nothing.get_data(as_text=True)) == [
        "Choose the file of the copy you received."]


def test_an_unknown_reference_offers_to_type_it_again(client):
    browser = Browser(client)
    for path in ("/verify/0000-0000-0000-0000", "/verify?ref=not-a-reference"):
        page = browser.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 404 and 'name="ref"' in html
        assert summary(html) == ["No copy has this reference. Check the letters and numbers on the copy, then try again."]
    assert browser.get("/verify").status_code == 200


def test_another_person_cannot_copy_my_paper(person, app):
    (paper,) = person.paper_ids()
    other = Browser(app.test_client())
    other.enrol("bruno")
    assert other.get(f"/papers/{paper}/copy").status_code == 404
    assert re.search(r"No copy yet", other.get("/copies").get_data(as_text=True))
