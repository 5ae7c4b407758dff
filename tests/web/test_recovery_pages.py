"""The pages of getting back in, through HTTP: « I lost my access » and its three paths, the forgotten
password with a code, the new-phone page after a code, and the notice at the next sign-ins."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD
from tests.web.test_pages import Browser, summary
from tests.web.test_sign_in_settings import text, turn_on_two_step

pytestmark = pytest.mark.usefixtures("database_url")
NEW_PASSWORD = "voilier-cerise-brouillard-4"


@pytest.fixture
def person(client):
    browser = Browser(client)
    browser.codes, _ = browser.enrol("amina")
    return browser


def reset(browser, code, new_password=NEW_PASSWORD, username="amina"):
    return browser.post_form("/lost/password", {"username": username, "recovery_code": code,
                                                "new_password": new_password})


def test_lost_offers_three_paths_that_all_lead_somewhere(client):
    page = Browser(client).get("/lost")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for path in ("/lost/password", "/sign-in"):
        assert f'href="{path}"' in html
        assert Browser(client).get(path).status_code == 200
    words = text(page)
    assert "I forgot my password" in words and "I lost my phone" in words and "my password and my sheet" in words


def test_a_forgotten_password_reset_with_a_code_signs_in_and_offers_a_new_sheet(person, client, clock):
    done = reset(person, person.codes[0])
    assert done.status_code == 303 and done.headers["Location"] == "/lost/password/done"
    page = person.get("/lost/password/done")
    assert page.status_code == 200 and 'data-codes-left="9"' in page.get_data(as_text=True)
    assert 'href="/settings/recovery-codes"' in page.get_data(as_text=True)
    # The reset's own session does not show the notice; the next sign-in does, until « That was me ».
    assert "data-recovery-notice" not in person.get("/papers").get_data(as_text=True)
    clock.advance(hours=2)
    other = Browser(client.application.test_client())
    signed = other.post_form("/sign-in", {"username": "amina", "password": NEW_PASSWORD})
    assert signed.status_code == 303
    home = other.get("/papers").get_data(as_text=True)
    assert "data-recovery-notice" in home and "changed with a recovery code" in home
    other.post_form("/papers", {}, to="/recovery-notice/seen")
    assert "data-recovery-notice" not in other.get("/papers").get_data(as_text=True)


@pytest.mark.parametrize("case", ["wrong code", "unknown username", "weak password", "empty"])
def test_refusals_are_said_in_words_and_spend_no_code(person, client, case):
    data = {"wrong code": ("ABCDE-FGHJK-MNPQR-STUVW", NEW_PASSWORD, "amina"),
            "unknown username": (person.codes[0], NEW_PASSWORD, "nobody"),
            "weak password": (person.codes[0], "azertyuiop", "amina"),
            "empty": ("", "", "amina")}[case]
    refused = reset(Browser(client.application.test_client()), data[0], data[1], data[2])
    assert refused.status_code in (401, 422)
    lines = summary(refused.get_data(as_text=True))
    assert lines, case
    if case in ("wrong code", "unknown username"):
        assert lines == ["This username and this recovery code do not go together, or the code was already used. "
                         "Check both and try again: each code works only once. Nothing was changed."]
    if case == "weak password":
        assert "too common" in lines[0]
    assert reset(Browser(client.application.test_client()), person.codes[0]).status_code == 303


def test_a_sign_in_with_a_code_instead_of_the_phone_leads_to_a_new_phone_or_off(person, client, clock):
    turn_on_two_step(person, clock)
    other = Browser(client.application.test_client())
    other.post_form("/sign-in", {"username": "amina", "password": PASSWORD})
    landed = other.post_form("/sign-in/second-step", {"recovery_code": person.codes[1]})
    assert landed.status_code == 303 and landed.headers["Location"] == "/settings/new-phone"
    page = other.get("/settings/new-phone")
    html = page.get_data(as_text=True)
    assert 'data-codes-left="9"' in html and 'action="/settings/new-phone/again"' in html
    assert 'action="/settings/two-step/off"' in html
    wrong = other.post_form("/settings/new-phone", {"current_password": "not-it"}, to="/settings/new-phone/again")
    assert wrong.status_code == 403 and "not your current password" in " ".join(summary(wrong.get_data(as_text=True)))
    again = other.post_form("/settings/new-phone", {"current_password": PASSWORD}, to="/settings/new-phone/again")
    assert again.status_code == 200 and 'class="secret"' in again.get_data(as_text=True)
