"""TLS in front: Caddy (ops/serving/Caddyfile, as docker-compose.yml runs it) → nginx → gunicorn.

For https://localhost Caddy issues its certificate from a local authority, so the test needs no network;
for a real domain the same file gets one from Let's Encrypt. Debian's ``caddy`` package: missing, the
test skips outside CI and fails in CI (tests/lanes.py).
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
from collections.abc import Iterator

import pytest

from ops.serving.loopback import TlsProxy, running_caddy, running_stack
from tests.lanes import missing
from tests.serving.clients import multipart_upload, photo_of_size
from tests.serving.conftest import serving_environment


@pytest.fixture(scope="module")
def tls(tmp_path_factory, nginx_program) -> Iterator[TlsProxy]:
    caddy = shutil.which("caddy")
    if caddy is None:
        missing("caddy", "apt-get install caddy")
    folder = tmp_path_factory.mktemp("tls")
    # Two proxies in front now (Caddy, then nginx): the application trusts two X-Forwarded-For hops.
    environment = serving_environment(folder, CONSIGNE_TRUSTED_PROXIES="2")
    with running_stack(environment, folder=folder / "stack", nginx=nginx_program) as stack, \
            running_caddy(stack.proxy.url.removeprefix("http://"), caddy=caddy, folder=folder / "caddy") as proxy:
        yield proxy


def _connection(proxy: TlsProxy) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(proxy.root_certificate))
    port = int(proxy.url.rsplit(":", 1)[1])
    return http.client.HTTPSConnection("localhost", port, context=context, timeout=60)


def test_the_site_answers_over_tls_with_a_certificate_for_its_name(tls):
    connection = _connection(tls)
    try:
        connection.request("GET", "/ready")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["status"] == "ready"
        assert connection.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        connection.close()
    # A client that does not trust the certificate is refused: it is a real TLS certificate check.
    untrusting = http.client.HTTPSConnection("localhost", int(tls.url.rsplit(":", 1)[1]),
                                             context=ssl.create_default_context(), timeout=10)
    with pytest.raises(ssl.SSLError):
        untrusting.request("GET", "/ready")
    untrusting.close()


def test_plain_http_is_sent_to_https(tls):
    port = int(tls.http_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/papers?x=1", headers={"Host": "localhost"})
        response = connection.getresponse()
        assert response.status in (301, 308)
        # https, same host and path (Caddy names no port in the redirect: in production it is 443).
        assert response.getheader("Location") in (f"https://localhost/papers?x=1", f"{tls.url}/papers?x=1")
    finally:
        connection.close()


def test_a_photo_goes_through_tls_and_both_proxies(tls):
    def call(method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
        connection = _connection(tls)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    account = json.dumps({"username": "par.tls", "password": "banc-essai-mesure-77"}).encode()
    assert call("POST", "/api/v1/people", account, {"Content-Type": "application/json"})[0] == 201
    status, session = call("POST", "/api/v1/sessions", account, {"Content-Type": "application/json"})
    assert status == 201
    content_type, body = multipart_upload({"kind": "carte_identite"}, "photo.jpg", "image/jpeg",
                                          photo_of_size(2 * 1024 * 1024))
    status, paper = call("POST", "/api/v1/documents", body,
                         {"Content-Type": content_type, "Authorization": f"Bearer {session['token']}"})
    assert status == 201, paper
