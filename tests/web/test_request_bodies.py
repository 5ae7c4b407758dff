"""JSON request bodies: small, shallow and well formed, or a clear 4xx problem before any work.

Threat: an anonymous client posting a 50 MiB JSON string to the sign-in endpoint made the worker read
and parse all of it (+186 MiB), and an array nested 990 deep crashed the JSON decoder (500). The limit
must hold before the body is read, also when the body comes in chunks without a Content-Length.
"""

from __future__ import annotations

import io
import socket
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.web.conftest import PASSWORD
from vault.models import Account
from web.api.registry import JSON_BODY_LIMIT, MAX_JSON_DEPTH

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}
FIFTY_MIB = 50 * 1024 * 1024


class EndlessJson(io.RawIOBase):
    """A request body of ``size`` bytes (a JSON string) that counts how much of it the server read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.consumed)
        if self.consumed == 0 and count:
            buffer[:1] = b'"'
            buffer[1:count] = b"a" * (count - 1)
        else:
            buffer[:count] = b"a" * count
        self.consumed += count
        return count


def accounts(app) -> int:
    with app.extensions["consigne"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(Account))


def test_a_50_mib_json_body_is_refused_before_it_is_read(client):
    body = EndlessJson(FIFTY_MIB)
    response = client.post("/api/v1/sessions", content_type="application/json", headers=ENGLISH,
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(FIFTY_MIB)})
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "request_too_large"
    assert response.get_json()["title"] == "What you sent is too large."
    assert body.consumed == 0


def test_a_chunked_json_body_stops_being_read_at_the_limit(client):
    # No Content-Length: the server (gunicorn, Werkzeug's) de-chunks and marks the stream terminated.
    body = EndlessJson(FIFTY_MIB)
    response = client.post("/api/v1/people", content_type="application/json", headers=ENGLISH,
                           environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.consumed <= JSON_BODY_LIMIT + 64 * 1024


def test_a_chunked_body_over_a_real_http_connection_gets_413(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Content-Type: application/json\r\nAccept-Language: en\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"a" * 8192
            sent = 0
            try:
                connection.sendall(b'2000\r\n"' + chunk[1:] + b"\r\n")
                while sent < 4 * 1024 * 1024:  # bounded: far past the limit, far below the old harm
                    connection.sendall(b"2000\r\n" + chunk + b"\r\n")
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed without reading the rest: what we want
            answer = b""
            try:
                while b"\r\n\r\n" not in answer and len(answer) < 65536:
                    received = connection.recv(4096)
                    if not received:
                        break
                    answer += received
            except ConnectionResetError:
                pass
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 20_000])
def test_deeply_nested_json_is_a_400_problem_not_a_crash(client, app, depth):
    body = '{"username": "nadia", "password": ' + "[" * depth + "]" * depth + "}"
    assert len(body) < JSON_BODY_LIMIT
    response = client.post("/api/v1/people", data=body, content_type="application/json", headers=ENGLISH)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "bad_request"
    assert response.get_json()["title"] == "The request is not understood."
    assert accounts(app) == 0


@pytest.mark.parametrize("body", [
    b"{not json", b'{"username": "nadia", "password": "x"', b"", b"\xff\xfe{}", b'{"password": NaN}',
    b'{"password": Infinity}', b'{"username": "' + b"\xc3" + b'"}', b'{"password": ' + b"1" * 5000 + b"}",
])
def test_malformed_json_is_a_400_problem(client, app, body):
    response = client.post("/api/v1/people", data=body, content_type="application/json", headers=ENGLISH)
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_request"
    assert accounts(app) == 0


def test_the_problem_is_in_the_requests_language(client, app):
    translator = app.extensions["consigne"].translator
    response = client.post("/api/v1/people", data="[" * 990, content_type="application/json",
                           headers={"Accept-Language": "ar"})
    assert response.status_code == 400
    assert response.headers["Content-Language"] == "ar"
    assert response.get_json()["title"] == translator.translate("ar", "The request is not understood.")
    assert response.get_json()["title"] != "The request is not understood."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_endpoint_refuses_other_content_types_with_415(client, app, content_type):
    headers = dict(ENGLISH)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/people", data=f'{{"username": "nadia", "password": "{PASSWORD}"}}',
                           headers=headers)
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media"
    assert accounts(app) == 0


def test_a_small_well_formed_body_still_works(client, app):
    response = client.post("/api/v1/people", json={"username": "nadia", "password": PASSWORD}, headers=ENGLISH)
    assert response.status_code == 201
    assert accounts(app) == 1


def test_the_limit_is_exact(client):
    # A body of exactly the limit reaches validation (a 422 naming the field); one byte more is a 413.
    def body_of(size: int) -> str:
        frame = '{"username": "nadia", "password": ""}'
        return frame.replace('""', '"' + "p" * (size - len(frame)) + '"')

    at_limit = client.post("/api/v1/people", data=body_of(JSON_BODY_LIMIT), content_type="application/json")
    assert at_limit.status_code == 422
    assert at_limit.get_json()["errors"] == [{"field": "password", "problem": "string_too_long"}]
    over = client.post("/api/v1/people", data=body_of(JSON_BODY_LIMIT + 1), content_type="application/json")
    assert over.status_code == 413
