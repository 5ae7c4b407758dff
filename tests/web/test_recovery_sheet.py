"""The recovery sheet says only what is true: each button it draws is the label of a real link, in the
sheet's language, on the page it names (« I lost my access » on the sign-in page, « Choose a new password »
and « Sign in » on « I lost my access »), the path behind it works, and the address printed is this
instance's."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.test_pages import Browser, csrf_token
from tests.vault.test_sheets import text_of
from vault.sheets import available_sheet_languages, sheet_texts

pytestmark = pytest.mark.usefixtures("database_url")
LANGUAGES = ["fr", "en", "ar"]


def links(html: str) -> set[tuple[str, str]]:
    """(label, href) of every link on a page, the label as a person reads it."""
    found = set()
    for href, inner in re.findall(r'<a\b[^>]*?href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        label = " ".join(unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        found.add((label, href))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_button_the_sheet_draws_is_a_real_link_on_the_page_it_names(client, app, language):
    texts = sheet_texts(app.extensions["consigne"].translator, language)
    headers = {"Accept-Language": language}
    sign_in_page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    lost_page = client.get("/lost", headers=headers).get_data(as_text=True)
    assert f'lang="{language}"' in lost_page
    # The sheet's own language first; the French label it may add is checked by the French case.
    assert (texts["lost_buttons"][0], "/lost") in links(sign_in_page)
    assert (texts["new_password_buttons"][0], "/lost/password") in links(lost_page)
    assert (texts["sign_in_buttons"][0], "/sign-in") in links(lost_page)
    # Behind them: the page asks for what the sheet says to type (the username and one code).
    form = client.get("/lost/password", headers=headers).get_data(as_text=True)
    for field in ("username", "recovery_code", "new_password"):
        assert f'name="{field}"' in form


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_printed_sheet_carries_this_instances_address_and_the_buttons(client, app, language):
    browser = Browser(client)
    codes, answer = browser.enrol("amina")
    sheet = client.post("/recovery-sheet", headers={"Accept-Language": language},
                        data={"csrf_token": csrf_token(answer.get_data(as_text=True)),
                              **{f"code-{index}": code for index, code in enumerate(codes)}})
    assert sheet.status_code == 200
    text = text_of(sheet.data)
    assert app.extensions["consigne"].settings.base_url in text
    if language in ("fr", "en") or language not in available_sheet_languages():
        texts = sheet_texts(app.extensions["consigne"].translator, "fr" if language == "ar" else language)
        for key in ("lost_buttons", "new_password_buttons", "sign_in_buttons"):
            assert all(label in text for label in texts[key]), key
