"""An application on the test's database and store, and a small client speaking the public contract."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import func, select

from vault.models import Document
from web.app import create_app

PASSWORD = "cheval-lune-tambour-9"


@pytest.fixture
def app(settings, clock):
    return create_app(settings, clock=clock)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Person:
    id: str
    username: str
    password: str
    recovery_codes: list[str]
    token: str | None = None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """Calls the JSON API exactly as a partner would (through HTTP, not through our services)."""

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def enrol(self, username: str = "amina", password: str = PASSWORD, **extra) -> Person:
        response = self.client.post("/api/v1/people", json={"username": username, "password": password, **extra})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return Person(body["id"], body["username"], password, body["recovery_codes"])

    def sign_in(self, person: Person, **extra):
        return self.client.post("/api/v1/sessions",
                                json={"username": person.username, "password": person.password, **extra})

    def person(self, username: str = "amina") -> Person:
        person = self.enrol(username)
        response = self.sign_in(person)
        assert response.status_code == 201, response.get_json()
        person.token = response.get_json()["token"]
        return person

    def upload(self, person: Person, files: list[tuple[bytes, str]], kind: str = "carte_identite", **fields):
        data = {"kind": kind, **fields,
                "file": [(io.BytesIO(content), name) for content, name in files]}
        return self.client.post("/api/v1/documents", data=data, headers=person.auth,
                                content_type="multipart/form-data")

    def document_rows(self) -> int:
        services = self.app.extensions["consigne"]
        with services.session_factory() as session:
            return session.scalar(select(func.count()).select_from(Document))

    def blobs(self) -> list[str]:
        return list(self.app.extensions["consigne"].store.list(""))


@pytest.fixture
def api(client, app):
    return Api(client, app)


def totp_now(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock())
