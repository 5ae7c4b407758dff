"""The worker's « Déposer un papier » through HTTP (Flask's client), and « Ajouté par » on the person's pages.

Staff are made by the real services and carry their session in the cookie, as after signing in.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.factories import build_services, make_follow, make_person, make_staff
from tests.vault.media_samples import exe_bytes, pdf_bytes, png_bytes
from tests.web.test_pages import ENGLISH, csrf_token, summary
from vault.models import Account, Document

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


@pytest.fixture
def marie(services):
    staff = make_staff(services, "marie", organisation="Accueil de jour Les Lilas")
    with services.transaction() as uow:
        uow.session.get(Account, staff.id).display_name = "Marie L."
    return staff


@pytest.fixture
def amina(services, marie):
    person = make_person(services, "amina")
    make_follow(services, person, marie.organisation_id)
    return person


def as_(client, someone):
    client.set_cookie("consigne-session", someone.token)
    return client


def post_deposit(client, username, data, *, follow_redirects=False):
    page = client.get(f"/work/people/{username}/deposit", headers=ENGLISH)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(f"/work/people/{username}/deposit", data={"csrf_token": token, **data}, headers=ENGLISH,
                       content_type="multipart/form-data", follow_redirects=follow_redirects)


def documents(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Document))


def test_the_form_says_the_worker_will_not_open_it_then_the_person_sees_who_added_it(client, services, marie,
                                                                                     amina):
    as_(client, marie)
    form = client.get("/work/people/amina/deposit", headers=ENGLISH)
    html = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "you will not be able to open this paper" in html
    assert 'capture="environment"' in html and 'name="kind"' in html and 'id="expires_on"' in html
    answer = post_deposit(client, "amina", {"kind": "attestation_domiciliation", "title": "Attestation de mai",
                                            "file": [(io.BytesIO(pdf_bytes()), "a.pdf")]})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/work/people/amina/added")
    done = client.get(answer.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    assert "Only the person can open it: you cannot." in done
    assert "Attestation de mai" not in done  # the title is the person's

    # The person's tile and paper page say who added it, as named then
    as_(client, amina)
    home = client.get("/papers", headers=ENGLISH).get_data(as_text=True)
    assert "Added by <bdi>Marie L.</bdi> (<bdi>Accueil de jour Les Lilas</bdi>)" in home
    [paper_id] = re.findall(r'/papers/([0-9a-f-]{36})"', home)
    paper = client.get(f"/papers/{paper_id}", headers=ENGLISH).get_data(as_text=True)
    assert "Added by <bdi>Marie L.</bdi>" in paper and "Attestation de mai" in paper
    activity = client.get("/activity", headers=ENGLISH).get_data(as_text=True)
    assert "Marie L. (Accueil de jour Les Lilas) added a paper to your locker" in activity
    # … and the worker, back on the person's page, gets nothing of it
    as_(client, marie)
    assert client.get(f"/papers/{paper_id}", headers=ENGLISH).status_code in (403, 404)


def test_a_name_with_markup_is_shown_as_text(client, services, marie, amina):
    with services.transaction() as uow:
        uow.session.get(Account, marie.id).display_name = "<b>Marie</b>"
    as_(client, marie)
    post_deposit(client, "amina", {"kind": "autre", "file": [(io.BytesIO(png_bytes()), "a.png")]})
    as_(client, amina)
    home = client.get("/papers", headers=ENGLISH).get_data(as_text=True)
    assert "<bdi>&lt;b&gt;Marie&lt;/b&gt;</bdi>" in home and "<b>Marie</b>" not in home


def test_the_page_is_the_same_not_found_for_anyone_the_worker_may_not_reach(client, services, marie, amina):
    make_person(services, "karim", signed_in=False)
    as_(client, marie)
    answers = [client.get(f"/work/people/{username}/deposit", headers=ENGLISH)
               for username in ("karim", "nobody-here", "marie")]
    assert {answer.status_code for answer in answers} == {404}
    # The same words (the page around them names its own address for the time-out, nothing else)
    mains = {re.search(r"<main.*</main>", answer.get_data(as_text=True), re.S).group(0) for answer in answers}
    assert len(mains) == 1
    # A person gets no deposit form, not even for someone who follows
    as_(client, amina)
    assert client.get("/work/people/amina/deposit", headers=ENGLISH).status_code == 403


def test_mistakes_are_said_in_words_and_keep_nothing(client, services, marie, amina):
    as_(client, marie)
    cases = [
        ({"kind": "", "file": [(io.BytesIO(pdf_bytes()), "a.pdf")]}, "Choose the kind of paper"),
        ({"kind": "autre"}, None),
        ({"kind": "autre", "file": [(io.BytesIO(exe_bytes()), "virus.jpg")]}, "virus.jpg"),
        ({"kind": "autre", "expires_on_day": "31", "expires_on_month": "2", "expires_on_year": "2027",
          "file": [(io.BytesIO(pdf_bytes()), "a.pdf")]}, None),
    ]
    for data, words in cases:
        answer = post_deposit(client, "amina", data)
        assert answer.status_code in (415, 422), data
        lines = summary(answer.get_data(as_text=True))
        assert lines, data
        if words:
            assert any(words in line for line in lines), lines
    assert documents(services) == 0


def test_the_form_needs_its_csrf_token(client, services, marie, amina):
    as_(client, marie)
    answer = client.post("/work/people/amina/deposit", headers=ENGLISH, content_type="multipart/form-data",
                         data={"kind": "autre", "file": [(io.BytesIO(pdf_bytes()), "a.pdf")]})
    assert answer.status_code in (400, 422) and documents(services) == 0
