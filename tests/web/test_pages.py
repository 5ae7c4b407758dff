"""The person's pages through HTTP (Flask's client): safety headers, CSRF, errors in words that say what
to do, nothing stored or shown that must not be, and each service reached the same way as the API."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.vault.media_samples import exe_bytes, png_bytes
from tests.web.conftest import PASSWORD
from vault.events import record_event
from vault.models import Account, Document, Event
from vault.specimens import render_specimen

ENGLISH = {"Accept-Language": "en"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def summary(html: str) -> list[str]:
    """The lines of the error summary at the top of a page."""
    box = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    return [re.sub(r"<[^>]+>", "", line).strip() for line in re.findall(r"<li>(.*?)</li>", box.group(0), re.S)] if box else []


class Browser:
    """A person's browser as far as Flask's client goes: cookies kept, English pages, forms with CSRF."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **options):
        return self.client.get(path, headers=ENGLISH, **options)

    def post_form(self, page_path, data, *, to=None, **options):
        token = csrf_token(self.get(page_path).get_data(as_text=True))
        return self.client.post(to or page_path, data={"csrf_token": token, **data}, headers=ENGLISH, **options)

    def enrol(self, username="amina", password=PASSWORD):
        answer = self.post_form("/enrol", {"username": username, "password": password})
        assert answer.status_code == 201, summary(answer.get_data(as_text=True))
        return re.findall(r"<li>([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)</li>", answer.get_data(as_text=True)), answer

    def add(self, files, kind="carte_identite", **fields):
        data = {"kind": kind, "file": [(io.BytesIO(content), name) for content, name in files], **fields}
        return self.post_form("/papers/add", data, content_type="multipart/form-data")

    def paper_ids(self):
        return list(dict.fromkeys(re.findall(rf'/papers/({UUID})"', self.get("/papers").get_data(as_text=True))))


@pytest.fixture
def person(client):
    browser = Browser(client)
    browser.enrol()
    return browser


def card_sides():
    return [(render_specimen(kind, name="Amina Exemple", seed=2)[0], f"{kind}.jpg")
            for kind in ("carte_identite_recto", "carte_identite_verso")]


def count(app, model, *conditions):
    with app.extensions["consigne"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*conditions))


# --- enrolment ---------------------------------------------------------------------------------------------
def test_enrolment_shows_the_codes_once_signs_in_and_prints_the_sheet_from_posted_codes(client, app):
    browser = Browser(client)
    codes, answer = browser.enrol("amina")
    assert len(codes) == 10
    assert "no-store" in answer.headers["Cache-Control"]
    assert "consigne-session=" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    assert "SameSite=Strict" in answer.headers["Set-Cookie"]
    # The next page is my papers (signed in); the codes are not shown there, nor anywhere again.
    home = browser.get("/papers").get_data(as_text=True)
    assert not any(code in home for code in codes)
    html = answer.get_data(as_text=True)
    sheet = client.post("/recovery-sheet", data={"csrf_token": csrf_token(html),
                                                 **{f"code-{index}": code for index, code in enumerate(codes)}})
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF-")
    assert sheet.headers["Content-Type"] == "application/pdf"
    assert sheet.headers["Content-Disposition"].startswith("inline;")
    assert sheet.headers["Cache-Control"] == "no-store"


def test_the_sheet_is_refused_for_codes_that_are_not_the_persons(client):
    browser = Browser(client)
    codes, answer = browser.enrol("amina")
    token = csrf_token(answer.get_data(as_text=True))
    wrong = client.post("/recovery-sheet", data={"csrf_token": token, "code-0": "AAAA-AAAA-AAAA-AAAA-AAAA"},
                        headers=ENGLISH)
    assert wrong.status_code == 422 and b"%PDF" not in wrong.data
    no_token = client.post("/recovery-sheet", data={"code-0": codes[0]}, headers=ENGLISH)
    assert no_token.status_code == 400


@pytest.mark.parametrize(("username", "password", "expected"), [
    ("", PASSWORD, "Enter a username."),
    ("amina", "", "Type a password."),
    ("amina", "short", "Your password is too short: use at least 8 characters."),
    ("amina", "password123", "This password is too common"),
    ("amina", "amina-lune-tambour", "Your password must not contain your username."),
    ("A b", PASSWORD, "A username has 3 to 32 characters"),
])
def test_enrolment_errors_say_what_to_do_and_create_nothing(client, app, username, password, expected):
    answer = Browser(client).post_form("/enrol", {"username": username, "password": password})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert any(line.startswith(expected) for line in summary(html)), summary(html)
    assert 'href="#' in html and "Set-Cookie" not in answer.headers
    assert count(app, Account) == 0


