"""The staff and admin pages, and the person's organisations, through HTTP: joining with a code then the
first app code, the staff home, assisted enrolment side by side, invitations, deactivation, purposes."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from tests.factories import build_services, make_organisation
from tests.web.conftest import PASSWORD
from tests.web.test_pages import ENGLISH, Browser, count, csrf_token, summary
from vault.models import Account, Follow, Share

pytestmark = pytest.mark.usefixtures("database_url")
CODE = r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}"


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def join(app, clock, code, username, display_name=""):
    """A new browser joins with ``code``, scans the secret, types the first code; lands on /work."""
    browser = Browser(app.test_client())
    answer = browser.post_form("/staff/join", {"invitation": code, "username": username, "password": PASSWORD,
                                               "display_name": display_name})
    assert answer.status_code == 201, summary(answer.get_data(as_text=True))
    assert answer.headers["Cache-Control"] == "no-store"  # the app's secret stays out of any cache
    html = answer.get_data(as_text=True)
    secret = "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", re.search(r'<p class="secret".*?</p>', html, re.S).group(0)))
    browser.secret = secret
    signed = browser.client.post("/sign-in/second-step?next=/work", headers=ENGLISH,
                                 data={"csrf_token": csrf_token(html), "otp": pyotp.TOTP(secret).at(clock())})
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/work"), signed.get_data(as_text=True)
    return browser


def test_join_invite_enrol_side_by_side_then_deactivate(app, services, clock):
    organisation_id, code = make_organisation(services, "Les Lilas")
    admin = join(app, clock, code, "nadia.b", "Nadia B.")
    home = admin.get("/work").get_data(as_text=True)
    assert "Les Lilas" in home and "My papers" not in home and "My organisation" in home
    assert admin.get("/papers").headers["Location"].endswith("/work")  # staff keep no papers
    assert admin.get("/papers/add").headers["Location"].endswith("/work")
    assert admin.get("/settings/organisations").headers["Location"].endswith("/work")
    # The admin invites a worker: the code is shown once, big, with its expiry.
    invited = admin.post_form("/organisation", {"role": "worker"}, to="/organisation/invite")
    assert invited.status_code == 201
    worker_code = re.search(CODE, invited.get_data(as_text=True)).group(0)
    assert "Valid until" in invited.get_data(as_text=True) and invited.headers["Cache-Control"] == "no-store"
    assert worker_code not in admin.get("/organisation").get_data(as_text=True)
    clock.advance(seconds=30)
    worker = join(app, clock, worker_code, "marie.l", "Marie L.")
    assert "My organisation" not in worker.get("/work").get_data(as_text=True)
    assert worker.get("/organisation").status_code == 403
    # Side by side: the person types their own username and password and ticks the follow box.
    enrolled = worker.post_form("/work/enrol", {"username": "amina", "password": PASSWORD, "follow": "y"})
    assert enrolled.status_code == 201, summary(enrolled.get_data(as_text=True))
    html = enrolled.get_data(as_text=True)
    codes = re.findall(rf"<li>({CODE})</li>", html)
    assert len(codes) == 10 and "no-store" in enrolled.headers["Cache-Control"]
    assert "consigne-session" not in enrolled.headers.get("Set-Cookie", "")  # no session for the person here
    sheet = worker.client.post("/work/enrol/sheet", data={"csrf_token": csrf_token(html), "username": "amina",
                                                          **{f"code-{i}": c for i, c in enumerate(codes)}})
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF-")
    # The worker is still signed in as themselves; the person now follows the organisation.
    assert "amina" in worker.get("/work").get_data(as_text=True)
    assert count(app, Follow, Follow.ended_at.is_(None)) == 1
    # The admin deactivates the worker, after a confirmation that says shares end at once.
    with services.transaction() as uow:
        worker_id = uow.session.scalar(select(Account.id).where(Account.username == "marie.l"))
    page = admin.get(f"/organisation/staff/{worker_id}/deactivate").get_data(as_text=True)
    assert "stops at once" in page
    done = admin.post_form(f"/organisation/staff/{worker_id}/deactivate", {})
    assert done.status_code == 303
    assert "can no longer sign in" in admin.get("/organisation").get_data(as_text=True)
    assert worker.get("/work").status_code == 303  # signed out: to the sign-in page


def test_without_the_follow_box_nobody_is_followed(app, services, clock):
    _, code = make_organisation(services, "Les Lilas")
    worker = join(app, clock, code, "nadia.b")
    enrolled = worker.post_form("/work/enrol", {"username": "amina", "password": PASSWORD})
    assert enrolled.status_code == 201
    assert count(app, Follow) == 0


def test_the_sheet_is_refused_to_another_worker_and_for_wrong_codes(app, services, clock):
    _, code = make_organisation(services, "Les Lilas")
    worker = join(app, clock, code, "nadia.b")
    _, other_code = make_organisation(services, "Autre")
    clock.advance(seconds=30)
    other = join(app, clock, other_code, "paul.k")
    html = worker.post_form("/work/enrol", {"username": "amina", "password": PASSWORD}).get_data(as_text=True)
    codes = re.findall(rf"<li>({CODE})</li>", html)
    fields = {"username": "amina", **{f"code-{i}": c for i, c in enumerate(codes)}}
    token = csrf_token(other.get("/work/enrol").get_data(as_text=True))
    assert other.client.post("/work/enrol/sheet", data={"csrf_token": token, **fields}).status_code == 422
    wrong = {**fields, "code-0": codes[1]}
    assert worker.client.post("/work/enrol/sheet", data={"csrf_token": csrf_token(html), **wrong}).status_code == 422
    clock.advance(hours=2)
    late = worker.client.post("/work/enrol/sheet", data={"csrf_token": csrf_token(html), **fields})
    assert late.status_code in (303, 422)  # signed out by then, or past the hour: no sheet either way
    assert not late.data.startswith(b"%PDF-")


def test_join_errors_say_what_to_do_and_create_nothing(app, services, clock):
    _, code = make_organisation(services, "Les Lilas")
    browser = Browser(app.test_client())
    for fields, expected in [({"invitation": ""}, "Type the invitation code"),
                             ({"invitation": "ABCD"}, "does not work"),
                             ({"password": "short"}, "too short"),
                             ({"username": "A B"}, "A username has 3 to 32 characters")]:
        data = {"invitation": code, "username": "nadia.b", "password": PASSWORD, **fields}
        answer = browser.post_form("/staff/join", data)
        assert answer.status_code == 422
        assert any(expected in line for line in summary(answer.get_data(as_text=True))), summary(answer.get_data(as_text=True))
    assert count(app, Account) == 0
    assert join(app, clock, code, "nadia.b")


def test_purposes_are_chosen_with_checkboxes_and_other_text(app, services, clock):
    _, code = make_organisation(services, "Les Lilas")
    admin = join(app, clock, code, "nadia.b")
    refused = admin.post_form("/organisation/purposes", {"purpose-0": "caf_rsa", "purpose-6": "other"})
    assert refused.status_code == 422 and "For « Other »" in summary(refused.get_data(as_text=True))[0]
    saved = admin.post_form("/organisation/purposes", {"purpose-0": "caf_rsa", "purpose-6": "other",
                                                       "other_text": "Aide alimentaire"})
    assert saved.status_code == 303
    page = admin.get("/organisation").get_data(as_text=True)
    assert "CAF or RSA file" in page and "Aide alimentaire" in page


def test_a_person_follows_and_stops_following_in_plain_words(app, services, clock):
    organisation_id, _ = make_organisation(services, "Les Lilas")
    person = Browser(app.test_client())
    person.enrol("amina")
    page = person.get("/settings/organisations").get_data(as_text=True)
    assert "sees no paper without your consent" in page and "Les Lilas" in page
    assert person.post_form("/settings/organisations", {"organisation": organisation_id},
                            to="/settings/organisations/follow").status_code == 303
    page = person.get("/settings/organisations").get_data(as_text=True)
    assert "now follows you" in page and "stay shared until you end each share" in page
    follow_id = re.search(r"/settings/organisations/([0-9a-f-]{36})/end", page).group(1)
    assert person.post_form("/settings/organisations", {}, to=f"/settings/organisations/{follow_id}/end").status_code == 303
    assert "no longer follows you" in person.get("/settings/organisations").get_data(as_text=True)
    assert count(app, Share) == 0
    # Person-only pages refuse staff, and staff pages refuse people, without a dead end.
    assert person.get("/work").status_code == 303
    assert person.get("/organisation").status_code == 403
