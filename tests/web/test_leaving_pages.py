"""/settings/export and /settings/delete through HTTP, on both databases: the password is asked, mistakes
are said in words on their field and change nothing, the export arrives as a download, closing ends on
a page that leads home, and the worker's page says the locker was closed."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from tests.web.conftest import PASSWORD
from tests.web.test_pages import Browser, summary
from tests.web.test_shares_api import share_body, world  # noqa: F401 - the fixture
from tests.web.test_sign_in_settings import text
from vault.models import Account, Event
from web.pipeline import session_cookie_name
from tests.vault import media_samples as samples

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def person(client):
    browser = Browser(client)
    browser.enrol("amina")
    browser.add([(samples.png_bytes(), "ma-carte.png")])
    return browser


def events(app, action) -> int:
    with app.extensions["consigne"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.action == action))


def test_settings_link_to_both(person):
    page = person.get("/settings").get_data(as_text=True)
    assert 'href="/settings/export"' in page and 'href="/settings/delete"' in page


def test_export_page_downloads_the_zip(person, app):
    shown = person.get("/settings/export")
    assert shown.status_code == 200 and "Take everything out" in text(shown)
    answer = person.post_form("/settings/export", {"current_password": PASSWORD, "format": "zip"})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    names = zipfile.ZipFile(io.BytesIO(answer.data)).namelist()
    assert "papers/ma-carte.png" in names and "consigne.json" in names
    assert events(app, "export.made") == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"current_password": "pas-le-bon-mot-de-passe", "format": "zip"}, "current_password"),
    ({"current_password": "", "format": "zip"}, "current_password"),
    ({"current_password": PASSWORD}, "format"),
    ({"current_password": PASSWORD, "format": "tar"}, "format"),
    ({"current_password": PASSWORD, "format": "age"}, "passphrase"),
    ({"current_password": PASSWORD, "format": "age", "passphrase": "1234"}, "passphrase"),
])
def test_export_mistakes_are_said_on_their_field(person, app, data, field):
    answer = person.post_form("/settings/export", data)
    html = answer.get_data(as_text=True)
    assert answer.status_code in (403, 422) and answer.mimetype == "text/html"
    assert summary(html) and f'id="{field}-error"' in html
    assert events(app, "export.made") == 0


def test_export_age_from_the_page(person):
    answer = person.post_form("/settings/export", {"current_password": PASSWORD, "format": "age",
                                                   "passphrase": "riviere-bleue-soleil-42"})
    assert answer.status_code == 200
    assert "identity.age" in zipfile.ZipFile(io.BytesIO(answer.data)).namelist()


def test_closing_from_the_page(person, app):
    shown = person.get("/settings/delete")
    assert shown.status_code == 200 and 'href="/settings/export"' in shown.get_data(as_text=True)
    unticked = person.post_form("/settings/delete", {"current_password": PASSWORD})
    assert unticked.status_code == 422 and 'id="understood-error"' in unticked.get_data(as_text=True)
    wrong = person.post_form("/settings/delete", {"current_password": "pas-le-bon-mot-de-passe", "understood": "y"})
    assert wrong.status_code == 403 and 'id="current_password-error"' in wrong.get_data(as_text=True)
    with app.extensions["consigne"].session_factory() as session:
        assert session.scalar(select(Account).where(Account.username == "amina")) is not None

    closed = person.post_form("/settings/delete", {"current_password": PASSWORD, "understood": "y"})
    assert closed.status_code == 303 and closed.headers["Location"] == "/closed"
    done = person.get("/closed")
    assert done.status_code == 200 and "Your locker is closed" in text(done)
    assert re.search(r'<main.*href="/"', done.get_data(as_text=True), re.S)
    assert person.get("/papers").status_code in (302, 303, 401)  # signed out: the cookie is gone
    with app.extensions["consigne"].session_factory() as session:
        assert session.scalar(select(Account).where(Account.username == "amina")) is None


def test_the_worker_page_says_the_locker_was_closed(client, world):
    share = client.post("/api/v1/shares", json=share_body(world), headers=world.headers("owner")).get_json()
    owner = world.people["owner"]
    assert client.delete("/api/v1/me", json={"password": owner.password},
                         headers=world.headers("owner")).status_code == 204
    worker = Browser(client.application.test_client())
    worker.client.set_cookie(session_cookie_name(world.services.settings), world.people["grantee"].token)
    page = worker.get("/work/shared")
    assert page.status_code == 200, text(page)
    assert "closed their locker" in text(page) and f'id="share-{share["id"]}"' in page.get_data(as_text=True)
    paper = worker.get(f"/work/shared/{share['id']}/{world.card.id}")
    assert paper.status_code == 410 and "closed their locker" in text(paper)