def test_a_taken_username_offers_another(client):
    browser = Browser(client)
    browser.enrol("amina")
    other = Browser(client.application.test_client())
    answer = other.post_form("/enrol", {"username": "amina", "password": PASSWORD})
    assert answer.status_code == 409
    [line] = summary(answer.get_data(as_text=True))
    assert line.startswith("This username is already taken. Choose another one, for example: ")
    assert "amina" not in line.split(":")[-1]


def test_every_form_needs_its_csrf_token(person, client):
    for path in ("/enrol", "/papers/add", "/sign-out", "/still-here"):
        assert client.post(path, data={}, headers=ENGLISH).status_code == 400, path


# --- papers ------------------------------------------------------------------------------------------------
def test_both_sides_of_a_card_become_one_paper_of_two_pages_shown_as_a_tile(person, app):
    answer = person.add(card_sides(), title="My card", expires_on_day="5", expires_on_month="3",
                        expires_on_year=str(date.today().year + 1))
    assert answer.status_code == 303 and answer.headers["Location"] == "/papers"
    home = person.get("/papers").get_data(as_text=True)
    assert "Your paper “Identity card” is saved. Only you can open it." in home
    assert "My card" in home and "tile__link" in home
    [paper_id] = person.paper_ids()
    page = person.get(f"/papers/{paper_id}").get_data(as_text=True)
    assert "A PDF of 2 pages." in page
    # The confirmation is said once: not again on the next page.
    assert "is saved" not in person.get("/papers").get_data(as_text=True)


def test_expiry_is_said_in_words(person, clock):
    today = clock().date()
    person.add(card_sides()[:1], kind="passeport", expires_on_day=str((today - timedelta(days=2)).day),
               expires_on_month=str((today - timedelta(days=2)).month),
               expires_on_year=str((today - timedelta(days=2)).year))
    soon = today + timedelta(days=20)
    person.add(card_sides()[1:], kind="carte_vitale", expires_on_day=str(soon.day),
               expires_on_month=str(soon.month), expires_on_year=str(soon.year))
    home = person.get("/papers").get_data(as_text=True)
    assert "Expired" in home and "Expires in 20 days" in home


@pytest.mark.parametrize(("files", "fields", "status", "expected"), [
    ([(exe_bytes(), "virus.exe")], {}, 415, "“virus.exe” is not a photo or a PDF."),
    ([(png_bytes(), "ok.png"), (b"", "empty.jpg")], {}, 415, "“empty.jpg” is damaged or empty."),
    ([], {}, 415, "Choose the file of your paper, or take a photo of it."),
    ([(png_bytes(), "ok.png")], {"kind": ""}, 422, "Choose the kind of paper."),
    ([(png_bytes(), "ok.png")], {"kind": "bank_statement"}, 422, "Choose the kind of paper in the list."),
    ([(png_bytes(), "ok.png")], {"expires_on_day": "31", "expires_on_month": "2", "expires_on_year": "2030"},
     422, "Enter a real date"),
    ([(png_bytes(), "ok.png")], {"expires_on_day": "", "expires_on_month": "3", "expires_on_year": "2030"},
     422, "Enter a real date"),
    ([(png_bytes(), "ok.png")], {"title": "x" * 200}, 422, "The name is too long"),
])
def test_upload_errors_name_the_file_say_what_to_do_and_keep_nothing(person, app, files, fields, status, expected):
    answer = person.add(files, **{"kind": "carte_identite", **fields})
    assert answer.status_code == status
    lines = summary(answer.get_data(as_text=True))
    assert any(line.startswith(expected) for line in lines), lines
    if files and not any(line.startswith("“") for line in lines):
        assert any(line.startswith("Choose your files again") for line in lines), lines
    assert count(app, Document) == 0
    assert list(app.extensions["consigne"].store.list("")) == []


def test_change_the_details_then_delete_with_a_confirmation(person, app):
    person.add(card_sides())
    [paper_id] = person.paper_ids()
    changed = person.post_form(f"/papers/{paper_id}/change", {"kind": "titre_sejour", "title": "Récépissé",
                                                              "expires_on_day": "1", "expires_on_month": "9",
                                                              "expires_on_year": "2031"})
    assert changed.status_code == 303 and changed.headers["Location"] == f"/papers/{paper_id}"
    page = person.get(f"/papers/{paper_id}").get_data(as_text=True)
    assert "The details of your paper “Residence permit or receipt (récépissé)” are saved." in page
    assert "Récépissé" in page and "1 September 2031" in page
    unchanged = person.post_form(f"/papers/{paper_id}/change", {"kind": "titre_sejour", "title": "Récépissé",
                                                                "expires_on_day": "1", "expires_on_month": "9",
                                                                "expires_on_year": "2031"})
    assert unchanged.status_code == 303
    assert "Nothing was changed." in person.get(f"/papers/{paper_id}").get_data(as_text=True)
    assert count(app, Event, Event.action == "document.updated") == 1

    confirmation = person.get(f"/papers/{paper_id}/delete").get_data(as_text=True)
    assert "It will be deleted for good" in confirmation and count(app, Document) == 1
    deleted = person.post_form(f"/papers/{paper_id}/delete", {})
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/papers"
    assert "is deleted. Nobody can open it any more." in person.get("/papers").get_data(as_text=True)
    assert count(app, Document) == 0


def test_a_paper_is_served_so_that_it_can_never_run_in_our_origin(person):
    person.add([(png_bytes(), "photo.png")])
    [paper_id] = person.paper_ids()
    for path, disposition in (("see", "inline"), ("download", "attachment"), ("thumbnail", "inline")):
        answer = person.get(f"/papers/{paper_id}/{path}")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == ("image/jpeg" if path == "thumbnail" else "image/png")
        assert answer.headers["Content-Security-Policy"].startswith("sandbox;")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Disposition"].startswith(disposition + ";")
        answer.close()


def test_someone_elses_paper_is_not_found(client, app):
    owner = Browser(client)
    owner.enrol("amina")
    owner.add(card_sides())
    [paper_id] = owner.paper_ids()
    stranger = Browser(app.test_client())
    stranger.enrol("bilal")
    for path in ("", "/see", "/download", "/thumbnail", "/change", "/delete"):
        answer = stranger.get(f"/papers/{paper_id}{path}")
        assert answer.status_code == 404, path
        assert "This paper does not exist or is not yours." in answer.get_data(as_text=True)
    assert stranger.post_form("/papers/add", {}, to=f"/papers/{paper_id}/delete").status_code == 404


# --- shared computers --------------------------------------------------------------------------------------
def test_signed_in_pages_are_never_cached_and_say_the_time_out(person):
    page = person.get("/papers")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "you are signed out after 30 minutes without activity" in html
    assert re.search(r'<noscript><meta http-equiv="refresh" content="1805;url=/timed-out\?next=/papers"></noscript>', html)
    assert 'autocomplete="off"' in person.get("/papers/add").get_data(as_text=True)


def test_without_activity_the_page_signs_out_by_itself(person, client, clock):
    clock.advance(minutes=31)
    answer = person.get("/timed-out?next=/papers")
    assert answer.status_code == 200 and "Nothing happened for 30 minutes" in answer.get_data(as_text=True)
    assert "consigne-session=;" in answer.headers["Set-Cookie"]
    assert person.get("/papers").status_code == 303


def test_the_time_out_page_keeps_someone_active_in_another_tab(person, clock):
    clock.advance(minutes=20)
    person.get("/papers")  # activity in another tab
    clock.advance(minutes=11)
    answer = person.get("/timed-out?next=/papers/add")
    assert answer.status_code == 303 and answer.headers["Location"] == "/papers/add"
    assert person.get("/papers").status_code == 200


def test_the_time_out_page_never_redirects_elsewhere(person):
    answer = person.get("/timed-out?next=//evil.example/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/papers"


def test_a_stale_cookie_never_keeps_anyone_out_of_the_welcome_page(client):
    client.set_cookie("consigne-session", "cs1.not-a-token")
    answer = client.get("/", headers=ENGLISH)
    assert answer.status_code == 200 and "Create my locker" in answer.get_data(as_text=True)


def test_signed_in_the_welcome_page_leads_to_my_papers(person):
    html = person.get("/").get_data(as_text=True)
    assert "Go to my papers" in html and "Sign out" in html


# --- languages and errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "direction", "words"), [
    ("fr", "ltr", "Vos papiers, à l'abri"), ("ar", "rtl", "Consigne"), ("en", "ltr", "Your papers, safe")])
def test_every_page_speaks_the_chosen_language(client, language, direction, words):
    html = client.get(f"/?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}" dir="{direction}">' in html and words in html
    missing = client.get("/no-such-page").get_data(as_text=True)  # the choice is remembered
    assert f'<html lang="{language}" dir="{direction}">' in missing


def test_the_lost_access_page_says_only_what_works_today(client):
    html = client.get("/lost", headers=ENGLISH).get_data(as_text=True)
    # Three paths: a code resets a forgotten password, a code replaces a lost phone, help in person.
    assert 'href="/lost/password"' in html and "I forgot my password" in html
    assert "type a code from your recovery sheet instead" in html and 'href="/sign-in"' in html
    assert "Ask in person at an organisation that helps you" in html
    assert "cannot be done on the site alone" not in html


# --- who has seen my papers --------------------------------------------------------------------------------
def activity_lines(html: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", line).split())
            for line in re.findall(r'<li class="activity__item.*?</li>', html, re.S)]


def test_the_activity_says_who_did_what_with_titles_beside_and_the_time(person, clock):
    person.add(card_sides(), title="Carte recto verso")
    [paper_id] = person.paper_ids()
    person.get(f"/papers/{paper_id}/see").close()
    page = person.get("/activity")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    lines = activity_lines(html)
    assert lines[0].startswith("You looked at a paper: Identity card. Name of the paper: Carte recto verso")
    assert lines[1].startswith("You added a paper: Identity card.")
    assert lines[-1].startswith("You opened your locker.")
    assert re.search(r'<bdi dir="auto">Carte recto verso</bdi>', html)  # the title in its own direction
    assert '<h2 class="activity-day__title" id="day-1"><time datetime="' in html and ">Today</time>" in html
    # One Lucide pictogram per line, the one the API names
    assert html.count('class="activity__picture"><svg') == len(lines) and "lucide-eye" not in html
    assert 'href="/activity?cursor=' not in html  # one page: no links to others


def test_dates_and_times_of_the_activity_are_in_the_pages_language(person, clock):
    html = person.client.get("/activity?lang=fr").get_data(as_text=True)
    local = clock().astimezone(ZoneInfo("Europe/Paris"))
    assert f">{local:%H:%M}</time>" in html  # French writes 14:02
    arabic = person.client.get("/activity?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and f">{local:%H:%M}</time>" not in arabic


def test_failed_sign_ins_show_as_one_line_per_burst_with_what_to_do(person, client):
    for _ in range(4):
        client.application.test_client().post("/api/v1/sessions", json={"username": "amina", "password": "guess"})
    html = person.get("/activity").get_data(as_text=True)
    lines = [line for line in activity_lines(html) if "refused" in line]
    assert len(lines) == 1 and lines[0].startswith("4 refused sign-in attempts at")
    assert "Someone typed a wrong password for your locker." in html and 'href="/settings/password"' in html


def test_the_activity_is_paged_newer_and_older_with_authenticated_cursors(person, app, clock):
    with app.extensions["consigne"].session_factory() as session:
        amina = session.scalar(select(Account).where(Account.username == "amina"))
        for _ in range(30):  # 60 lines, and the enrolment's two: a page of 50, then 12 older ones
            clock.advance(seconds=10)
            for action in ("signin.succeeded", "session.ended"):
                record_event(session, action=action, now=clock(), actor_id=amina.id, subject_id=amina.id)
        session.commit()
    first = person.get("/activity").get_data(as_text=True)
    assert len(activity_lines(first)) == 50
    older = unescape_href(re.search(r'href="(/activity\?cursor=[^"]+)" rel="next"', first).group(1))
    assert 'rel="prev"' not in first
    second = person.get(older).get_data(as_text=True)
    assert len(activity_lines(second)) == 12 and 'rel="next"' not in second
    newer = unescape_href(re.search(r'href="(/activity\?cursor=[^"]+)" rel="prev"', second).group(1))
    assert activity_lines(person.get(newer).get_data(as_text=True)) == activity_lines(first)
    # An altered cursor, or one made for somebody else, is refused in words with a way back
    altered = person.get(older[:-3] + ("AAA" if not older.endswith("AAA") else "BBB"))
    assert altered.status_code == 422
    assert "This link to a next page is not valid." in altered.get_data(as_text=True)
    assert 'href="/activity"' in altered.get_data(as_text=True)
    stranger = Browser(app.test_client())
    stranger.enrol("bilal")
    assert stranger.get(older).status_code == 422


def unescape_href(href: str) -> str:
    return href.replace("&amp;", "&")
